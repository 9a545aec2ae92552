// A layer as the one-pass reader keeps it until it knows whether the chosen image uses it: the
// record of its entries (name, type, link, size, mode) with the few content bytes the tree would
// keep, never the layer's bytes; and the replay that applies such a record to the tree through
// the same applyEntry the random-access reader uses, so the trees are the same. Browser-safe.
import { ImageTree, splitEntryPath, wantedBytes } from './image-tree.js';
import { applyEntry, keepContent, layerError, type LayerEntry } from './layer-apply.js';
import type { Budget } from './stream-budget.js';
import { TarReader } from './tar.js';

export interface RecordedEntry extends LayerEntry {
  content: Uint8Array | null;
}

/** A layer's record: its entries, the error that stopped reading it (reported only if the layer is used), and the uncompressed bytes read. */
export interface RecordedLayer {
  entries: RecordedEntry[];
  error: unknown;
  consumed: number;
}

/** A tar visitor that records a layer's entries and the content the tree would keep. */
export function layerRecorder(entries: RecordedEntry[], budget: Budget): TarReader {
  let pending: RecordedEntry | null = null;
  return new TarReader({
    entry(h) {
      budget.entry(h);
      const rec: RecordedEntry = { name: h.name, type: h.type, linkname: h.linkname, size: h.size, mode: h.mode, content: null };
      entries.push(rec);
      pending = null;
      if (h.type !== 'file') return 0;
      let want = 0;
      try {
        want = wantedBytes(splitEntryPath(h.name).join('/'), h.size);
      } catch {
        return 0; // a name climbing out of the root: the replay reports it, if the layer is used
      }
      if (want > 0) {
        budget.content(want);
        pending = rec;
      }
      return want;
    },
    content(_h, bytes) {
      if (pending) pending.content = bytes;
      pending = null;
    },
  });
}

/** Applies a recorded layer to the tree, as applyLayer would have applied its bytes. */
export function replay(tree: ImageTree, recorded: RecordedLayer, label: string): void {
  tree.beginLayer();
  try {
    for (const rec of recorded.entries) {
      const { node } = applyEntry(tree, rec);
      if (node && rec.content) keepContent(node, rec.size, rec.content);
    }
  } catch (err) {
    throw layerError(err, label, recorded.consumed);
  }
  if (recorded.error !== null) throw layerError(recorded.error, label, recorded.consumed);
}
