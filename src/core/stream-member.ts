// One member of the outer archive as the one-pass reader sees it go by, and what it keeps of it:
// the member's head decides what it is; a layer (gzip, decompressed on the way with backpressure,
// or plain tar) is recorded (layer-record.ts), a JSON document or a small member of no known kind
// is kept whole, anything else only by name and size. A damaged layer is remembered, and fails
// the load only if the chosen image uses it; a bound of the whole archive fails at once.
// Browser-safe.
import { isGzip, isTar, isZstd } from './archive-sniff.js';
import { ChunkQueue } from './chunk-queue.js';
import { JSON_MAX } from './image-documents.js';
import type { Gunzip } from './image-types.js';
import { layerRecorder, type RecordedLayer } from './layer-record.js';
import { ArchiveBoundError, type Budget } from './stream-budget.js';
import type { TarEntryType, TarReader } from './tar.js';

/** Members up to this size that are neither gzip nor tar are kept whole (configs without a leading brace, odd layers). */
const SMALL_MEMBER = 1 << 20;
const HEAD = 512;

export type Kept =
  | { kind: 'bytes'; bytes: Uint8Array; fill: number }
  | ({ kind: 'layer' } & RecordedLayer)
  | { kind: 'zstd' }
  | { kind: 'no-gunzip' }
  | { kind: 'other' };

export interface StreamMember {
  type: TarEntryType;
  linkname: string;
  size: number;
  kept: Kept;
}

/** Receives one outer member's content: buffers its head, decides what it is, routes the rest. */
export class MemberSink {
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
    if (isGzip(h)) {
      if (!this.gunzip) {
        this.member.kept = { kind: 'no-gunzip' };
        this.route = () => undefined;
        return;
      }
      this.layer(true);
      return;
    }
    if (isZstd(h)) {
      this.member.kept = { kind: 'zstd' };
      this.route = () => undefined;
      return;
    }
    // A tar (a layer of any size) is recorded, never kept: however many small layers an image has.
    if (h.length === HEAD && isTar(h)) {
      this.layer(false);
      return;
    }
    let first = 0;
    while (first < h.length && (h[first] === 0x20 || h[first] === 0x0a || h[first] === 0x0d || h[first] === 0x09)) first++;
    const json = h[first] === 0x7b || h[first] === 0x5b;
    // JSON documents, and small members of no known kind (read later if a manifest names them).
    if ((json && size <= JSON_MAX) || size <= SMALL_MEMBER) {
      this.budget.smallMember(size);
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
