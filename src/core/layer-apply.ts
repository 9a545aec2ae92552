// Applying one layer's tar entries to an ImageTree, as an engine extracts a layer over the ones
// below: OCI whiteouts (`.wh.NAME`, the opaque `.wh..wh..opq`), hard links to what the tree
// already holds, and the few content bytes the tree keeps (see wantedBytes). The random-access
// reader feeds it a layer's bytes; the one-pass reader replays recorded entries through the same
// applyEntry, so both build the same tree. Browser-safe.
import { ImageTree, ImageTreeError, splitEntryPath, wantedBytes, type FileNode, type TreeNode } from './image-tree.js';
import { ImageError } from './image-types.js';
import { TarError, TarReader, type TarHeader } from './tar.js';

const DIR_NODE = (layer: number): TreeNode => ({ kind: 'dir', layer, children: new Map() });

/** applyEntry's answer for the entries whose content is not kept (most): one shared object. */
const NOTHING_KEPT: { readonly want: 0; readonly node: null } = { want: 0, node: null };

/** The parts of a layer's tar header that change the tree. */
export type LayerEntry = Pick<TarHeader, 'name' | 'type' | 'linkname' | 'size' | 'mode'>;

/**
 * Applies one entry of the layer being applied; returns how many of its content bytes the tree
 * keeps (0: none) and the file node they go to. Throws ImageTreeError for entries the tree refuses.
 */
export function applyEntry(tree: ImageTree, h: LayerEntry): { want: number; node: FileNode | null } {
  const none = NOTHING_KEPT;
  tree.reserveEntry(h.name.length + h.linkname.length);
  const parts = splitEntryPath(h.name);
  if (parts.length === 0) return none;
  const base = parts[parts.length - 1]!;
  const dirParts = parts.slice(0, -1);
  if (base.startsWith('.wh.')) {
    if (base === '.wh..wh..opq') tree.opaque(dirParts);
    else if (base.startsWith('.wh..wh.')) return none; // aufs metadata (.wh..wh.plnk, …)
    else if (base === '.wh.') throw new ImageTreeError(`invalid whiteout '${h.name}'`);
    else tree.whiteout(dirParts, base.slice(4));
    return none;
  }
  switch (h.type) {
    case 'dir':
      tree.add(parts, DIR_NODE(tree.layer));
      return none;
    case 'symlink':
      tree.add(parts, { kind: 'symlink', layer: tree.layer, target: h.linkname });
      return none;
    case 'hardlink': {
      const target = tree.lookupExact(splitEntryPath(h.linkname));
      if (target && target.kind !== 'dir') tree.add(parts, { ...target, layer: tree.layer });
      else tree.add(parts, { kind: 'other', layer: tree.layer });
      return none;
    }
    case 'file': {
      const node: FileNode = { kind: 'file', layer: tree.layer, size: h.size, mode: h.mode, content: null, partial: false };
      tree.add(parts, node);
      const want = wantedBytes(parts.join('/'), h.size);
      if (want === 0) return none;
      tree.reserve(want);
      return { want, node };
    }
    default:
      tree.add(parts, { kind: 'other', layer: tree.layer });
      return none;
  }
}

/** Sets the kept content of a file node. */
export function keepContent(node: FileNode, size: number, bytes: Uint8Array): void {
  node.content = bytes;
  node.partial = bytes.length < size;
}

/** The one-line error of a failure inside a layer. */
export function layerError(err: unknown, label: string, consumed: number): Error {
  if (err instanceof TarError) return new ImageError(`${label}: ${err.message} (at byte ${err.offset} of the uncompressed layer)`);
  if (err instanceof ImageTreeError) return new ImageError(`${label}: ${err.message}`);
  if (err instanceof ImageError) return err;
  return new ImageError(`${label}: cannot read the layer: ${(err as Error)?.message?.split('\n')[0] ?? String(err)} (after ${consumed} uncompressed bytes)`);
}

/** Applies one layer tar (already decompressed) to the tree. */
export async function applyLayer(tree: ImageTree, bytes: AsyncIterable<Uint8Array>, label: string): Promise<void> {
  tree.beginLayer();
  let pending = null as FileNode | null;
  const reader = new TarReader({
    entry(h) {
      const { want, node } = applyEntry(tree, h);
      pending = node;
      return want;
    },
    content(h, bytes) {
      if (pending) keepContent(pending, h.size, bytes);
      pending = null;
    },
  });
  let consumed = 0;
  try {
    for await (const chunk of bytes) {
      consumed += chunk.length;
      reader.push(chunk); // read to the end even past the end marker: the decompressor must drain
    }
    reader.end();
  } catch (err) {
    throw layerError(err, label, consumed);
  }
}
