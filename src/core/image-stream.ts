// Reads a saved image archive (docker-archive or oci-archive, optionally gzip-compressed as a
// whole) in one pass from a stream: a browser File's stream(), a pipe. A tar cannot be reordered,
// and manifest.json (which says which members are the layers, and in what order) often comes
// after the layers (Docker 20.10 writes it last). So each member is kept as what matters of it:
//   - JSON documents (manifests, configs, indexes) and small members of no known kind: their bytes;
//   - layers (gzip, decompressed on the way, or plain tar): a record of their entries (name, type,
//     link, size, mode) and of the few content bytes the tree keeps (caches, ld.so.conf, C
//     libraries, ELF headers), never the layer's bytes;
//   - anything else: its name and size.
// Once the archive has ended, the chosen image's recorded layers are replayed in order into the
// tree, exactly as the random-access reader applies them. Memory: the records of every layer in
// the archive (about 100 bytes per entry, at most MAX_TREE_NODES entries, MAX_NAME_BYTES of names
// and link targets and MAX_KEPT_BYTES of kept content over all layers, MAX_SMALL_TOTAL of small
// members, MAX_MEMBERS outer members); the archive itself is never held. Browser-safe.
import {
  applyEntry, applyLayer, findMember, ImageError, keepContent, layerBytes, layerError, loadImageWith,
  type BlobStore, type Gunzip, type LayerEntry, type LoadedImage, type LoadImageOptions,
} from './image-archive.js';
import { ImageTree, ImageTreeError, MAX_KEPT_BYTES, MAX_NAME_BYTES, MAX_TREE_NODES, splitEntryPath, wantedBytes } from './image-tree.js';
import { STREAM_CONTENT, TarError, TarReader, type TarEntryType, type TarHeader } from './tar.js';

/** Members up to this size that are neither gzip nor tar are kept whole (configs without a leading brace, odd layers). */
const SMALL_MEMBER = 1 << 20;
/** JSON documents up to this size are kept whole. */
const JSON_MAX = 16 << 20;
/** All kept members together. */
export const MAX_SMALL_TOTAL = 64 << 20;
/** Members of the outer archive (a saved image has a handful per layer), as the random-access index allows. */
const MAX_MEMBERS = 1_000_000;
const HEAD = 512;

interface RecordedEntry extends LayerEntry {
  content: Uint8Array | null;
}

type Kept =
  | { kind: 'bytes'; bytes: Uint8Array; fill: number }
  | { kind: 'layer'; entries: RecordedEntry[]; error: unknown; consumed: number }
  | { kind: 'zstd' }
  | { kind: 'no-gunzip' }
  | { kind: 'other' };

interface StreamMember {
  type: TarEntryType;
  linkname: string;
  size: number;
  kept: Kept;
}

/** A bound of the whole archive was passed: fatal, whichever layer it happened in. */
class ArchiveBoundError extends ImageTreeError {}

/** Counts what the records of all layers hold, against the tree's own bounds. */
class Budget {
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
}

/** A tar visitor that records a layer's entries and the content the tree would keep. */
function layerRecorder(entries: RecordedEntry[], budget: Budget): TarReader {
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

/** A queue between the outer tar (pushing, synchronously) and a decompressor (pulling). */
class ChunkQueue implements AsyncIterable<Uint8Array> {
  private items: Uint8Array[] = [];
  private closed = false;
  private wake: (() => void) | null = null;
  private emptied: (() => void)[] = [];

  push(chunk: Uint8Array): void {
    if (this.closed) return;
    this.items.push(chunk.slice()); // the outer tar hands out views into its input chunk
    this.signal();
  }
  end(): void {
    this.closed = true;
    this.signal();
  }
  /** Drops what is queued and ends the stream (the consumer failed). */
  abandon(): void {
    this.items = [];
    this.end();
    this.settle();
  }
  /** Resolves once the consumer has taken everything queued. */
  drained(): Promise<void> {
    if (this.items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }
  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
  private settle(): void {
    if (this.items.length > 0) return;
    const waiting = this.emptied;
    this.emptied = [];
    for (const resolve of waiting) resolve();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.items.length > 0) {
        const next = this.items.shift()!;
        this.settle();
        yield next;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** Receives one outer member's content: buffers its head, decides what it is, routes the rest. */
class MemberSink {
  private head: Uint8Array;
  private headFill = 0;
  private route: ((chunk: Uint8Array) => void) | null = null;
  private queue: ChunkQueue | null = null;
  private task: Promise<void> | null = null;
  private inner: TarReader | null = null;

  constructor(private readonly member: StreamMember, private readonly budget: Budget, private readonly gunzip: Gunzip | undefined) {
    this.head = new Uint8Array(Math.min(HEAD, member.size));
  }

  data(chunk: Uint8Array): void {
    if (this.route) {
      this.route(chunk);
      return;
    }
    const take = Math.min(chunk.length, this.head.length - this.headFill);
    this.head.set(chunk.subarray(0, take), this.headFill);
    this.headFill += take;
    if (this.headFill < this.head.length) return;
    this.classify();
    this.route!(this.head);
    if (take < chunk.length) this.route!(chunk.subarray(take));
  }

  /** The archive failed: ends this member's decompressor (its task then finishes on its own). */
  abandon(): void {
    this.queue?.abandon();
  }

  /** After each outer push: waits until the decompressor has taken what was queued. */
  async settle(): Promise<void> {
    if (this.queue) await this.queue.drained();
  }

  /** At the member's end: waits for the layer to be fully recorded. */
  async finish(): Promise<void> {
    if (!this.route) {
      this.classify();
      this.route!(this.head.subarray(0, this.headFill));
    }
    const kept = this.member.kept;
    if (this.queue) {
      this.queue.end();
      await this.task;
      if (kept.kind === 'layer' && kept.error instanceof ArchiveBoundError) throw kept.error;
    } else if (this.inner && kept.kind === 'layer' && kept.error === null) {
      try {
        this.inner.end();
      } catch (err) {
        kept.error = err;
      }
    }
  }

  private classify(): void {
    const h = this.head;
    const size = this.member.size;
    if (h[0] === 0x1f && h[1] === 0x8b) {
      if (!this.gunzip) {
        this.member.kept = { kind: 'no-gunzip' };
        this.route = () => undefined;
        return;
      }
      this.layer(true);
      return;
    }
    if (h[0] === 0x28 && h[1] === 0xb5 && h[2] === 0x2f && h[3] === 0xfd) {
      this.member.kept = { kind: 'zstd' };
      this.route = () => undefined;
      return;
    }
    // A tar (a layer of any size) is recorded, never kept: however many small layers an image has.
    if (h.length === HEAD && h[257] === 0x75 && h[258] === 0x73 && h[259] === 0x74 && h[260] === 0x61 && h[261] === 0x72) {
      this.layer(false);
      return;
    }
    let first = 0;
    while (first < h.length && (h[first] === 0x20 || h[first] === 0x0a || h[first] === 0x0d || h[first] === 0x09)) first++;
    const json = h[first] === 0x7b || h[first] === 0x5b;
    // JSON documents, and small members of no known kind (read later if a manifest names them).
    if ((json && size <= JSON_MAX) || size <= SMALL_MEMBER) {
      this.budget.small += size;
      if (this.budget.small > MAX_SMALL_TOTAL) throw new ArchiveBoundError(`the archive's manifests, configs and other small members exceed ${MAX_SMALL_TOTAL >> 20} MiB`);
      const kept: Kept = { kind: 'bytes', bytes: new Uint8Array(size), fill: 0 };
      this.member.kept = kept;
      this.route = (chunk) => {
        kept.bytes.set(chunk, kept.fill);
        kept.fill += chunk.length;
      };
      return;
    }
    this.member.kept = { kind: 'other' };
    this.route = () => undefined;
  }

  private layer(gzip: boolean): void {
    const kept: Kept & { kind: 'layer' } = { kind: 'layer', entries: [], error: null, consumed: 0 };
    this.member.kept = kept;
    const inner = layerRecorder(kept.entries, this.budget);
    this.inner = inner;
    const feed = (chunk: Uint8Array): void => {
      if (kept.error !== null) return;
      kept.consumed += chunk.length;
      try {
        inner.push(chunk);
      } catch (err) {
        if (err instanceof ArchiveBoundError) throw err; // the archive's bounds: fatal
        kept.error = err;
      }
    };
    if (!gzip) {
      this.route = feed;
      return;
    }
    const queue = new ChunkQueue();
    this.queue = queue;
    this.route = (chunk) => queue.push(chunk);
    this.task = (async () => {
      try {
        for await (const out of this.gunzip!(queue)) {
          feed(out);
          if (kept.error !== null) break;
        }
        if (kept.error === null) inner.end();
      } catch (err) {
        // Never a rejected task: finish() rethrows the archive's bounds, a damaged layer fails only if used.
        if (kept.error === null || err instanceof ArchiveBoundError) kept.error = err;
      } finally {
        queue.abandon();
      }
    })();
  }
}

const memberKey = (name: string): string | null => {
  try {
    return splitEntryPath(name).join('/');
  } catch {
    return null; // a member climbing out of the archive is never looked up
  }
};

/** The first `want` bytes of a stream (fewer when it is shorter), and the whole stream again (those bytes first). */
export async function peek(input: AsyncIterable<Uint8Array>, want: number): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const iterator = input[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < want) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    taken.push(next.value);
    length += next.value.length;
  }
  const head = new Uint8Array(Math.min(length, want));
  let at = 0;
  for (const t of taken) {
    if (at >= head.length) break;
    const part = t.subarray(0, head.length - at);
    head.set(part, at);
    at += part.length;
  }
  const stream = (async function* (): AsyncGenerator<Uint8Array> {
    yield* taken;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  return { head, stream };
}

/** True when `head` (the first bytes of a file) starts a tar archive or a gzip stream. */
export function looksLikeImageArchive(head: Uint8Array): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
  return head.length >= 262 && head[257] === 0x75 && head[258] === 0x73 && head[259] === 0x74 && head[260] === 0x61 && head[261] === 0x72;
}

/**
 * Reads the image (the one named by `options.ref` in a multi-image archive) from an archive's
 * bytes, in one pass. A gzip-compressed archive is decompressed with `options.gunzip` on the way.
 */
export async function loadImageStream(input: AsyncIterable<Uint8Array>, name: string, options: LoadImageOptions = {}): Promise<LoadedImage> {
  const { head, stream } = await peek(input, 4);
  let bytes = stream;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    if (!options.gunzip) throw new ImageError(`${name}: a gzip-compressed archive, but no gzip decompressor is available`);
    bytes = options.gunzip(stream);
  } else if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new ImageError(`${name}: a zstd-compressed archive: decompress it first (zstd -d ${name})`);
  }
  const members = new Map<string, StreamMember>();
  const budget = new Budget();
  let sink: MemberSink | null = null;
  const touched = new Set<MemberSink>();
  const ended: MemberSink[] = [];
  const outer = new TarReader({
    entry(h: TarHeader) {
      budget.member(h);
      const member: StreamMember = { type: h.type, linkname: h.linkname, size: h.size, kept: { kind: 'other' } };
      const key = memberKey(h.name);
      if (key !== null) members.set(key, member);
      sink = null;
      if (h.type !== 'file') return 0;
      if (h.size === 0) {
        member.kept = { kind: 'bytes', bytes: new Uint8Array(0), fill: 0 };
        return 0;
      }
      sink = new MemberSink(member, budget, options.gunzip);
      return STREAM_CONTENT;
    },
    data(_h, chunk) {
      sink!.data(chunk);
      touched.add(sink!);
    },
    content() {
      if (sink) ended.push(sink);
      sink = null;
    },
  });
  let position = 0;
  try {
    for await (const chunk of bytes) {
      position += chunk.length;
      outer.push(chunk);
      // Backpressure: each decompressor takes what this chunk gave it before the next is read.
      for (const s of touched) await s.settle();
      touched.clear();
      while (ended.length > 0) await ended.shift()!.finish();
      if (outer.ended) break;
    }
    outer.end();
  } catch (err) {
    for (const s of [...touched, ...ended]) s.abandon();
    (sink as MemberSink | null)?.abandon();
    if (err instanceof TarError) throw new ImageError(`${name}: ${err.message} (at byte ${err.offset}${head[0] === 0x1f ? ' of the decompressed archive' : ''})`);
    if (err instanceof ImageTreeError || err instanceof ImageError) throw new ImageError(`${name}: ${err.message}`);
    throw new ImageError(`${name}: cannot read the archive: ${(err as Error)?.message?.split('\n')[0] ?? String(err)} (after ${position} bytes)`);
  }
  if (members.size === 0) throw new ImageError(`${name}: not a tar archive (no members)`);

  const store: BlobStore = {
    name,
    size: (path) => findMember(members, path)?.size ?? null,
    async read(path, max) {
      const m = findMember(members, path);
      if (!m) throw new ImageError(`${name}: no '${path}' in the archive`);
      if (m.size > max) throw new ImageError(`${name}: '${path}' is ${m.size} bytes, more than the ${max} allowed`);
      if (m.kept.kind !== 'bytes') throw new ImageError(`${name}: '${path}' is not a JSON document (${m.size} bytes of ${m.kept.kind === 'layer' ? 'a layer' : 'something else'})`);
      return m.kept.bytes;
    },
    async *stream(path) {
      const m = findMember(members, path);
      if (m?.kept.kind === 'bytes') yield m.kept.bytes;
      else throw new ImageError(`${name}: '${path}' was not kept`);
    },
  };
  return loadImageWith(store, options, async (tree, path, label) => {
    const m = findMember(members, path)!;
    const kept = m.kept;
    switch (kept.kind) {
      case 'bytes':
        return applyBytes(tree, store, path, label, options.gunzip);
      case 'zstd':
        throw new ImageError(`${label}: zstd-compressed layer: not supported (re-save the image with gzip or uncompressed layers, e.g. docker save from Docker, podman save --format docker-archive)`);
      case 'no-gunzip':
        throw new ImageError(`${label}: gzip layer, but no gzip decompressor is available`);
      case 'other':
        throw new ImageError(`${label}: not a tar layer (neither gzip nor tar)`);
      case 'layer':
        replay(tree, kept, label);
    }
  });
}

/** A small layer kept as bytes: read as the random-access reader reads it. */
async function applyBytes(tree: ImageTree, store: BlobStore, path: string, label: string, gunzip: Gunzip | undefined): Promise<void> {
  await applyLayer(tree, layerBytes(store, path, label, gunzip), label);
}

/** Applies a recorded layer to the tree, as applyLayer would have applied its bytes. */
function replay(tree: ImageTree, kept: Kept & { kind: 'layer' }, label: string): void {
  tree.beginLayer();
  try {
    for (const rec of kept.entries) {
      const { node } = applyEntry(tree, rec);
      if (node && rec.content) keepContent(node, rec.size, rec.content);
    }
  } catch (err) {
    throw layerError(err, label, kept.consumed);
  }
  if (kept.error !== null) throw layerError(kept.error, label, kept.consumed);
}
