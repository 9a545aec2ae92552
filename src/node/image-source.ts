// Opens a saved image for the core's reader: a tar file (docker save, podman save) read through
// positioned reads, or an OCI image-layout directory whose blobs are read inside the directory
// (links resolved as chroot would, never leaving it); a gzip-compressed archive read front to back
// by the core's one-pass reader. Gzip layers go through node:zlib.
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { loadImage, tarBlobStore } from '../core/image-archive.js';
import { ImageError, type BlobStore, type Gunzip, type LoadedImage, type LoadImageOptions } from '../core/image-types.js';
import { loadImageStream } from '../core/image-stream.js';
import { RootFs, RootFsError } from './rootfs.js';

/** Gzip with node:zlib (the same library zcat uses). */
export const nodeGunzip: Gunzip = (input) => {
  const gunzip = createGunzip({ chunkSize: 256 << 10 });
  const source = Readable.from(input, { objectMode: false });
  source.on('error', (err) => gunzip.destroy(err));
  return source.pipe(gunzip) as AsyncIterable<Uint8Array>;
};

function fileRead(fd: number, size: number) {
  return async (offset: number, length: number): Promise<Uint8Array> => {
    const want = Math.max(0, Math.min(length, size - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === want ? buf : buf.subarray(0, got);
  };
}

function dirStore(dir: string): BlobStore {
  let fs: RootFs;
  try {
    fs = new RootFs(dir);
  } catch (err) {
    throw new ImageError(err instanceof Error ? err.message : String(err));
  }
  const open = (path: string): { fd: number; size: number } | null => {
    try {
      const { fd } = fs.open(path);
      return { fd, size: fstatSync(fd).size };
    } catch (err) {
      if (err instanceof RootFsError) return null;
      throw err;
    }
  };
  return {
    name: dir,
    size(path) {
      const f = open(path);
      if (!f) return null;
      closeSync(f.fd);
      return f.size;
    },
    async read(path, max) {
      const f = open(path);
      if (!f) throw new ImageError(`${dir}: no '${path}' in the directory`);
      try {
        if (f.size > max) throw new ImageError(`${dir}: '${path}' is ${f.size} bytes, more than the ${max} allowed`);
        return await fileRead(f.fd, f.size)(0, f.size);
      } finally {
        closeSync(f.fd);
      }
    },
    async *stream(path) {
      const f = open(path);
      if (!f) throw new ImageError(`${dir}: no '${path}' in the directory`);
      try {
        const read = fileRead(f.fd, f.size);
        for (let at = 0; at < f.size; at += 1 << 20) yield await read(at, 1 << 20);
      } finally {
        closeSync(f.fd);
      }
    },
  };
}

/** Opens an image archive or OCI layout directory as a BlobStore; `close` releases it. */
export async function openImageStore(path: string): Promise<{ store: BlobStore; close: () => void }> {
  let stats;
  try {
    stats = statSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ImageError(`${path}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
  if (stats.isDirectory()) return { store: dirStore(path), close: () => undefined };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new ImageError(`${path}: ${(err as Error).message}`);
  }
  const size = fstatSync(fd).size;
  const read = fileRead(fd, size);
  try {
    const head = await read(0, 4);
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) throw new ImageError(`${path}: a zstd-compressed archive: decompress it first (zstd -d ${path})`);
    return { store: await tarBlobStore({ size, read }, path), close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Neither a regular file nor a directory (a pipe, a FIFO, a character device): only readable front to back. */
function isPipeLike(path: string): boolean {
  try {
    const stats = statSync(path);
    return !stats.isFile() && !stats.isDirectory();
  } catch {
    return false; // openImageStore says why
  }
}

/** A gzip-compressed archive (`docker save | gzip`): only readable front to back. */
function isGzipFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false; // openImageStore says why
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Reads the image (the one named by `ref` in a multi-image archive) into a merged tree. */
export async function readImage(path: string, options: Omit<LoadImageOptions, 'gunzip'> = {}): Promise<LoadedImage> {
  // A compressed archive cannot be read at random, nor can a pipe (`--image /dev/stdin`,
  // `<(docker save …)`, a FIFO: its size is 0, and opening it twice would lose what the first open
  // read): one pass through the core's stream reader.
  if (isPipeLike(path) || isGzipFile(path)) return loadImageStream(createReadStream(path, { highWaterMark: 1 << 20 }), path, { ...options, gunzip: nodeGunzip });
  const { store, close } = await openImageStore(path);
  try {
    return await loadImage(store, { ...options, gunzip: nodeGunzip });
  } finally {
    close();
  }
}
