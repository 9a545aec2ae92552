// One entry of a ParsedLdCache: numbers read from the cache's table (or its input) on access,
// strings decoded on first read.
import { archBits, archName, isHwcapsExtension } from './abi.js';
import { entryToJSON, type EntryJSON } from './json.js';
import type { ParsedLdCache } from './ldcache.js';
import { E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET } from './ldcache-table.js';
import type { LdCacheEntry } from './types.js';

/** One entry: numbers read from the table on access, strings decoded once. */
export class CacheEntry implements LdCacheEntry {
  readonly index: number;
  readonly #cache: ParsedLdCache;
  #name: string | undefined;
  #path: string | undefined;

  constructor(cache: ParsedLdCache, index: number) {
    this.#cache = cache;
    this.index = index;
  }

  #word(field: number): number {
    return this.#cache.entryWord(this.index, field);
  }

  get flags(): number {
    return this.#cache.flagsAt(this.index) | 0;
  }
  get type(): number {
    return this.flags & 0xff;
  }
  get required(): number {
    return this.flags & 0xff00;
  }
  get arch(): string {
    return archName(this.flags, this.#cache.family);
  }
  get bits(): 32 | 64 | null {
    return archBits(this.flags, this.#cache.family);
  }
  get osVersion(): number {
    return this.#cache.osVersionAt(this.index);
  }
  get hwcap(): bigint {
    return (BigInt(this.#cache.hwcapHighAt(this.index)) << 32n) | BigInt(this.#cache.hwcapLowAt(this.index));
  }
  /** Whether hwcap marks a glibc-hwcaps extension entry (bit 62, bits 42-61 and 63 clear). */
  get isHwcapsEntry(): boolean {
    return isHwcapsExtension(this.#cache.hwcapHighAt(this.index));
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
    const bytes = this.hwcapNameBytes('truth');
    return bytes ? this.#cache.decode(bytes) : undefined;
  }
  /** The glibc-hwcaps name bytes, resolved the true way or glibc's way (they differ in compat files). */
  hwcapNameBytes(how: 'truth' | 'glibc'): Uint8Array | undefined {
    const index = this.hwcapIndex;
    return index === undefined ? undefined : this.#cache.hwcapNameBytes(index, how);
  }
  get name(): string {
    return (this.#name ??= this.#cache.decodeRange(this.nameOffset, this.nameLength));
  }
  get path(): string {
    return (this.#path ??= this.#cache.decodeRange(this.pathOffset, this.pathLength));
  }
  get nameBytes(): Uint8Array {
    return this.#cache.slice(this.#word(E_NAME_OFFSET), this.#word(E_NAME_LENGTH));
  }
  get pathBytes(): Uint8Array {
    return this.#cache.slice(this.#word(E_PATH_OFFSET), this.#word(E_PATH_LENGTH));
  }
  get nameOffset(): number {
    return this.#word(E_NAME_OFFSET);
  }
  get nameLength(): number {
    return this.#word(E_NAME_LENGTH);
  }
  get pathOffset(): number {
    return this.#word(E_PATH_OFFSET);
  }
  get pathLength(): number {
    return this.#word(E_PATH_LENGTH);
  }
  toJSON(): EntryJSON {
    return entryToJSON(this);
  }
}
