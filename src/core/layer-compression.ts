// A layer's tar bytes from its stored blob: gzip is decompressed through the Gunzip the caller
// gives (webGunzip here for browsers and Node 20+, node:zlib on the Node side), plain tar passes
// as is, zstd is refused with a way out. Both readers word these refusals the same. Browser-safe.
import { isGzip, isZstd, peek } from './archive-sniff.js';
import { ImageError, type BlobStore, type Gunzip } from './image-types.js';

/** The refusal of a gzip layer when no decompressor was given. */
export const noGunzipError = (label: string): ImageError => new ImageError(`${label}: gzip layer, but no gzip decompressor is available`);

/** The refusal of a zstd layer. */
export const zstdLayerError = (label: string): ImageError =>
  new ImageError(`${label}: zstd-compressed layer: not supported (re-save the image with gzip or uncompressed layers, e.g. docker save from Docker, podman save --format docker-archive)`);

/** The layer's bytes, decompressed when they are gzip; zstd and other compressions are an error. */
export async function* layerBytes(store: BlobStore, path: string, label: string, gunzip: Gunzip | undefined): AsyncGenerator<Uint8Array> {
  const { head, stream } = await peek(store.stream(path), 4);
  if (isGzip(head)) {
    if (!gunzip) throw noGunzipError(label);
    yield* gunzip(stream);
    return;
  }
  if (isZstd(head)) throw zstdLayerError(label);
  yield* stream;
}

/** Gzip through the standard DecompressionStream (browsers, Node 20+). */
export const webGunzip: Gunzip = async function* (input) {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const pump = (async () => {
    try {
      for await (const chunk of input) await writer.write(chunk as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => undefined);
    }
  })();
  const reader = ds.readable.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
    finished = true;
  } finally {
    // A consumer that stops early (a damaged layer) cancels the stream: a write waiting on it fails, the pump ends.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
    await pump;
  }
};
