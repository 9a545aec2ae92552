// The LdCache model over the core's result table. Nothing is done per entry until asked:
// entries are created on first access, strings decoded on first read. The input bytes and the
// table stay in wasm memory (no copy) until another parse needs the region; then evict()
// copies both out. Views of wasm memory die when it grows, so every access goes through
// #words()/#input(), which re-create them when the buffer changed.
import { archBits, archName, cacheFamily, isHwcapsExtension, type CacheFamily } from './abi.js';
import type { InputHolder } from './input-region.js';
import { entryToJSON, type EntryJSON } from './json.js';
import type { ByteOrder, CacheFormat, LdCache, LdCacheEntry } from './types.js';
import { wasmExports } from './wasm.js';

/** "No value" in table words. */
export const NONE = 0xffffffff;

// Header words (see assembly/cache.ts).
export const H_ERROR = 0;
export const H_ERROR_OFFSET = 1;
export const H_FORMAT = 2;
export const H_ORDER = 3;
export const H_COUNT = 4;
export const H_ENTRIES = 5;
export const H_HWCAP_COUNT = 6;
export const H_HWCAPS = 7;
export const H_GEN_OFF = 8;
export const H_GEN_LEN = 9;
export const H_NEW_HEADER = 10;
export const H_OLD_COUNT = 11;
export const H_STRING_BASE = 12;
export const H_EXT_OFF = 13;
export const H_LEN_STRINGS = 14;
export const H_FLAGS_BYTE = 15;
export const H_ERROR_ENTRY = 16;
export const H_ERROR_VALUE = 17;
export const H_EXT_COUNT = 18;
export const H_NEW_ALIGN = 19;
export const HEADER_WORDS = 20;

/** Words per entry record, and what each holds (for fast loops over `entryTable()`). */
export const ENTRY_WORDS = 8;
export const E_FLAGS = 0;
export const E_NAME_OFFSET = 1;
export const E_NAME_LENGTH = 2;
export const E_PATH_OFFSET = 3;
export const E_PATH_LENGTH = 4;
export const E_OSVERSION = 5;
export const E_HWCAP_LO = 6;
export const E_HWCAP_HI = 7;
/** Words per glibc-hwcaps name record: truthOffset, truthLength, glibcOffset, glibcLength. */
export const HWCAP_WORDS = 4;

const FORMATS: readonly CacheFormat[] = ['old', 'new', 'compat'];
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Where a parse result lives in wasm memory. */
export interface TableLocation {
  inputAddress: number;
  length: number;
  tableAddress: number;
  tableWords: number;
}

/** The entry table: record `i` starts at `words[start + i * ENTRY_WORDS]`. Valid until the next parse or memory growth. */
export interface EntryTable {
  readonly words: Uint32Array;
  readonly start: number;
  readonly count: number;
}

export class ParsedLdCache implements LdCache, InputHolder {
  /** The file the bytes came from, where known. */
  readonly file: string | undefined;
  #location: TableLocation | undefined;
  #ownBytes: Uint8Array | undefined;
  #ownWords: Uint32Array | undefined;
  #buffer: ArrayBufferLike | undefined;
  #bytesView: Uint8Array | undefined;
  #wordsView: Uint32Array | undefined;
  #entries: (CacheEntry | undefined)[] | undefined;
  #family: CacheFamily | undefined;
  #generator: string | undefined | null = null;
  #hwcapDirs: string[] | undefined;

  constructor(file?: string) {
    this.file = file;
  }

  /** Points the model at a successful parse result (called once, by parse.ts). */
  attach(location: TableLocation): void {
    this.#location = location;
  }

  evict(): void {
    const location = this.#location;
    if (!location || this.#ownBytes) return;
    this.#ownBytes = this.#input().slice();
    this.#ownWords = this.#words().slice();
    this.#bytesView = this.#wordsView = this.#buffer = undefined;
  }

  #refresh(): void {
    const location = this.#location!;
    const buffer = wasmExports().memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer;
      this.#bytesView = new Uint8Array(buffer, location.inputAddress, location.length);
      this.#wordsView = new Uint32Array(buffer, location.tableAddress, location.tableWords);
    }
  }

  #input(): Uint8Array {
    if (this.#ownBytes) return this.#ownBytes;
    this.#refresh();
    return this.#bytesView!;
  }

  #words(): Uint32Array {
    if (this.#ownWords) return this.#ownWords;
    this.#refresh();
    return this.#wordsView!;
  }

  /** One header word of the result table. */
  headerWord(index: number): number {
    return this.#words()[index];
  }

  /** The parsed bytes (a view of wasm memory until evicted: do not keep it across another parse). */
  get bytes(): Uint8Array {
    return this.#input();
  }

  get format(): CacheFormat {
    return FORMATS[this.headerWord(H_FORMAT)];
  }

  get byteOrder(): ByteOrder {
    return this.headerWord(H_ORDER) === 1 ? 'big' : 'little';
  }

  get count(): number {
    return this.headerWord(H_COUNT);
  }

  /** Offset of the new header (0 for new files, after the old table in compat files), or null for old-only files. */
  get newHeaderOffset(): number | null {
    const at = this.headerWord(H_NEW_HEADER);
    return at === NONE ? null : at;
  }

  /** nlibs of the old table (old and compat files; 0 for new-only). */
  get oldCount(): number {
    return this.headerWord(H_OLD_COUNT);
  }

  /** Compat files: the alignment the new header was found at (8, or 4 for 32-bit writers); null otherwise. */
  get compatAlignment(): 8 | 4 | null {
    const align = this.headerWord(H_NEW_ALIGN);
    return align === 8 || align === 4 ? align : null;
  }

  get extensionOffset(): number {
    return this.headerWord(H_EXT_OFF);
  }

  get lenStrings(): number {
    return this.headerWord(H_LEN_STRINGS);
  }

  /** The new header's flags byte (endianness in bits 0-1), 0 for old-only files. */
  get headerFlags(): number {
    return this.headerWord(H_FLAGS_BYTE);
  }

  /** The raw generator section, if the extension has one (arbitrary bytes, no NUL). */
  get generatorBytes(): Uint8Array | undefined {
    const offset = this.headerWord(H_GEN_OFF);
    if (offset === NONE) return undefined;
    return this.#input().subarray(offset, offset + this.headerWord(H_GEN_LEN));
  }

  get generator(): string | undefined {
    if (this.#generator === null) {
      const bytes = this.generatorBytes;
      this.#generator = bytes ? decoder.decode(bytes) : undefined;
    }
    return this.#generator;
  }

  /** Number of names in the glibc-hwcaps section. */
  get hwcapCount(): number {
    return this.headerWord(H_HWCAP_COUNT);
  }

  get hwcapDirs(): readonly string[] {
    if (!this.#hwcapDirs) {
      const dirs: string[] = [];
      for (let i = 0; i < this.hwcapCount; i++) dirs.push(this.#decode(this.hwcapNameBytes(i, 'truth')) ?? '');
      this.#hwcapDirs = dirs;
    }
    return this.#hwcapDirs;
  }

  /**
   * The bytes of glibc-hwcaps name `index`: `truth` resolves it from the new header (what the
   * writer meant), `glibc` from the file start (what glibc's readers do; differs in compat files).
   */
  hwcapNameBytes(index: number, how: 'truth' | 'glibc'): Uint8Array | undefined {
    if (!(index >= 0 && index < this.hwcapCount)) return undefined;
    const words = this.#words();
    const record = HEADER_WORDS + index * HWCAP_WORDS + (how === 'truth' ? 0 : 2);
    const offset = words[record];
    if (offset === NONE) return undefined;
    return this.#input().subarray(offset, offset + words[record + 1]);
  }

  #decode(bytes: Uint8Array | undefined): string | undefined {
    return bytes ? decoder.decode(bytes) : undefined;
  }

  /** The entry records, for loops that want numbers only (no objects, no strings). */
  entryTable(): EntryTable {
    return { words: this.#words(), start: this.headerWord(H_ENTRIES), count: this.count };
  }

  /** One word of entry `index`'s record (see the E_* constants). */
  entryWord(index: number, field: number): number {
    const words = this.#words();
    return words[words[H_ENTRIES] + index * ENTRY_WORDS + field];
  }

  /** A view of `length` parsed bytes at `offset`. */
  slice(offset: number, length: number): Uint8Array {
    return this.#input().subarray(offset, offset + length);
  }

  /** The family that names generic 32-bit entries (`i386` in an x86 cache, …). */
  get family(): CacheFamily {
    if (this.#family === undefined) {
      const { words, start, count } = this.entryTable();
      const required = new Set<number>();
      for (let i = 0; i < count; i++) required.add(words[start + i * ENTRY_WORDS + E_FLAGS] & 0xff00);
      this.#family = cacheFamily(required);
    }
    return this.#family;
  }

  entry(index: number): LdCacheEntry {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) throw new RangeError(`no entry ${index}`);
    const entries = (this.#entries ??= new Array<CacheEntry | undefined>(this.count));
    return (entries[index] ??= new CacheEntry(this, index));
  }

  get entries(): readonly LdCacheEntry[] {
    const count = this.count;
    for (let i = 0; i < count; i++) this.entry(i);
    return this.#entries as CacheEntry[];
  }

  *[Symbol.iterator](): Iterator<LdCacheEntry> {
    const count = this.count;
    for (let i = 0; i < count; i++) yield this.entry(i);
  }

  /** @internal Decodes bytes with replacement characters. */
  decode(bytes: Uint8Array): string {
    return decoder.decode(bytes);
  }
}

/** One entry: numbers read from the table on access, strings decoded once. */
class CacheEntry implements LdCacheEntry {
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
    return this.#word(E_FLAGS) | 0;
  }
  get type(): number {
    return this.#word(E_FLAGS) & 0xff;
  }
  get required(): number {
    return this.#word(E_FLAGS) & 0xff00;
  }
  get arch(): string {
    return archName(this.flags, this.#cache.family);
  }
  get bits(): 32 | 64 | null {
    return archBits(this.flags, this.#cache.family);
  }
  get osVersion(): number {
    return this.#word(E_OSVERSION);
  }
  get hwcap(): bigint {
    return (BigInt(this.#word(E_HWCAP_HI)) << 32n) | BigInt(this.#word(E_HWCAP_LO));
  }
  /** Whether hwcap marks a glibc-hwcaps extension entry (bit 62, bits 42-61 and 63 clear). */
  get isHwcapsEntry(): boolean {
    return isHwcapsExtension(this.#word(E_HWCAP_HI));
  }
  /** The ISA level of an extension entry (x86: 1 = v2, 2 = v3, 3 = v4), else 0. */
  get isaLevel(): number {
    return this.isHwcapsEntry ? this.#word(E_HWCAP_HI) & 0x3ff : 0;
  }
  /** Index into the glibc-hwcaps names of an extension entry, else undefined. */
  get hwcapIndex(): number | undefined {
    return this.isHwcapsEntry ? this.#word(E_HWCAP_LO) : undefined;
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
    return (this.#name ??= this.#cache.decode(this.nameBytes));
  }
  get path(): string {
    return (this.#path ??= this.#cache.decode(this.pathBytes));
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
