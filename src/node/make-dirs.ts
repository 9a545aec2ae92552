// Creating a directory and its missing parents without Node's `mkdir({ recursive: true })`,
// which loops at full CPU forever on a path the kernel refuses with ENOENT although the parent
// exists (anything under /proc/self/, /proc/PID/fd/, ...). Here each missing component is made
// by one plain mkdir(2), top down, so every lookup ends after at most one try per component.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMLINK: 'too many links',
};

/** A directory that cannot be made; `code` is the errno name (ENOTDIR, ENOENT, EACCES...). */
export class MakeDirectoryError extends Error {
  override readonly name = 'MakeDirectoryError';
  constructor(
    readonly code: string,
    /** The component that failed (the directory asked for or one of its parents). */
    readonly path: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

/** stat (following links, as the kernel would for this path) or null when the path is absent. */
async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    const code = errnoOf(err);
    // ENOTDIR: a parent is a file; the walk up meets it and names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new MakeDirectoryError(code, path, `cannot inspect ${path}: ${REASONS[code] ?? code}`);
  }
}

/**
 * Creates `dir` and every missing parent with `mode` (umask applies), like `mkdir -p`, but
 * bounded: one mkdir(2) per missing component, no retry loop. An existing directory (or a link
 * to one: the caller chose this path) is accepted. Resolves to the directories it created,
 * outermost first ([] when `dir` existed). Fails with a MakeDirectoryError whose message has no
 * comma and names the component, e.g. `ENOENT: cannot create directory /proc/self/x: the
 * filesystem does not allow new directories there`.
 */
export async function makeDirectories(dir: string, mode = 0o755): Promise<string[]> {
  const target = resolve(dir);
  // Walk up to the deepest existing ancestor; the path is finite, so is this walk.
  const missing: string[] = [];
  let current = target;
  for (;;) {
    const info = await statOrNull(current);
    if (info !== null) {
      if (!info.isDirectory()) throw new MakeDirectoryError('ENOTDIR', current, `${current} is not a directory`);
      break;
    }
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break; // `/` missing: mkdir below reports it
    current = parent;
  }
  const created: string[] = [];
  for (let i = missing.length - 1; i >= 0; i--) {
    const path = missing[i]!;
    try {
      await mkdir(path, { mode });
      created.push(path);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST') {
        // Made by someone else meanwhile: fine if it is a directory.
        const info = await statOrNull(path);
        if (info?.isDirectory()) continue;
        throw new MakeDirectoryError('ENOTDIR', path, `${path} is not a directory`);
      }
      // ENOENT although the parent exists: a filesystem such as /proc that makes no directories.
      const reason = code === 'ENOENT' ? 'the filesystem does not allow new directories there' : (REASONS[code] ?? code);
      throw new MakeDirectoryError(code, path, `cannot create directory ${path}: ${reason}`);
    }
  }
  return created;
}
