// Walking a path inside an image as the kernel walks it under chroot(2): empty and `.` components
// skipped, `..` stopping at the root, symbolic links followed (an absolute one restarts at the
// root) up to MAX_LINK_HOPS. The image tree (image-tree.ts) and the container view
// (container-view.ts: the tree with the engine's mounts) walk the same way; they differ only in
// how a directory's entry is found, which each passes in. Browser-safe.

export const MAX_LINK_HOPS = 40;

/** What the walk needs of a node: whether it is a directory, or a link and where it points. */
export type Walkable = { kind: 'symlink'; target: string } | { kind: 'dir' | 'file' | 'other' };

export interface WalkHooks<N extends Walkable> {
  /** The entry `name` of the directory `dir`, whose real path is `/` + `names` joined; null when it has none. */
  child(dir: Extract<N, { kind: 'dir' }>, names: readonly string[], name: string): N | null;
  /** Told of each link followed, with the components its target expands to. */
  link?(target: readonly string[]): void;
}

/** The node reached and its real path ('/' for the root); or, past MAX_LINK_HOPS, the path where the walk gave up. */
export type Walked<N> = { node: N; path: string } | { loop: string };

/**
 * Walks `parts` from `root`; `follow` says whether a final symlink is followed. Null when a
 * component is missing or not a directory. `hops` counts the links followed, across walks that
 * share it.
 */
export function walkPath<N extends Walkable>(root: N, parts: readonly string[], follow: boolean, hops: { n: number }, hooks: WalkHooks<N>): Walked<N> | null {
  const stack: N[] = [root];
  const names: string[] = [];
  const queue = [...parts];
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length > 1) {
        stack.pop();
        names.pop();
      }
      continue;
    }
    const dir = stack[stack.length - 1]!;
    if (dir.kind !== 'dir') return null;
    const child = hooks.child(dir as Extract<N, { kind: 'dir' }>, names, part);
    if (!child) return null;
    if (child.kind === 'symlink' && (queue.length > 0 || follow)) {
      if (++hops.n > MAX_LINK_HOPS) return { loop: `/${[...names, part].join('/')}` };
      const link = child as Extract<Walkable, { kind: 'symlink' }>;
      const target = link.target.split('/');
      hooks.link?.(target);
      if (link.target.startsWith('/')) {
        stack.splice(1);
        names.splice(0);
      }
      queue.unshift(...target);
      continue;
    }
    stack.push(child);
    names.push(part);
  }
  return { node: stack[stack.length - 1]!, path: `/${names.join('/')}` };
}
