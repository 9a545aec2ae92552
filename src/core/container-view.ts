// The container's file system as its processes see it, offline: an image's merged layer tree
// with the files and directories a container engine mounts over it, every symlink resolved
// inside it (the walk of path-walk.ts, as the tree's own). What the linker prediction
// (image-linker.ts) walks. Browser-safe.
import type { DirNode, FileNode, ImageTree } from './image-tree.js';
import { walkPath, type WalkHooks } from './path-walk.js';

/** A driver file as the engine mounts it. */
export interface MountedFile {
  /** Where the file is on the host (or driver root), for evidence. */
  source: string;
  name: string;
  soname: string | null;
  bits: 32 | 64;
  arch: string;
}

/** An engine's changes to the image's file system: files bind-mounted at paths, directories mounted over. */
export interface Overlay {
  files: { containerPath: string; file: MountedFile }[];
  /** Directories whose image contents are hidden by a mount (the v1 volume at /usr/local/nvidia). */
  dirMounts: string[];
}

export type Found =
  | { kind: 'dir'; node: DirNode | null }
  | { kind: 'file'; node: FileNode | null; mounted: MountedFile | null }
  | { kind: 'symlink'; target: string }
  | { kind: 'other' };

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** The container's file system as its processes see it: the image tree with the engine's mounts. */
export class ContainerView {
  private readonly mounted = new Map<string, MountedFile>();
  private readonly covered = new Set<string>();
  /** Directories a mount made (runc creates missing mount points and their parents). */
  private readonly made = new Set<string>();

  constructor(readonly tree: ImageTree, overlay: Overlay = { files: [], dirMounts: [] }) {
    for (const dir of overlay.dirMounts) {
      const real = this.placeMount(dir);
      this.covered.add(real);
      this.made.add(real);
    }
    for (const { containerPath, file } of overlay.files) this.mounted.set(this.placeMount(containerPath), file);
  }

  /** Where a mount at `path` lands: its parent resolved inside the container, missing directories made. */
  private placeMount(path: string): string {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let dir = '/';
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const next = join(dir, part);
      if (last) return next;
      const found = this.resolve(next);
      if (found && found.found.kind === 'dir') dir = found.path;
      else {
        this.made.add(next);
        dir = next;
      }
    }
    return dir;
  }

  private coveredBy(path: string): boolean {
    for (const c of this.covered) if (path === c || path.startsWith(`${c}/`)) return true;
    return false;
  }

  /** The entry `name` in the directory at real path `dir`. */
  child(dir: string, dirNode: DirNode | null, name: string): Found | null {
    const path = join(dir, name);
    const file = this.mounted.get(path);
    if (file) return { kind: 'file', node: null, mounted: file };
    if (this.covered.has(path)) return { kind: 'dir', node: null };
    if (this.made.has(path)) {
      const node = dirNode?.children.get(name);
      return { kind: 'dir', node: !this.coveredBy(path) && node?.kind === 'dir' ? node : null };
    }
    if (this.coveredBy(dir)) return null;
    const node = dirNode?.children.get(name);
    if (!node) return null;
    switch (node.kind) {
      case 'dir':
        return { kind: 'dir', node };
      case 'file':
        return { kind: 'file', node, mounted: null };
      case 'symlink':
        return { kind: 'symlink', target: node.target };
      default:
        return { kind: 'other' };
    }
  }

  /** Resolves a path as the kernel would inside the container (links followed, chroot semantics). */
  resolve(path: string): { path: string; found: Found } | null {
    const walked = walkPath<Found>({ kind: 'dir', node: this.tree.root }, path.split('/'), true, { n: 0 }, this.steps);
    return walked && !('loop' in walked) ? { path: walked.path, found: walked.node } : null; // a link loop: not found
  }

  /** How a walk inside the container finds a directory's entry: the engine's mounts first. */
  private readonly steps: WalkHooks<Found> = {
    child: (dir, names, name) => this.child(`/${names.join('/')}`, dir.node, name),
  };
}

/** ELF class of a file in the view: 32, 64, or null when unknown (not ELF, or not kept). */
export function elfBits(found: Found): 32 | 64 | null {
  if (found.kind !== 'file') return null;
  if (found.mounted) return found.mounted.bits;
  const head = found.node?.content;
  if (!head || head.length < 5 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  return head[4] === 2 ? 64 : head[4] === 1 ? 32 : null;
}
