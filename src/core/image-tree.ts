// The merged file tree of an image's layers, holding only what the linker analysis needs:
// every directory, symlink and file name (with size), and the content of the few files that
// matter (see `wantedBytes`). Layers are applied in order with OCI whiteouts; every lookup is
// resolved component by component inside the image, as chroot(2) would (absolute links restart at
// the image root, `..` stops there, at most 40 links; path-walk.ts). Browser-safe.
import { walkPath, type WalkHooks } from './path-walk.js';

export interface DirNode {
  kind: 'dir';
  layer: number;
  children: Map<string, TreeNode>;
}
export interface FileNode {
  kind: 'file';
  layer: number;
  size: number;
  mode: number;
  /** The kept content (the whole file, or its first bytes when `partial`); null when not kept. */
  content: Uint8Array | null;
  partial: boolean;
}
export interface LinkNode {
  kind: 'symlink';
  layer: number;
  target: string;
}
export interface OtherNode {
  kind: 'other';
  layer: number;
}
export type TreeNode = DirNode | FileNode | LinkNode | OtherNode;

export class ImageTreeError extends Error {
  override readonly name = 'ImageTreeError';
}

export { MAX_LINK_HOPS } from './path-walk.js';
/** Bound on names kept (all layers together): far above any real image, below what exhausts memory. */
export const MAX_TREE_NODES = 2_000_000;
/** Bound on the content kept from all layers together (caches, configs, C libraries, ELF heads). */
export const MAX_KEPT_BYTES = 384 << 20;
/**
 * Bound on the characters of entry names and link targets (all layers together). A PAX path may
 * be 1 MiB and compresses to almost nothing: without it, a 200 KB archive held gigabytes of names.
 */
export const MAX_NAME_BYTES = 256 << 20;
/**
 * Bound on the path components that symbolic links expand to while layers are applied (each
 * entry beneath a linked directory resolves the link again): a 1 MB layer with `x ->` a
 * 2,000-deep directory and 100,000 entries `x/fN` took 52 s; real images expand a few per entry.
 */
export const MAX_LINK_COMPONENTS = 5_000_000;

const CACHE_MAX = 256 << 20;
const CONFIG_MAX = 1 << 20;
const LIBC_MAX = 32 << 20;
/** ELF identification and header: class, byte order, machine. */
export const ELF_HEAD = 64;

const LIBC_NAME = /^(libc\.so\.\d+|libc-[0-9.]+\.so|ld-linux[-a-z0-9_.]*\.so\.\d+|ld-[0-9.]+\.so|ld-musl-[a-z0-9_]+\.so\.1|libc\.musl-[a-z0-9_]+\.so\.1)$/;

/**
 * How many content bytes of `path` (normalized, no leading slash) the analysis keeps: the cache,
 * ld.so.conf and its includes, os-release and musl's path files whole; the C library and the
 * dynamic linker whole (their version definitions); the ELF header of every other shared object.
 */
export function wantedBytes(path: string, size: number): number {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  if (base === 'ld.so.cache') return Math.min(size, CACHE_MAX);
  // Most files are none of these: decide with plain string tests before any pattern.
  if (!path.startsWith('etc/') && !base.includes('.so') && path !== 'usr/lib/os-release') return 0;
  if (path === 'etc/ld.so.conf' || path.startsWith('etc/ld.so.conf.d/') || path === 'etc/os-release' || path === 'usr/lib/os-release' ||
      /^etc\/ld-musl-[a-z0-9_]+\.path$/.test(path) || path === 'etc/alpine-release' || path === 'etc/debian_version') {
    return Math.min(size, CONFIG_MAX);
  }
  if (LIBC_NAME.test(base)) return Math.min(size, LIBC_MAX);
  if (base.includes('.so')) return Math.min(size, ELF_HEAD);
  return 0;
}

/** Splits a tar member name into clean components; throws on names that climb out of the root. */
export function splitEntryPath(name: string): string[] {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new ImageTreeError(`entry '${name}' climbs out of the image root`);
    parts.push(part);
  }
  return parts;
}

export interface Resolved {
  node: TreeNode;
  /** The real path inside the image, every link resolved ('/' for the root). */
  path: string;
}

export class ImageTree {
  readonly root: DirNode = { kind: 'dir', layer: 0, children: new Map() };
  private nodes = 1;
  /** The layer being applied (1-based): nodes made by it are not hidden by its own whiteouts. */
  layer = 0;

  beginLayer(): void {
    this.layer++;
  }

  private kept = 0;

  /** Accounts for `bytes` of kept content; throws past MAX_KEPT_BYTES (a hostile image full of large libc copies). */
  reserve(bytes: number): void {
    this.kept += bytes;
    if (this.kept > MAX_KEPT_BYTES) throw new ImageTreeError(`the image's linker files (caches, C libraries, ELF headers) exceed ${MAX_KEPT_BYTES >> 20} MiB`);
  }

  private names = 0;
  private applied = 0;

  /**
   * Accounts for one applied entry and its name and link target; throws past MAX_TREE_NODES
   * entries (a manifest may list one layer 100,000 times: each listing applies it again) or
   * MAX_NAME_BYTES.
   */
  reserveEntry(chars: number): void {
    if (++this.applied > MAX_TREE_NODES) throw new ImageTreeError(`more than ${MAX_TREE_NODES} entries in the image's layers`);
    this.names += chars;
    if (this.names > MAX_NAME_BYTES) throw new ImageTreeError(`the image's file names and link targets exceed ${MAX_NAME_BYTES >> 20} MiB`);
  }

  /** Components symbolic links expanded to, over the tree's life. */
  private linkComponents = 0;

  /** Throws once the links resolved while applying layers expanded to more than MAX_LINK_COMPONENTS components. */
  private linkBudget(): void {
    if (this.linkComponents > MAX_LINK_COMPONENTS) throw new ImageTreeError(`symbolic links in the image expand to more than ${MAX_LINK_COMPONENTS} path components while its layers are applied`);
  }

  private count(): void {
    if (++this.nodes > MAX_TREE_NODES) throw new ImageTreeError(`more than ${MAX_TREE_NODES} files in the image`);
  }

  /** The directory for the parent components, made (or replaced) as extraction would. */
  private parentDir(parts: string[], hops: { n: number }): DirNode {
    let dir = this.root;
    const walked: string[] = [];
    for (const part of parts) {
      let child = dir.children.get(part);
      if (child?.kind === 'symlink') {
        const target = this.resolveParts([...walked, part], true, hops);
        this.linkBudget();
        if (target?.node.kind === 'dir') {
          dir = target.node;
          walked.splice(0, walked.length, ...target.path.split('/').filter(Boolean));
          continue;
        }
        child = undefined;
      }
      if (!child || child.kind !== 'dir') {
        this.count();
        child = { kind: 'dir', layer: this.layer, children: new Map() };
        dir.children.set(part, child);
      }
      dir = child;
      walked.push(part);
    }
    return dir;
  }

  /** Adds (or replaces) an entry of the current layer. */
  add(parts: string[], node: TreeNode): void {
    if (parts.length === 0) return; // the root itself: attributes only
    const dir = this.parentDir(parts.slice(0, -1), { n: 0 });
    const name = parts[parts.length - 1]!;
    const old = dir.children.get(name);
    if (old?.kind === 'dir' && node.kind === 'dir') {
      old.layer = this.layer; // a directory over a directory keeps its children
      return;
    }
    if (!old) this.count();
    dir.children.set(name, node);
  }

  /** The node at `parts` without following a final symlink (for hard links), or null. */
  lookupExact(parts: string[]): TreeNode | null {
    const dir = parts.length > 1 ? this.resolveParts(parts.slice(0, -1), true, { n: 0 }) : { node: this.root as TreeNode, path: '/' };
    this.linkBudget();
    if (!dir || dir.node.kind !== 'dir') return null;
    return parts.length === 0 ? this.root : (dir.node.children.get(parts[parts.length - 1]!) ?? null);
  }

  /** `.wh.NAME`: removes NAME of lower layers from the directory `dirParts`. */
  whiteout(dirParts: string[], name: string): void {
    const dir = this.resolveParts(dirParts, true, { n: 0 });
    this.linkBudget();
    if (!dir || dir.node.kind !== 'dir') return;
    const victim = dir.node.children.get(name);
    if (!victim) return;
    if (victim.layer < this.layer) {
      if (victim.kind === 'dir' && this.pruneLower(victim)) return;
      dir.node.children.delete(name);
    }
  }

  /** `.wh..wh..opq`: hides every lower-layer child of the directory, recursively. */
  opaque(dirParts: string[]): void {
    const dir = this.resolveParts(dirParts, true, { n: 0 });
    this.linkBudget();
    if (dir?.node.kind === 'dir') this.pruneLower(dir.node);
  }

  /** Removes lower-layer descendants; returns whether anything of the current layer is left below. */
  private pruneLower(dir: DirNode): boolean {
    let kept = false;
    for (const [name, child] of dir.children) {
      if (child.layer >= this.layer && child.kind !== 'dir') {
        kept = true;
        continue;
      }
      if (child.kind === 'dir') {
        const below = this.pruneLower(child);
        if (below || child.layer >= this.layer) {
          kept = true;
          continue;
        }
      }
      dir.children.delete(name);
    }
    return kept;
  }

  /**
   * Resolves `parts` inside the image; `follow` says whether a final symlink is followed.
   * Null when a component is missing or not a directory; throws on a link loop.
   */
  resolveParts(parts: string[], follow: boolean, hops: { n: number } = { n: 0 }): Resolved | null {
    const walked = walkPath<TreeNode>(this.root, parts, follow, hops, this.steps);
    if (walked && 'loop' in walked) throw new ImageTreeError(`too many levels of symbolic links at ${walked.loop}`);
    return walked;
  }

  /** How a walk inside the tree finds a directory's entry, and counts what links expand to. */
  private readonly steps: WalkHooks<TreeNode> = {
    child: (dir, _names, name) => dir.children.get(name) ?? null,
    link: (target) => {
      this.linkComponents += target.length;
    },
  };

  /** Resolves an absolute or relative path (relative to the root); null when it does not exist. */
  resolve(path: string, follow = true): Resolved | null {
    return this.resolveParts(path.split('/'), follow);
  }

  /** Like `resolve`, but a link loop is reported as not found. */
  tryResolve(path: string, follow = true): Resolved | null {
    try {
      return this.resolve(path, follow);
    } catch (err) {
      if (err instanceof ImageTreeError) return null;
      throw err;
    }
  }

  /** A file's kept content, links followed; null when missing, not a file or not kept. */
  readFile(path: string): Uint8Array | null {
    const found = this.tryResolve(path);
    return found?.node.kind === 'file' && found.node.content && !found.node.partial ? found.node.content : null;
  }

  /** Names in a directory (links followed to reach it); null when it is not a directory. */
  list(path: string): string[] | null {
    const found = this.tryResolve(path);
    return found?.node.kind === 'dir' ? [...found.node.children.keys()] : null;
  }
}
