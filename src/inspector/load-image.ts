// A saved container image dropped on the page: read in one pass from the File's stream() (gzip
// layers, and a gzip-compressed archive, through DecompressionStream), never extracted and never
// held whole (see src/core/stream-member.ts for what is kept). Its /etc/ld.so.cache is shown like
// any cache, and the image's findings are computed in the page. Nothing leaves the page.
import { looksLikeImageArchive, peek } from '../core/archive-sniff.js';
import { loadImageStream } from '../core/image-stream.js';
import { ImageError, type LoadedImage } from '../core/image-types.js';
import { webGunzip } from '../core/layer-compression.js';
import { parseLdCache } from '../core/parse.js';
import { init } from '../core/wasm.js';
import type { LoadedCache } from './load-cache.js';
import { LoadError } from './load-cache.js';

export interface LoadedImageCache extends LoadedCache {
  readonly image: LoadedImage;
}

/** A file's stream, its first bytes already read (to tell an image from a cache), not yet consumed. */
export interface OpenedStream {
  head: Uint8Array;
  chunks: AsyncIterable<Uint8Array>;
  cancel(): Promise<void>;
}

/** Opens the file's one stream and reads its first `want` bytes (fewer when the file is shorter). */
export async function openStream(file: File, want = 512): Promise<OpenedStream> {
  const reader = file.stream().getReader();
  const all = (async function* (): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      reader.releaseLock();
    }
  })();
  const { head, stream } = await peek(all, want);
  return { head, chunks: stream, cancel: () => reader.cancel().catch(() => undefined) };
}

/** A tar archive (ustar magic at 257) or a gzip stream (a compressed archive) rather than a cache. */
export function isImageHead(head: Uint8Array): boolean {
  return looksLikeImageArchive(head);
}

export async function loadImageFile(file: File, opened: OpenedStream): Promise<LoadedImageCache> {
  const started = performance.now();
  await init();
  let image: LoadedImage;
  try {
    image = await loadImageStream(opened.chunks, file.name, { gunzip: webGunzip });
  } catch (err) {
    await opened.cancel();
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
