// Resolves a directory path inside a root the way the root's own system would see it: absolute
// link targets restart at the root, `..` never climbs above it, and a hop limit stops loops.
// The CDI generator uses it to tell whether the cache's directory (`/lib/x86_64-linux-gnu`) is
// the library's own directory under another name (merged /usr).
import { lstatSync, readlinkSync } from 'node:fs';
import { rootedPath } from './cdi-build.js';

const MAX_HOPS = 40;

/** The real path of `dir` inside `root`; what cannot be resolved stays as written from there on. */
export function resolveDirInRoot(root: string, dir: string): string {
  const pending = dir.split('/').filter((s) => s !== '' && s !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = `/${[...done, part].join('/')}`;
    let target: string | null = null;
    try {
      if (lstatSync(rootedPath(root, candidate)).isSymbolicLink()) target = readlinkSync(rootedPath(root, candidate));
    } catch {
      // Missing or unreadable: keep the rest as written.
      return `/${[...done, part, ...pending].join('/')}`;
    }
    if (target === null) {
      done.push(part);
      continue;
    }
    if (++hops > MAX_HOPS) return `/${[...done, part, ...pending].join('/')}`;
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((s) => s !== '' && s !== '.'));
  }
  return `/${done.join('/')}`;
}
