// The page's hook for images: among the chosen files, a saved image (tar) and optionally a host's
// discovery JSON, or a host's ld.so.cache (its driver as the cache alone shows it). Returns null
// when no image was chosen (the page then treats the files as caches).
import { hostDriverFromCache } from '../core/cache-host.js';
import { byId } from './dom.js';
import { imageReport, isDiscoveryJson, renderImageFindings, type DiscoveryJson } from './image-findings.js';
import { isImageHead, loadImageFile, openStream, type OpenedStream } from './load-image.js';
import type { LoadedCache } from './load-cache.js';
import { LoadError, loadCacheFile } from './load-cache.js';

export interface OpenedImage {
  loaded: LoadedCache;
  /** Fills the Image tab (call after the cache views are shown). */
  showFindings(): void;
}

export async function openImage(files: readonly File[]): Promise<OpenedImage | null> {
  let imageFile: File | undefined;
  let opened: OpenedStream | undefined;
  const others: File[] = [];
  for (const f of files) {
    if (imageFile || /\.json$/i.test(f.name)) {
      others.push(f);
      continue;
    }
    // One stream per file: its first bytes tell an image; an image is then read on from there.
    const stream = await openStream(f);
    if (isImageHead(stream.head)) {
      imageFile = f;
      opened = stream;
    } else {
      others.push(f);
      await stream.cancel();
    }
  }
  if (!imageFile || !opened) return null;
  let host: DiscoveryJson | null = null;
  let hostName: string | null = null;
  for (const f of others) {
    if (!/\.json$/i.test(f.name)) {
      // A host's ld.so.cache: its driver entries stand in for a discovery.
      try {
        host = hostDriverFromCache((await loadCacheFile(f)).cache);
      } catch (err) {
        await opened.cancel();
        throw err;
      }
      hostName = `${f.name} (a host's ld.so.cache: the driver's entries only, no file read, so no GLIBC_ check)`;
      continue;
    }
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
