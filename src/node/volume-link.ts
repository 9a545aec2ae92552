// Puts one driver file, already open (volume-source.ts), into a volume: a hard link where
// possible (no bytes copied, and the volume shares the driver's inode), else a reflink clone,
// else a copy that keeps holes as holes. Nothing is placed by a path that could have changed
// since the check: the link is made through the exact parent directory that was opened
// (`/proc/self/fd/P/NAME`; link(2) never follows NAME) and the placed inode must be the opened
// one, else it is removed and `create` refuses; clones and copies read the open descriptor. The
// destination is always a fresh name in a directory this process created (O_EXCL semantics:
// link(2), COPYFILE_EXCL, O_CREAT|O_EXCL), so a planted symlink is never followed.
import { constants, type Stats } from 'node:fs';
import { copyFile, link, lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { HostError } from './errors.js';
import { errorCode } from './volume-fs.js';
import { fdPath, MAX_DRIVER_FILE_BYTES, type OpenedSource } from './volume-source.js';

export type PlacementMethod = 'link' | 'clone' | 'copy';

/**
 * Mode bits a volume never serves: setuid, setgid, sticky and group/other write. A hard link would
 * hand containers that very inode (a setuid-root program inside every container, or a library any
 * user could rewrite for every container), so such a file is copied with these bits cleared.
 */
export const UNSAFE_MODE_BITS = 0o7022;

/** `auto`: link, else clone, else copy. `copy`: clone or copy (never share the inode). */
export type PlacementStrategy = 'auto' | 'copy';

/** Errors after which a hard link cannot work but a copy can. */
const LINK_IMPOSSIBLE = new Set(['EXDEV', 'EPERM', 'EMLINK', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
/** Errors that mean "this filesystem cannot clone": fall back to copying. */
const CLONE_IMPOSSIBLE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM', 'EBADF']);

const CHUNK = 1 << 20;
/** Holes are kept at this granularity: an all-zero block is skipped, not written. */
const BLOCK = 64 << 10;
const ZEROS = Buffer.alloc(BLOCK);

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

async function writeAll(out: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await out.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Copies the open file into `out` (empty), skipping all-zero blocks so that a sparse file stays
 * sparse, then sets the length; never more than MAX_DRIVER_FILE_BYTES.
 */
async function copySparse(source: FileHandle, out: FileHandle, label: string): Promise<void> {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let position = 0;
  for (;;) {
    const { bytesRead } = await source.read(chunk, 0, CHUNK, position);
    if (bytesRead === 0) break;
    if (position + bytesRead > MAX_DRIVER_FILE_BYTES) throw new HostError('EFBIG', label, `grew past ${MAX_DRIVER_FILE_BYTES} bytes while being copied`);
    // Runs of non-zero blocks are written with one call each.
    let runStart = -1;
    for (let at = 0; at < bytesRead; at += BLOCK) {
      const end = Math.min(at + BLOCK, bytesRead);
      const zero = chunk.subarray(at, end).equals(ZEROS.subarray(0, end - at));
      if (!zero && runStart < 0) runStart = at;
      if (zero && runStart >= 0) {
        await writeAll(out, chunk.subarray(runStart, at), position + runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) await writeAll(out, chunk.subarray(runStart, bytesRead), position + runStart);
    position += bytesRead;
  }
  await out.truncate(position);
}

/** Places `source` at `destination`; returns how, and the placed file's lstat. */
export async function placeFile(
  source: OpenedSource,
  destination: string,
  strategy: PlacementStrategy,
  label: string,
): Promise<{ method: PlacementMethod; placed: Stats }> {
  if (strategy === 'auto' && (source.stats.mode & UNSAFE_MODE_BITS) === 0) {
    let linked = false;
    try {
      await link(fdPath(source.parent.fd, source.name), destination);
      linked = true;
    } catch (err) {
      if (!LINK_IMPOSSIBLE.has(errorCode(err))) throw err;
    }
    if (linked) {
      const placed = await lstat(destination);
      if (placed.ino !== source.stats.ino || placed.dev !== source.stats.dev) {
        await unlink(destination);
        throw new HostError('ECHANGED', label, 'was replaced while being linked into the volume (another file took its name); refusing');
      }
      return { method: 'link', placed };
    }
  }
  const mode = source.stats.mode & 0o777 & ~UNSAFE_MODE_BITS;
  let method: PlacementMethod = 'clone';
  try {
    // Reopening /proc/self/fd/N opens the very inode of the descriptor, wherever its name went.
    await copyFile(fdPath(source.file.fd), destination, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch (err) {
    if (!CLONE_IMPOSSIBLE.has(errorCode(err))) throw err;
    await removeIfPresent(destination); // a failed clone may leave an empty file behind
    method = 'copy';
  }
  const out = await open(
    destination,
    method === 'copy' ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW : constants.O_WRONLY | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    if (method === 'copy') await copySparse(source.file, out, label);
    await out.chmod(mode); // the umask does not cut it; setuid/setgid bits and group/other write are never copied
    await out.sync(); // the bytes are on disk before the manifest vouches for them
    return { method, placed: await out.stat() };
  } finally {
    await out.close();
  }
}
