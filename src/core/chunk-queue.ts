// A queue between a producer that pushes synchronously (the outer tar reader handing out a
// member's content) and a consumer that pulls asynchronously (a decompressor), with a promise
// that says when the consumer has taken everything queued: the one-pass reader's backpressure.
// Browser-safe.

/** A queue between the outer tar (pushing, synchronously) and a decompressor (pulling). */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
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
