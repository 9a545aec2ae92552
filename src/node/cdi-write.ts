// Writes a CDI spec file: atomically (an engine scanning the spec directory never reads half a
// spec), mode 0644 whatever the umask, into a directory created if missing.
import { constants } from 'node:fs';
import { chmod, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { makeDirectories } from './make-dirs.js';

/** Creates `dir` and missing parents as 0755 whatever the umask: engines, rootless too, must read specs. */
async function makeParents(dir: string): Promise<void> {
  for (const created of await makeDirectories(dir, 0o755)) await chmod(created, 0o755);
}

/** Writes a spec file atomically, readable by all and writable by the owner, creating missing parent directories (0755). */
export async function writeSpecFile(file: string, text: string): Promise<void> {
  // Spec directories such as /etc/cdi often do not exist yet.
  await makeParents(dirname(file));
  await writeFileAtomic(file, text, 0o644);
}

/** True when `file` is a regular file (not a link) of mode 0644 holding exactly `text`. */
async function holds(file: string, text: string): Promise<boolean> {
  let handle;
  try {
    // O_NOFOLLOW: a symlink planted at the target is replaced, never trusted as up to date.
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    const stat = await handle.stat();
    const want = Buffer.from(text, 'utf8');
    if (!stat.isFile() || (stat.mode & 0o7777) !== 0o644 || stat.size !== want.length) return false;
    return want.equals(await handle.readFile());
  } finally {
    await handle.close();
  }
}

/**
 * Writes a spec file as writeSpecFile does, unless it already holds exactly `text` (then it is
 * left untouched: same inode, same mtime, so engines and path watchers see no change).
 * Returns whether it wrote.
 */
export async function writeSpecFileIfChanged(file: string, text: string): Promise<boolean> {
  if (await holds(file, text)) return false;
  await writeSpecFile(file, text);
  return true;
}

/** Removes a spec file (a link there is removed, not followed). Returns false when there was none. */
export async function removeSpecFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
