// A saved container image dropped on the page: read without extracting it (File.slice for the
// archive's members, DecompressionStream for gzip layers), its /etc/ld.so.cache shown like any
// cache, and the image's findings computed in the page. Nothing leaves the page.
import { ImageError, loadImage, tarBlobStore, webGunzip, type LoadedImage } from '../core/image-archive.js';
import { parseLdCache } from '../core/parse.js';
import { init } from '../core/wasm.js';
import type { LoadedCache } from './load-cache.js';
import { LoadError } from './load-cache.js';

export interface LoadedImageCache extends LoadedCache {
  readonly image: LoadedImage;
}

/** A tar archive (ustar magic at 257) rather than a cache. */
export async function isImageArchive(file: File): Promise<boolean> {
  if (file.size < 512) return false;
  const head = new Uint8Array(await file.slice(257, 262).arrayBuffer());
  return String.fromCharCode(...head) === 'ustar';
}

export async function loadImageFile(file: File): Promise<LoadedImageCache> {
  const started = performance.now();
  await init();
  let image: LoadedImage;
  try {
    const store = await tarBlobStore({ size: file.size, read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()) }, file.name);
    image = await loadImage(store, { gunzip: webGunzip });
  } catch (err) {
    throw new LoadError(err instanceof ImageError ? err.message : `${file.name}: cannot read the image (${err instanceof Error ? err.message : String(err)})`);
  }
  const found = image.tree.tryResolve('/etc/ld.so.cache');
  if (!found || found.node.kind !== 'file' || !found.node.content || found.node.partial) throw new LoadError(`${file.name}: no /etc/ld.so.cache in the image`);
  try {
    const cache = parseLdCache(found.node.content);
    return { cache, fileName: `${file.name}:/etc/ld.so.cache`, fileSize: found.node.size, parseMs: performance.now() - started, image };
  } catch (err) {
    throw new LoadError(err instanceof Error && 'describe' in err ? (err as { describe(f: string): string }).describe(`${file.name}:/etc/ld.so.cache`) : String(err));
  }
}
