// The LdCache model over the core's result table. Nothing is done per entry until asked:
// entries are created on first access, strings decoded on first read. The input bytes and the
// table stay in wasm memory (no copy) until another parse needs the region (see the residency
// notes on ParsedLdCache). Views of wasm memory die when it grows, so every access goes through
// #words()/#input(), which re-create them when their buffer was detached.
import { cacheFamily, type CacheFamily } from './abi.js';
import type { InputHolder } from './input-region.js';
import { CacheEntry } from './ldcache-entry.js';
import { asciiArea, type AsciiArea } from './string-area.js';
import {
  NONE, H_FORMAT, H_ORDER, H_COUNT, H_ENTRIES, H_HWCAP_COUNT, H_GEN_OFF, H_GEN_LEN, H_NEW_HEADER, H_OLD_COUNT, H_EXT_OFF, H_LEN_STRINGS, H_FLAGS_BYTE, H_NEW_ALIGN, H_RECORDS, H_RECORD_SIZE, HEADER_WORDS, ENTRY_WORDS, HWCAP_WORDS,
} from './ldcache-table.js';
import type { ByteOrder, CacheFormat, LdCache, LdCacheEntry } from './types.js';

export * from './ldcache-table.js';

const FORMATS: readonly CacheFormat[] = ['old', 'new', 'compat'];

/** allocate + set() is markedly faster than slice() on views of wasm memory. */
function copyOf<T extends Uint8Array | Uint32Array>(view: T): T {
  const copy = new (view.constructor as new (length: number) => T)(view.length);
  copy.set(view as never);
  return copy;
}
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Where a parse result lives in wasm memory. */
export interface TableLocation {
  /** The memory they live in (a test can switch wasm builds: an older cache keeps its memory). */
  memory: WebAssembly.Memory;
  inputAddress: number;
  length: number;
  tableAddress: number;
  tableWords: number;
  /** The core's parse flags (PARSE_* in parse.ts), used again when the cache re-parses. */
  parseFlags: number;
}

/** The entry table: record `i` starts at `words[start + i * ENTRY_WORDS]`. Valid until the next parse or memory growth. */
export interface EntryTable {
  readonly words: Uint32Array;
  readonly start: number;
  readonly count: number;
}

/** Parses `bytes` again into wasm memory for `cache` (supplied by parse.ts). */
export type Reparse = (cache: ParsedLdCache, bytes: Uint8Array) => TableLocation;

/**
 * Residency: a fresh cache views its input and table in wasm memory. When another parse takes
 * the region, evict() keeps the input (the caller's bytes when parseLdCache got them, else a
 * copy) and drops the table: a cache nobody touches again (the usual case) costs nothing more.
 * If it is used again, it parses its bytes again (same result); if it is then evicted a second
 * time it copies its table out for good, so two caches used in turn do not thrash.
 */
export class ParsedLdCache implements LdCache, InputHolder {
  /** The file the bytes came from, where known. */
  readonly file: string | undefined;
  #location: TableLocation | undefined;
  #reparse: Reparse | undefined;
  /** The input outside wasm memory: the caller's bytes, or a copy made at eviction. */
  #source: Uint8Array | undefined;
  /** The table, copied out for good at a second eviction. */
  #ownWords: Uint32Array | undefined;
  #evictions = 0;
  #bytesView: Uint8Array | undefined;
  #wordsView: Uint32Array | undefined;
  #entries: (CacheEntry | undefined)[] | undefined;
  #family: CacheFamily | undefined;
  #generator: string | undefined | null = null;
  #hwcapDirs: string[] | undefined;
  /** Names and paths decoded at once (undefined: not tried yet; null: not all ASCII). */
  #asciiArea: AsciiArea | null | undefined;

  constructor(file?: string) {
    this.file = file;
  }

  /** Points the model at a successful parse result (by parse.ts, also after a re-parse). */
  attach(location: TableLocation, reparse: Reparse): void {
    this.#location = location;
    this.#parseFlags = location.parseFlags;
    this.#reparse = reparse;
    this.#bytesView = this.#wordsView = undefined;
  }

  /**
   * Lets eviction keep the caller's bytes instead of copying the input out (parseLdCache):
   * the caller must not modify them while the cache is in use.
   */
  keepSource(bytes: Uint8Array): void {
    this.#source = bytes;
  }

  evict(): void {
    const location = this.#location;
    if (!location) return;
    this.#refresh();
    if (!this.#source || this.#source.length !== location.length) this.#source = copyOf(this.#bytesView!);
    if (++this.#evictions > 1) this.#ownWords = copyOf(this.#wordsView!);
    this.#location = undefined;
    this.#bytesView = this.#wordsView = undefined;
  }

  /** (Re)creates the views of wasm memory: growing memory detaches the old buffer (byteLength 0). */
  #refresh(): void {
    if (this.#wordsView && this.#wordsView.byteLength !== 0) return;
    const location = this.#location!;
    const buffer = location.memory.buffer;
    this.#bytesView = new Uint8Array(buffer, location.inputAddress, location.length);
    this.#wordsView = new Uint32Array(buffer, location.tableAddress, location.tableWords);
  }

  #input(): Uint8Array {
    if (!this.#location) return this.#source!;
    this.#refresh();
    return this.#bytesView!;
  }

  #words(): Uint32Array {
    if (this.#ownWords) return this.#ownWords;
    if (!this.#location) this.#reparse!(this, this.#source!);
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

  /** The core's parse flags this cache was parsed with. */
  get parseFlags(): number {
    return this.#location?.parseFlags ?? this.#parseFlags;
  }
  #parseFlags = 0;

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

  /** The file offset of entry `index`'s record in the entry array. */
  recordOffset(index: number): number {
    return this.headerWord(H_RECORDS) + index * this.headerWord(H_RECORD_SIZE);
  }

  #u32(offset: number): number {
    const b = this.#input();
    return this.headerWord(H_ORDER) === 1
      ? ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0
      : (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
  }

  /** Entry `index`'s raw flags word (unsigned). */
  flagsAt(index: number): number {
    return this.#u32(this.recordOffset(index));
  }

  /** Entry `index`'s osversion (0 for old-format entries). */
  osVersionAt(index: number): number {
    return this.headerWord(H_FORMAT) === 0 ? 0 : this.#u32(this.recordOffset(index) + 12);
  }

  /** The high and low 32-bit words of entry `index`'s hwcap (0 for old-format entries). */
  hwcapHighAt(index: number): number {
    if (this.headerWord(H_FORMAT) === 0) return 0;
    return this.#u32(this.recordOffset(index) + (this.headerWord(H_ORDER) === 1 ? 16 : 20));
  }

  hwcapLowAt(index: number): number {
    if (this.headerWord(H_FORMAT) === 0) return 0;
    return this.#u32(this.recordOffset(index) + (this.headerWord(H_ORDER) === 1 ? 20 : 16));
  }

  /** A view of `length` parsed bytes at `offset`. */
  slice(offset: number, length: number): Uint8Array {
    return this.#input().subarray(offset, offset + length);
  }

  /** The family that names generic 32-bit entries (`i386` in an x86 cache, …). */
  get family(): CacheFamily {
    if (this.#family === undefined) {
      const required = new Set<number>();
      for (let i = 0; i < this.count; i++) required.add(this.flagsAt(i) & 0xff00);
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
    const entries = (this.#entries ??= new Array<CacheEntry | undefined>(count));
    for (let i = 0; i < count; i++) entries[i] ??= new CacheEntry(this, i);
    return entries as CacheEntry[];
  }

  *[Symbol.iterator](): Iterator<LdCacheEntry> {
    const count = this.count;
    for (let i = 0; i < count; i++) yield this.entry(i);
  }

  /** @internal Decodes bytes with replacement characters. */
  decode(bytes: Uint8Array): string {
    return decoder.decode(bytes);
  }

  /** The parsed bytes [offset, offset + length) as UTF-8 with replacement characters. */
  decodeRange(offset: number, length: number): string {
    const area = this.#stringArea();
    if (area !== null && offset >= area.start && offset + length <= area.end) {
      return area.text.substring(offset - area.start, offset - area.start + length);
    }
    return decoder.decode(this.#input().subarray(offset, offset + length));
  }

  #stringArea(): AsciiArea | null {
    if (this.#asciiArea === undefined) {
      const words = this.#words();
      this.#asciiArea = asciiArea(this.#input(), words, words[H_ENTRIES], this.count, ENTRY_WORDS);
    }
    return this.#asciiArea;
  }
}
