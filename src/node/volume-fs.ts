// Filesystem rules of the volumes directory. DIR itself is chosen by the administrator and is
// resolved once (realpath); everything below it is built from that resolved path and checked with
// lstat, so a symlink planted inside DIR (as `nvidia_driver`, a version directory, the state file)
// is refused or replaced, never followed. Writes use O_EXCL or rename, never open-and-truncate.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError, hostErrorFrom } from './errors.js';
import { makeDirectories } from './make-dirs.js';

export const DEFAULT_VOLUMES_DIR = '/var/lib/nvidia-docker/volumes';
/** The volume name, as v1: `<volumes dir>/nvidia_driver/<version>/`. */
export const VOLUME_NAME = 'nvidia_driver';
/** Names of work directories beside the versions: `.tmp-` while building, `.old-` while deleting. */
const WORK_PREFIXES = ['.tmp-', '.old-'];
/** A work directory older than this belongs to a dead run even if its pid was reused. */
const STALE_AFTER_MS = 10 * 60_000;

/** The errno code of a failed fs call ('' when it has none). */
export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? '';
}

export async function lstatOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return null;
    throw err;
  }
}

/** Returns DIR's real path (creating DIR when `create`); null when absent and not created. */
export async function resolveVolumesDir(dir: string, create?: true): Promise<string>;
export async function resolveVolumesDir(dir: string, create: boolean): Promise<string | null>;
export async function resolveVolumesDir(dir: string, create = true): Promise<string | null> {
  if (!create && (await lstatOrNull(dir)) === null) return null;
  try {
    if (create) await makeDirectories(dir, 0o755);
    const real = await realpath(dir);
    if (!(await stat(real)).isDirectory()) throw new HostError('ENOTDIR', dir, 'not a directory');
    return real;
  } catch (err) {
    const cause = hostErrorFrom(err, dir);
    throw new HostError(cause.code, dir, `cannot use as volumes directory: ${cause.path === dir ? cause.reason : cause.message}`);
  }
}

/** `DIR/nvidia_driver`, created as a real directory; a symlink or a file there is refused. */
export async function volumeBaseDir(realDir: string, create: boolean): Promise<string | null> {
  const base = join(realDir, VOLUME_NAME);
  let info = await lstatOrNull(base);
  if (info === null) {
    if (!create) return null;
    try {
      await mkdir(base, { mode: 0o755 });
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw hostErrorFrom(err, base, 'cannot create directory');
    }
    info = await lstat(base);
  }
  if (info.isSymbolicLink()) throw new HostError('ESYMLINK', base, 'is a symlink; refusing to follow it (remove it or choose another --dir)');
  if (!info.isDirectory()) throw new HostError('ENOTDIR', base, 'is not a directory');
  return base;
}

/** A fresh name for a work directory: `.tmp-<version>-<pid>-<random>`. */
export function workName(kind: 'tmp' | 'old', version: string): string {
  return `.${kind}-${version}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Whether process `pid` exists (EPERM: it does, owned by another user). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/** Removes work directories left by runs that died (killed mid-build or mid-remove). */
export async function removeStaleWork(base: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(base)) {
    if (!WORK_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const match = /^\.(?:tmp|old)-.+-(\d+)-[0-9a-f]+$/.exec(name);
    const path = join(base, name);
    const info = await lstatOrNull(path);
    if (info === null) continue;
    const pid = match === null ? 0 : Number(match[1]);
    const dead = pid === 0 || !processAlive(pid) || Date.now() - info.mtimeMs > STALE_AFTER_MS;
    if (!dead) continue;
    await rm(path, { recursive: true, force: true }); // rm never follows symlinks inside
    removed.push(name);
  }
  return removed;
}

/** fsync a directory so that a rename in it survives a power cut. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

/** Reads a small regular file (not a symlink) as text; null when absent. */
export async function readSmallFile(path: string, limit = 4 << 20): Promise<string | null> {
  let handle;
  try {
    // O_NOFOLLOW: a symlink planted under this name fails here instead of being read through.
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    if (errorCode(err) === 'ELOOP') throw new HostError('ESYMLINK', path, 'is a symlink');
    throw hostErrorFrom(err, path, 'cannot open');
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new HostError('ENOTREG', path, 'is not a regular file');
    if (info.size > limit) throw new HostError('EFBIG', path, `larger than ${limit} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
