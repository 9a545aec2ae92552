// Puts one driver file into a volume: a hard link where possible (no bytes copied, and the
// volume shares the driver's inode), else a reflink clone, else a plain copy that keeps the mode.
// The destination is always a fresh name in a directory this process created: every call uses
// O_EXCL semantics (link(2), COPYFILE_EXCL), so a planted symlink is never followed.
import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, unlink } from 'node:fs/promises';
import { errorCode } from './volume-fs.js';

export type PlacementMethod = 'link' | 'clone' | 'copy';

/** `auto`: link, else clone, else copy. `copy`: clone or copy (never share the inode). */
export type PlacementStrategy = 'auto' | 'copy';

/** Errors after which a hard link cannot work but a copy can. */
const LINK_IMPOSSIBLE = new Set(['EXDEV', 'EPERM', 'EMLINK', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
/** Errors that mean "this filesystem cannot clone": fall back to copying. */
const CLONE_IMPOSSIBLE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM', 'EBADF']);

async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
}

export async function placeFile(source: string, destination: string, strategy: PlacementStrategy = 'auto'): Promise<PlacementMethod> {
  if (strategy === 'auto') {
    try {
      await link(source, destination);
      return 'link';
    } catch (err) {
      if (!LINK_IMPOSSIBLE.has(errorCode(err))) throw err;
    }
  }
  const sourceMode = (await lstat(source)).mode & 0o777;
  let method: PlacementMethod = 'clone';
  try {
    await copyFile(source, destination, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
  } catch (err) {
    if (!CLONE_IMPOSSIBLE.has(errorCode(err))) throw err;
    await removeIfPresent(destination); // a failed clone may leave an empty file behind
    await copyFile(source, destination, constants.COPYFILE_EXCL);
    method = 'copy';
  }
  // The destination is our own fresh regular file (EXCL), so chmod cannot be redirected.
  if (((await lstat(destination)).mode & 0o777) !== sourceMode) await chmod(destination, sourceMode);
  return method;
}
