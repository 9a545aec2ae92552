// Reading a cache file in Node: the file's bytes go straight into wasm memory (fs.readSync into a
// view of the input region), then the core parses them in place. No other copy is made.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { LdCacheError } from '../core/errors.js';
import { acquireInput, memoryView } from '../core/input-region.js';
import type { ParsedLdCache } from '../core/ldcache.js';
import { callCore, parseLdCacheInPlace } from '../core/parse.js';
import { createLdCacheParser, parseLdCacheStream } from '../core/stream.js';
import { RootFs, RootFsError } from './rootfs.js';

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

/**
 * The largest cache file read: far beyond any real one (a Debian system with every library
 * package installed has under 1 MiB; 1,000,000 entries with 100-byte paths are ~140 MiB), and
 * small enough that reading it never exhausts memory. Larger files are refused, unread.
 */
export const MAX_CACHE_BYTES = 256 << 20;

/** Bytes read before anything else: enough for either magic, so a file that is no cache fails unread. */
const HEAD_BYTES = 64;

function tooLarge(size: number | string, file: string): LdCacheError {
  return new LdCacheError('TOO_LARGE', `${size} bytes: larger than any ld.so.cache (the limit is ${MAX_CACHE_BYTES} bytes)`, 0, file);
}

/** A RootFsError as a READ_FAILED LdCacheError naming `file` (the root joined with the path). */
function rootError(err: unknown, file: string): unknown {
  if (!(err instanceof RootFsError)) return err;
  return new LdCacheError('READ_FAILED', err.message.startsWith(`${err.path}: `) ? err.message.slice(err.path.length + 2) : err.message, 0, file);
}

/** Reads until `length` bytes are in at `address` or the file ends; returns the bytes read. */
function readInto(fd: number, address: number, length: number): number {
  let done = 0;
  while (done < length) {
    // A fresh view per call: nothing grows memory here, but views are cheap and always valid.
    const n = readSync(fd, memoryView(address + done, length - done), 0, length - done, done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Files whose size stat does not tell (pipes, character devices, /proc files that say 0): read
 * in chunks through the streaming parser, which checks the magic on the first bytes; at most
 * MAX_CACHE_BYTES, so an endless source (a device, a writer that never stops) ends too.
 */
function readUnsized(fd: number, file: string): ParsedLdCache {
  const parser = createLdCacheParser({ file });
  const chunk = new Uint8Array(64 * 1024);
  let total = 0;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    total += n;
    if (total > MAX_CACHE_BYTES) throw tooLarge(`more than ${MAX_CACHE_BYTES}`, file);
    parser.push(chunk.subarray(0, n));
  }
  return parser.end();
}

/**
 * A regular file: its first bytes must start a cache magic (checked by the core before anything
 * else is read or reserved), its size must be within MAX_CACHE_BYTES, then it is read straight
 * into wasm memory and parsed in place. A file of size 0 (a /proc file) is read as a stream.
 */
function readSized(fd: number, file: string, size: number): ParsedLdCache {
  if (size === 0) return readUnsized(fd, file);
  const head = new Uint8Array(Math.min(size, HEAD_BYTES));
  const got = readSync(fd, head, 0, head.length, 0);
  // Throws BAD_MAGIC (with the byte offset) when these bytes cannot start a cache.
  createLdCacheParser({ file }).push(head.subarray(0, got));
  if (size > MAX_CACHE_BYTES) throw tooLarge(size, file);
  const address = callCore(file, () => acquireInput(size));
  const length = readInto(fd, address, size);
  // A file that shrank while being read is parsed as far as it goes.
  return parseLdCacheInPlace(length, file);
}

/** Parses the cache open at `fd` (not closed here), of any file type; `file` names it in errors. */
export function readLdCacheFd(fd: number, file: string): ParsedLdCache {
  return readFromFd(fd, file);
}

function readFromFd(fd: number, file: string): ParsedLdCache {
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    return stat.isFile() ? readSized(fd, file, stat.size) : readUnsized(fd, file);
  } catch (err) {
    throw readError(err, file);
  }
}

/**
 * Reads the cache at `path` inside a root through `fs` (links resolved inside the root,
 * O_NOFOLLOW, the checked inode): only a regular file. A FIFO, device or socket inside a root is
 * refused, never opened (opening a FIFO blocks until a writer comes). Throws RootFsError when
 * the file cannot be opened, LdCacheError (naming `file`) when it is no valid cache.
 */
export function readLdCacheInRoot(fs: RootFs, path: string, file = fs.hostPath(path)): ParsedLdCache {
  const { fd } = fs.open(path);
  try {
    return readFromFd(fd, file);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and parses a cache synchronously: `/etc/ld.so.cache` by default, a path, or
 * `{ root }` for `ROOT/etc/ld.so.cache` (`{ root, path }`: any file), resolved inside the root
 * as chroot would and only when it is a regular file. A path given directly may be a pipe
 * (`<(cat FILE)`) or a /proc file. Files over MAX_CACHE_BYTES are refused (TOO_LARGE) after
 * their magic is checked. Every failure is an LdCacheError naming the file.
 */
export function readLdCache(target: ReadCacheTarget = DEFAULT_CACHE_PATH): ParsedLdCache {
  const file = cachePathOf(target);
  if (typeof target !== 'string') {
    try {
      return readLdCacheInRoot(new RootFs(target.root), target.path ?? DEFAULT_CACHE_PATH, file);
    } catch (err) {
      throw rootError(err, file);
    }
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw readError(err, file);
  }
  try {
    return readFromFd(fd, file);
  } finally {
    closeSync(fd);
  }
}

/** Chunks of `source`, failing once more than MAX_CACHE_BYTES came. */
async function* bounded(source: AsyncIterable<Uint8Array>, file: string): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > MAX_CACHE_BYTES) throw tooLarge(`more than ${MAX_CACHE_BYTES}`, file);
    yield chunk;
  }
}

/** Reads and parses a cache through a read stream and the incremental parser (same rules as readLdCache). */
export async function readLdCacheStream(target: ReadCacheTarget = DEFAULT_CACHE_PATH): Promise<ParsedLdCache> {
  const file = cachePathOf(target);
  let fd: number;
  if (typeof target === 'string') {
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw readError(err, file);
    }
  } else {
    try {
      fd = new RootFs(target.root).open(target.path ?? DEFAULT_CACHE_PATH).fd;
    } catch (err) {
      throw rootError(err, file);
    }
  }
  let sizeHint: number | undefined;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (stat.isFile() && stat.size > 0) {
      // The magic first, then the size: neither reads nor reserves more than the head.
      const head = new Uint8Array(Math.min(stat.size, HEAD_BYTES));
      createLdCacheParser({ file }).push(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
      if (stat.size > MAX_CACHE_BYTES) throw tooLarge(stat.size, file);
      sizeHint = stat.size;
    }
  } catch (err) {
    closeSync(fd);
    throw readError(err, file);
  }
  const stream = createReadStream(file, { fd, highWaterMark: 256 * 1024 });
  try {
    return await parseLdCacheStream(bounded(stream, file), { file, sizeHint });
  } catch (err) {
    if (err instanceof LdCacheError) throw err;
    throw readError(err, file);
  } finally {
    stream.destroy();
  }
}
