// Looking up a member of a saved image's outer tar by the path a manifest names, as both readers'
// stores do: names normalized the one way, links between members followed inside the archive
// (podman links each `<id>/layer.tar` to its `<diffid>.tar`), never out of it. Browser-safe.
import { splitEntryPath } from './image-tree.js';
import { ImageError } from './image-types.js';
import type { TarMember } from './tar.js';

/** A member of an outer archive as the stores look it up. */
export interface ArchiveMember {
  type: TarMember['type'];
  linkname: string;
}

/** The key a member named `name` is looked up by; null for a name climbing out of the archive (never looked up). */
export function memberKey(name: string): string | null {
  try {
    return splitEntryPath(name).join('/');
  } catch {
    return null;
  }
}

/** The file member at `path` (normalized), links inside the archive followed; null when none. */
export function findMember<M extends ArchiveMember>(byName: Map<string, M>, path: string): M | null {
  let key = path;
  for (let hops = 0; hops < 40; hops++) {
    const m = byName.get(key);
    if (!m) return null;
    if (m.type !== 'symlink' && m.type !== 'hardlink') return m.type === 'file' ? m : null;
    // podman: `<id>/layer.tar -> ../<diffid>.tar`, resolved inside the archive.
    const base = m.type === 'symlink' && !m.linkname.startsWith('/') ? key.split('/').slice(0, -1) : [];
    const parts: string[] = [];
    for (const p of [...base, ...m.linkname.split('/')]) {
      if (p === '' || p === '.') continue;
      if (p === '..') {
        if (parts.length === 0) return null;
        parts.pop();
      } else parts.push(p);
    }
    key = parts.join('/');
  }
  return null;
}

/** The file member at `path`; a store's one-line error (`store` names it) when there is none. */
export function memberAt<M extends ArchiveMember>(store: string, byName: Map<string, M>, path: string): M {
  const m = findMember(byName, path);
  if (!m) throw new ImageError(`${store}: no '${path}' in the archive`);
  return m;
}

/** The file member at `path`, to be read whole; the store's one-line error when it is missing or over `max` bytes. */
export function memberToRead<M extends ArchiveMember & { size: number }>(store: string, byName: Map<string, M>, path: string, max: number): M {
  const m = memberAt(store, byName, path);
  if (m.size > max) throw new ImageError(`${store}: '${path}' is ${m.size} bytes, more than the ${max} allowed`);
  return m;
}
