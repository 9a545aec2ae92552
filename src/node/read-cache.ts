// Reading a cache file in Node: the file's bytes go straight into wasm memory (fs.readSync into a
// view of the input region), then the core parses them in place. No other copy is made.
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LdCacheError } from '../core/errors.js';
import { acquireInput, memoryView } from '../core/input-region.js';
import type { ParsedLdCache } from '../core/ldcache.js';
import { callCore, parseLdCacheInPlace } from '../core/parse.js';
import { createLdCacheParser, parseLdCacheStream } from '../core/stream.js';

export const DEFAULT_CACHE_PATH = '/etc/ld.so.cache';

export type ReadCacheTarget = string | { root: string; path?: string };

const REASONS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
};

/** The file a target names: a plain path, or `ROOT/etc/ld.so.cache` (`ROOT/PATH`) joined without resolving links. */
export function cachePathOf(target: ReadCacheTarget): string {
  if (typeof target === 'string') return target;
  return join(target.root, target.path ?? DEFAULT_CACHE_PATH);
}

/** An fs error as a READ_FAILED LdCacheError naming the file, with a strerror-like reason. */
export function readError(err: unknown, file: string): LdCacheError {
  if (err instanceof LdCacheError) return err.file ? err : err.withFile(file);
  const code = (err as NodeJS.ErrnoException)?.code;
  const reason = (code && REASONS[code]) ?? (err instanceof Error ? err.message.split(',')[0] : String(err));
  return new LdCacheError('READ_FAILED', reason, 0, file);
}

/** Reads until `length` bytes are in at `address` or the file ends; returns the bytes read. */
function readInto(fd: number, address: number, length: number): number {
  let done = 0;
  while (done < length) {
    // A fresh view per call: nothing grows memory here, but views are cheap and always valid.
    const n = readSync(fd, memoryView(address + done, length - done), 0, length - done, null);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Files whose size stat does not tell (pipes, /proc): read in chunks through the streaming parser. */
function readUnsized(fd: number, file: string): ParsedLdCache {
  const parser = createLdCacheParser({ file });
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    parser.push(chunk.subarray(0, n));
  }
  return parser.end();
}

/**
 * Reads and parses a cache synchronously: `/etc/ld.so.cache` by default, a path, or
 * `{ root }` for `ROOT/etc/ld.so.cache`. Every failure is an LdCacheError naming the file.
 */
export function readLdCache(target: ReadCacheTarget = DEFAULT_CACHE_PATH): ParsedLdCache {
  const file = cachePathOf(target);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw readError(err, file);
  }
  try {
    let length: number;
    try {
      const stat = fstatSync(fd);
      if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      if (!stat.isFile()) return readUnsized(fd, file);
      const size = stat.size;
      const address = callCore(file, () => acquireInput(size));
      length = readInto(fd, address, size);
    } catch (err) {
      throw readError(err, file);
    }
    // A file that shrank while being read is parsed as far as it goes.
    return parseLdCacheInPlace(length, file);
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses a cache through a read stream and the incremental parser. */
export async function readLdCacheStream(target: ReadCacheTarget = DEFAULT_CACHE_PATH): Promise<ParsedLdCache> {
  const file = cachePathOf(target);
  let sizeHint: number | undefined;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (stat.isFile()) sizeHint = stat.size;
  } catch (err) {
    throw readError(err, file);
  }
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    return await parseLdCacheStream(stream, { file, sizeHint });
  } catch (err) {
    if (err instanceof LdCacheError) throw err;
    throw readError(err, file);
  } finally {
    stream.destroy();
  }
}
