// The page's hook for images: among the chosen files, a saved image (tar) and optionally a host's
// discovery JSON. Returns null when no image was chosen (the page then treats the files as caches).
import { byId } from './dom.js';
import { imageReport, isDiscoveryJson, renderImageFindings } from './image-findings.js';
import { isImageArchive, loadImageFile } from './load-image.js';
import type { LoadedCache } from './load-cache.js';
import { LoadError } from './load-cache.js';

export interface OpenedImage {
  loaded: LoadedCache;
  /** Fills the Image tab (call after the cache views are shown). */
  showFindings(): void;
}

export async function openImage(files: readonly File[]): Promise<OpenedImage | null> {
  let imageFile: File | undefined;
  for (const f of files) if (await isImageArchive(f)) imageFile ??= f;
  if (!imageFile) return null;
  let host = null;
  let hostName: string | null = null;
  for (const f of files) {
    if (f === imageFile || !/\.json$/i.test(f.name)) continue;
    try {
      const value: unknown = JSON.parse(await f.text());
      if (isDiscoveryJson(value)) {
        host = value;
        hostName = f.name;
      }
    } catch {
      throw new LoadError(`${f.name}: not a discovery JSON (nvidia-volume discover --json)`);
    }
  }
  const loaded = await loadImageFile(imageFile);
  const report = imageReport(loaded.image, host);
  return {
    loaded,
    showFindings() {
      const tab = byId('tab-image');
      tab.hidden = false;
      tab.textContent = report.ok ? 'Image' : `Image (${report.findings.filter((f) => f.severity === 'error').length} errors)`;
      renderImageFindings(byId('panel-image'), report, hostName);
    },
  };
}

/** Hides the Image tab when a plain cache is shown. */
export function hideImageTab(): void {
  byId('tab-image').hidden = true;
  byId('panel-image').replaceChildren();
}
