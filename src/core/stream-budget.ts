// The one-pass reader's memory bounds over the whole archive. It keeps records of every layer
// before it knows which image is wanted, so the tree's own bounds (entries, names, kept content)
// are counted here over all layers together, plus the members kept whole and the number of outer
// members. Passing one is fatal, whichever layer it happens in. Browser-safe.
import { ImageTreeError, MAX_KEPT_BYTES, MAX_NAME_BYTES, MAX_TREE_NODES } from './image-tree.js';
import type { TarHeader } from './tar.js';

/** All kept members together. */
export const MAX_SMALL_TOTAL = 64 << 20;
/** Members of the outer archive (a saved image has a handful per layer), as the random-access index allows. */
const MAX_MEMBERS = 1_000_000;

/** A bound of the whole archive was passed: fatal, whichever layer it happened in. */
export class ArchiveBoundError extends ImageTreeError {}

/** Counts what the records of all layers hold, against the tree's own bounds. */
export class Budget {
  entries = 0;
  kept = 0;
  small = 0;
  members = 0;
  names = 0;
  entry(h: TarHeader): void {
    if (++this.entries > MAX_TREE_NODES) throw new ArchiveBoundError(`more than ${MAX_TREE_NODES} files in the archive's layers`);
    this.name(h);
  }
  /** An outer member: its name is kept as the key it is looked up by. */
  member(h: TarHeader): void {
    if (++this.members > MAX_MEMBERS) throw new ArchiveBoundError(`more than ${MAX_MEMBERS} members in the archive`);
    this.name(h);
  }
  /** Names and link targets are kept with each record: a 1 MiB PAX path compresses to a few bytes. */
  private name(h: TarHeader): void {
    this.names += h.name.length + h.linkname.length;
    if (this.names > MAX_NAME_BYTES) throw new ArchiveBoundError(`the archive's file names and link targets exceed ${MAX_NAME_BYTES >> 20} MiB`);
  }
  content(bytes: number): void {
    this.kept += bytes;
    if (this.kept > MAX_KEPT_BYTES) throw new ArchiveBoundError(`the layers' linker files (caches, C libraries, ELF headers) exceed ${MAX_KEPT_BYTES >> 20} MiB`);
  }
  /** A member kept whole (a JSON document, a small member of no known kind). */
  smallMember(bytes: number): void {
    this.small += bytes;
    if (this.small > MAX_SMALL_TOTAL) throw new ArchiveBoundError(`the archive's manifests, configs and other small members exceed ${MAX_SMALL_TOTAL >> 20} MiB`);
  }
}
