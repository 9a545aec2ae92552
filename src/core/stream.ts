// Incremental parsing: chunks go straight into the wasm input region as they arrive (the region
// grows by doubling), the magic is checked as soon as the first bytes are in, and end() parses
// in place. The result is the same as a one-shot parse of the concatenated chunks.
import { LdCacheError } from './errors.js';
import { acquireInput, memoryView, type InputHolder } from './input-region.js';
import type { ParsedLdCache } from './ldcache.js';
import { callCore, coreError, parseLdCacheInPlace, type ParseOptions } from './parse.js';

export interface StreamParseOptions extends ParseOptions {
  /** Expected total size (e.g. from fstat): reserves the region once. */
  sizeHint?: number;
}

export interface LdCacheParser {
  /** Adds the next chunk. Throws LdCacheError BAD_MAGIC as soon as the first bytes cannot start a cache. */
  push(chunk: Uint8Array): void;
  /** Parses everything pushed so far. */
  end(): ParsedLdCache;
  /** Bytes pushed so far. */
  readonly length: number;
}

const MIN_CAPACITY = 64 * 1024;
const MAGIC_BYTES = 20;
const MAX_INPUT = 0xffff_0000;

class StreamingParser implements LdCacheParser, InputHolder {
  readonly #file: string | undefined;
  readonly #options: StreamParseOptions;
  #length = 0;
  #capacity = 0;
  #address = 0;
  /** Our bytes, copied out when another parse took the region. */
  #evicted: Uint8Array | undefined;
  #finished = false;
  #ending = false;

  constructor(options: StreamParseOptions) {
    this.#file = options.file;
    this.#options = options;
    const hint = options.sizeHint;
    if (hint !== undefined && Number.isFinite(hint) && hint > 0) this.#reserve(Math.min(hint, MAX_INPUT));
  }

  get length(): number {
    return this.#length;
  }

  evict(): void {
    if (this.#ending || this.#evicted || this.#capacity === 0) return;
    this.#evicted = memoryView(this.#address, this.#length).slice();
  }

  /** Makes room for `capacity` bytes, restoring our bytes if another parse took the region. */
  #reserve(capacity: number): void {
    const address = acquireInput(capacity, this);
    if (this.#evicted) {
      memoryView(address, this.#evicted.length).set(this.#evicted);
      this.#evicted = undefined;
    }
    this.#address = address;
    this.#capacity = capacity;
  }

  push(chunk: Uint8Array): void {
    if (this.#finished) throw new Error('LdCacheParser: push() after end()');
    if (chunk.length === 0) return;
    const need = this.#length + chunk.length;
    if (need > MAX_INPUT) {
      this.#finished = true;
      throw new LdCacheError('OUT_OF_MEMORY', `cannot hold ${need} bytes in wasm memory`, 0, this.#file);
    }
    if (need > this.#capacity || this.#evicted) {
      const grown = need > this.#capacity ? Math.min(Math.max(need, this.#capacity * 2, MIN_CAPACITY), MAX_INPUT) : this.#capacity;
      callCore(this.#file, () => this.#reserve(grown));
    }
    memoryView(this.#address + this.#length, chunk.length).set(chunk);
    const before = this.#length;
    this.#length = need;
    if (before < MAGIC_BYTES) this.#probe(Math.min(need, MAGIC_BYTES));
  }

  /** Fails fast when the first bytes cannot start either magic. */
  #probe(length: number): void {
    const code = callCore(this.#file, (core) => core.probeCache(length));
    if (code !== 0) {
      this.#finished = true;
      throw coreError(code, this.#file);
    }
  }

  end(): ParsedLdCache {
    if (this.#finished) throw new Error('LdCacheParser: end() called twice or after an error');
    this.#finished = true;
    if (this.#evicted) callCore(this.#file, () => this.#reserve(this.#length));
    // The cache takes the region over: nothing to copy out of it.
    this.#ending = true;
    return parseLdCacheInPlace(this.#length, this.#file, this.#options);
  }
}

/** An incremental parser: `push(chunk)` as bytes arrive, then `end()`. */
export function createLdCacheParser(options: StreamParseOptions = {}): LdCacheParser {
  return new StreamingParser(options);
}

function isReadableStream(source: unknown): source is ReadableStream<Uint8Array> {
  return typeof (source as ReadableStream<Uint8Array>).getReader === 'function';
}

/** Parses a cache from a stream of chunks (a Node stream, a fetch body, any async iterable). */
export async function parseLdCacheStream(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options: StreamParseOptions = {},
): Promise<ParsedLdCache> {
  const parser = createLdCacheParser(options);
  if (isReadableStream(source) && !(Symbol.asyncIterator in source)) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch (err) {
      // Stop the producer: nothing more will be read.
      await reader.cancel(err).catch(() => undefined);
      throw err;
    } finally {
      reader.releaseLock();
    }
  } else {
    for await (const chunk of source as AsyncIterable<Uint8Array>) parser.push(chunk);
  }
  return parser.end();
}
