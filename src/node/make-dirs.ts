// Creating a directory and its missing parents without Node's `mkdir({ recursive: true })`,
// which loops at full CPU forever on a path the kernel refuses with ENOENT although the parent
// exists (anything under /proc/self/, /proc/PID/fd/, ...). Here each missing component is made
// by one plain mkdir(2), top down, so every lookup ends after at most one try per component.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errnoOf as errnoName, errnoText, HostError } from './errors.js';

/** A directory that cannot be made; `code` is the errno name (ENOTDIR, ENOENT, EACCES...), `path` the component that failed. */
export class MakeDirectoryError extends HostError {
  override name = 'MakeDirectoryError';
}

function errnoOf(err: unknown): string {
  return errnoName(err) ?? 'EIO';
}

/** stat (following links, as the kernel would for this path) or null when the path is absent. */
async function statOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    const code = errnoOf(err);
    // ENOTDIR: a parent is a file; the walk up meets it and names it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new MakeDirectoryError(code, path, `cannot inspect: ${errnoText(code)}`);
  }
}

/**
 * Creates `dir` and every missing parent with `mode` (umask applies), like `mkdir -p`, but
 * bounded: one mkdir(2) per missing component, no retry loop. An existing directory (or a link
 * to one: the caller chose this path) is accepted. Resolves to the directories it created,
 * outermost first ([] when `dir` existed). Fails with a MakeDirectoryError (a HostError) whose
 * message names the component, e.g. `/proc/self/x: cannot create directory: the filesystem does
 * not allow new directories there` (code ENOENT).
 */
export async function makeDirectories(dir: string, mode = 0o755): Promise<string[]> {
  const target = resolve(dir);
  // Walk up to the deepest existing ancestor; the path is finite, so is this walk.
  const missing: string[] = [];
  let current = target;
  for (;;) {
    const info = await statOrNull(current);
    if (info !== null) {
      if (!info.isDirectory()) throw new MakeDirectoryError('ENOTDIR', current, 'not a directory');
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
        throw new MakeDirectoryError('ENOTDIR', path, 'not a directory');
      }
      // ENOENT although the parent exists: a filesystem such as /proc that makes no directories.
      const reason = code === 'ENOENT' ? 'the filesystem does not allow new directories there' : errnoText(code);
      throw new MakeDirectoryError(code, path, `cannot create directory: ${reason}`);
    }
  }
  return created;
}
