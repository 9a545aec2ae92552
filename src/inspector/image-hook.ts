// The page's hook for images: among the chosen files, a saved image (tar) and optionally a host's
// discovery JSON. Returns null when no image was chosen (the page then treats the files as caches).
import { byId } from './dom.js';
import { imageReport, isDiscoveryJson, renderImageFindings, type DiscoveryJson } from './image-findings.js';
import { isImageHead, loadImageFile, openStream, type OpenedStream } from './load-image.js';
import type { LoadedCache } from './load-cache.js';
import { LoadError } from './load-cache.js';

export interface OpenedImage {
  loaded: LoadedCache;
  /** Fills the Image tab (call after the cache views are shown). */
  showFindings(): void;
}

export async function openImage(files: readonly File[]): Promise<OpenedImage | null> {
  let imageFile: File | undefined;
  let opened: OpenedStream | undefined;
  for (const f of files) {
    if (imageFile || /\.json$/i.test(f.name)) continue;
    // One stream per file: its first bytes tell an image; an image is then read on from there.
    const stream = await openStream(f);
    if (isImageHead(stream.head)) {
      imageFile = f;
      opened = stream;
    } else await stream.cancel();
  }
  if (!imageFile || !opened) return null;
  let host: DiscoveryJson | null = null;
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
      await opened.cancel();
      throw new LoadError(`${f.name}: not a discovery JSON (nvidia-volume discover --json)`);
    }
  }
  const loaded = await loadImageFile(imageFile, opened);
  const report = imageReport(loaded.image, host);
  return {
    loaded,
    showFindings() {
      const tab = byId('tab-image');
      tab.hidden = false;
      tab.textContent = report.ok ? 'Image' : `Image (${report.findings.filter((f) => f.severity === 'error').length} errors)`;
      renderImageFindings(byId('panel-image'), report, hostName, host);
    },
  };
}

/** Hides the Image tab when a plain cache is shown. */
export function hideImageTab(): void {
  byId('tab-image').hidden = true;
  byId('panel-image').replaceChildren();
}
