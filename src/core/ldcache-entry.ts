// One entry of a ParsedLdCache: a view of (cache, index). Every field is read from the cache's
// table or input when asked; nothing is stored but the index, so making one costs one small
// object and iterating a 200,000-entry cache keeps none of them alive.
import { entryToJSON, type EntryJSON } from './json.js';
import type { ParsedLdCache } from './ldcache.js';
import { E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET } from './ldcache-table.js';
import type { LdCacheEntry } from './types.js';

export class CacheEntry implements LdCacheEntry {
  readonly index: number;
  readonly #cache: ParsedLdCache;

  constructor(cache: ParsedLdCache, index: number) {
    this.#cache = cache;
    this.index = index;
  }

  get flags(): number {
    return this.#cache.flagsAt(this.index) | 0;
  }
  get type(): number {
    return this.#cache.flagsAt(this.index) & 0xff;
  }
  get required(): number {
    return this.#cache.flagsAt(this.index) & 0xff00;
  }
  get arch(): string {
    return this.#cache.archAt(this.index);
  }
  get bits(): 32 | 64 | null {
    return this.#cache.bitsAt(this.index);
  }
  get osVersion(): number {
    return this.#cache.osVersionAt(this.index);
  }
  get hwcap(): bigint {
    return this.#cache.hwcapAt(this.index);
  }
  /** Whether hwcap marks a glibc-hwcaps extension entry (bit 62, bits 42-61 and 63 clear). */
  get isHwcapsEntry(): boolean {
    return this.#cache.isHwcapsAt(this.index);
  }
  /** The ISA level of an extension entry (x86: 1 = v2, 2 = v3, 3 = v4), else 0. */
  get isaLevel(): number {
    return this.isHwcapsEntry ? this.#cache.hwcapHighAt(this.index) & 0x3ff : 0;
  }
  /** Index into the glibc-hwcaps names of an extension entry, else undefined. */
  get hwcapIndex(): number | undefined {
    return this.isHwcapsEntry ? this.#cache.hwcapLowAt(this.index) : undefined;
  }
  get hwcapName(): string | undefined {
    return this.#cache.hwcapNameAt(this.index);
  }
  /** The glibc-hwcaps name bytes, resolved the true way or glibc's way (they differ in compat files). */
  hwcapNameBytes(how: 'truth' | 'glibc'): Uint8Array | undefined {
    const index = this.hwcapIndex;
    return index === undefined ? undefined : this.#cache.hwcapNameBytes(index, how);
  }
  get name(): string {
    return this.#cache.nameAt(this.index);
  }
  get path(): string {
    return this.#cache.pathAt(this.index);
  }
  get nameBytes(): Uint8Array {
    return this.#cache.slice(this.nameOffset, this.nameLength);
  }
  get pathBytes(): Uint8Array {
    return this.#cache.slice(this.pathOffset, this.pathLength);
  }
  get nameOffset(): number {
    return this.#cache.entryWord(this.index, E_NAME_OFFSET);
  }
  get nameLength(): number {
    return this.#cache.entryWord(this.index, E_NAME_LENGTH);
  }
  get pathOffset(): number {
    return this.#cache.entryWord(this.index, E_PATH_OFFSET);
  }
  get pathLength(): number {
    return this.#cache.entryWord(this.index, E_PATH_LENGTH);
  }
  toJSON(): EntryJSON {
    return entryToJSON(this);
  }
}

/** The cache's iterator: one fresh entry per step (a class, not a generator: cheaper per step). */
export class CacheIterator implements Iterator<LdCacheEntry> {
  readonly #cache: ParsedLdCache;
  readonly #count: number;
  #next = 0;

  constructor(cache: ParsedLdCache) {
    this.#cache = cache;
    this.#count = cache.count;
  }

  next(): IteratorResult<LdCacheEntry> {
    const i = this.#next;
    if (i >= this.#count) return { done: true, value: undefined };
    this.#next = i + 1;
    return { done: false, value: new CacheEntry(this.#cache, i) };
  }

  [Symbol.iterator](): Iterator<LdCacheEntry> {
    return this;
  }
}
