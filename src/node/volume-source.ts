// Opens the driver's files for `create` without any check-then-use window (the CVE-2024-0132
// class). Node has no openat(2), but /proc/self/fd/N/NAME is the same lookup: the magic link to
// the already-opened directory N is followed (to that very directory, wherever it is now), NAME
// is not. So the root is opened once, then every component of the file's resolved path is opened
// beneath the one before with O_NOFOLLOW (and O_DIRECTORY for directories). Whatever is swapped
// in meanwhile (a symlink for the file or for a directory on its path) makes the open fail: the
// descriptor in hand is always a file inside the root, and `create` copies from it, or hard-links
// the name inside its exact parent directory and checks that the link is that inode.
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { errnoText, HostError } from './errors.js';
import { errorCode } from './volume-fs.js';

/** Driver libraries are at most a few hundred MB (libcuda, rtcore, nvvm); anything larger is refused. */
export const MAX_DRIVER_FILE_BYTES = 2 * 1024 ** 3;

/** The path that reaches `name` inside the directory open as `fd` (or the fd's own file). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO swapped in opens at once (and is then refused as not a regular file).
const FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export interface OpenedSource {
  /** The driver file, open for reading. */
  file: FileHandle;
  /** fstat of `file`: the inode every placement must be. */
  stats: Stats;
  /** The directory holding it, open: `fdPath(parent.fd, name)` names exactly this file's entry. */
  parent: FileHandle;
  name: string;
  close(): Promise<void>;
}

/** The driver root, open as a directory; proves that /proc/self/fd works (else refuses, saying why). */
export async function openRoot(root: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(root, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw new HostError(errorCode(err) || 'EIO', root, `cannot open the driver root: ${errnoText(errorCode(err) || 'EIO')}`);
  }
  try {
    const [own, viaProc] = await Promise.all([handle.stat(), stat(fdPath(handle.fd))]);
    if (own.ino !== viaProc.ino || own.dev !== viaProc.dev) throw new HostError('ECHANGED', root, 'it names another directory');
  } catch (err) {
    await handle.close();
    const why = err instanceof HostError ? err.reason : errnoText(errorCode(err) || 'EIO');
    throw new HostError('ENOPROC', root, `/proc/self/fd is not usable (${why}); create needs /proc mounted to open the driver files race-free`);
  }
  return handle;
}

function refusal(source: string, inside: string, err: unknown, isLast: boolean): HostError {
  const code = errorCode(err);
  const what = isLast ? inside : `${inside} (on the path)`;
  // O_NOFOLLOW|O_DIRECTORY answers ENOTDIR for a symlink, O_NOFOLLOW alone ELOOP.
  if (code === 'ELOOP') return new HostError('ECHANGED', source, `${what} is a symbolic link now (it changed after discovery); refusing to follow it`);
  if (code === 'ENOTDIR') {
    return new HostError('ECHANGED', source, `${what} is ${isLast ? 'under a non-directory' : 'a symbolic link or not a directory'} now (it changed after discovery); refusing to follow it`);
  }
  if (code === 'ENOENT') return new HostError('ECHANGED', source, `${what} disappeared after discovery`);
  return new HostError(code || 'EIO', source, `cannot open ${what}: ${errnoText(code || 'EIO')}`);
}

/**
 * Opens `inside` (a resolved path inside the root: no links, no `..`) beneath the open root, one
 * component at a time. Refuses a link met anywhere, a non-regular file, and a file over
 * MAX_DRIVER_FILE_BYTES. `source` names the file in messages.
 */
export async function openSource(root: FileHandle, inside: string, source: string): Promise<OpenedSource> {
  const parts = inside.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new HostError('INTERNAL', source, 'not a resolved path inside the root');
  let dir = root;
  let walked = '';
  const closeDir = async (): Promise<void> => {
    if (dir !== root) await dir.close();
  };
  try {
    for (const part of parts.slice(0, -1)) {
      walked += `/${part}`;
      let next: FileHandle;
      try {
        next = await open(fdPath(dir.fd, part), DIRECTORY);
      } catch (err) {
        throw refusal(source, walked, err, false);
      }
      await closeDir();
      dir = next;
    }
    const name = parts.at(-1)!;
    let file: FileHandle;
    try {
      file = await open(fdPath(dir.fd, name), FILE);
    } catch (err) {
      throw refusal(source, inside, err, true);
    }
    const stats = await file.stat();
    const problem = !stats.isFile()
      ? `${inside} is not a regular file`
      : stats.size > MAX_DRIVER_FILE_BYTES
        ? `${stats.size} bytes, far beyond any real driver library (limit ${MAX_DRIVER_FILE_BYTES / 1024 ** 3} GiB); refusing to put it into a volume`
        : null;
    if (problem !== null) {
      await file.close();
      throw new HostError(stats.isFile() ? 'EFBIG' : 'ENOTREG', source, problem);
    }
    // The parent stays open: a hard link is made through it (the root handle is shared, never closed here).
    const parent = dir === root ? await open(fdPath(root.fd), constants.O_RDONLY | constants.O_DIRECTORY) : dir;
    dir = root;
    return {
      file, stats, parent, name,
      close: async () => {
        await Promise.allSettled([file.close(), parent.close()]);
      },
    };
  } catch (err) {
    await closeDir();
    throw err;
  }
}
