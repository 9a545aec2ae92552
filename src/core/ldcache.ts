// The LdCache model over the core's result table. Nothing is done per entry until asked: an
// entry object is a small view (cache + index) made when asked for, and its strings are made
// when read. The header facts are read once, at construction, into plain fields.
//
// Residency, the simple model: the table (and, for in-place parses, the input) stay where the
// core left them in wasm memory (no copy), and the cache is the input region's holder. When
// another parse takes the region, evict() copies them out once (3 MB of table per 200,000
// entries; the input only when the caller's own bytes are not kept) and the cache reads its
// copies from then on. Nothing else can grow or reuse wasm memory without taking the region
// first, so views are valid until evict() replaces them.
import { archBits, archName, cacheFamily, isHwcapsExtension, type CacheFamily } from './abi.js';
import type { InputHolder } from './input-region.js';
import { CacheEntry, CacheIterator } from './ldcache-entry.js';
import {
  NONE, H_FORMAT, H_ORDER, H_COUNT, H_ENTRIES, H_HWCAP_COUNT, H_GEN_OFF, H_GEN_LEN, H_OLD_COUNT, H_NEW_ALIGN, H_RECORDS, H_RECORD_SIZE,
  H_STRINGS_START, H_STRINGS_END, H_STRINGS_ASCII, HEADER_WORDS, ENTRY_WORDS, HWCAP_WORDS, E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET,
} from './ldcache-table.js';
import type { ByteOrder, CacheFormat, LdCache, LdCacheEntry } from './types.js';

export * from './ldcache-table.js';

const FORMATS: readonly CacheFormat[] = ['old', 'new', 'compat'];

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Where a parse result lives in wasm memory. */
export interface TableLocation {
  /** The memory they live in (a test can switch wasm builds: an older cache keeps its memory). */
  memory: WebAssembly.Memory;
  inputAddress: number;
  length: number;
  tableAddress: number;
  tableWords: number;
  /** The core's parse flags (PARSE_* in parse.ts). */
  parseFlags: number;
}

/** Where the entry records are in the parsed bytes (see ParsedLdCache.recordLayout). */
export interface RecordLayout {
  readonly view: DataView;
  readonly records: number;
  readonly recordSize: number;
  readonly little: boolean;
  readonly old: boolean;
}

/** Per ABI byte: the arch name and pointer width (see ParsedLdCache.archTables). */
export interface ArchTables {
  readonly names: readonly string[];
  readonly bits: readonly (32 | 64 | null)[];
}

/** The entry table: record `i` starts at `words[start + i * ENTRY_WORDS]`. Valid until the next parse. */
export interface EntryTable {
  readonly words: Uint32Array;
  readonly start: number;
  readonly count: number;
}

interface NodeBuffer {
  from(buffer: ArrayBufferLike, offset: number, length: number): { latin1Slice(start: number, end: number): string };
}
/** Node's Buffer where there is one (found, not imported: this module is browser-safe). */
const nodeBuffer = (globalThis as unknown as { Buffer?: NodeBuffer }).Buffer;

/**
 * The text of bytes [low, high) that the core found all ASCII: one character per byte. Node's
 * latin1 slice is several times faster than its TextDecoder; browsers' TextDecoder is fast.
 */
function asciiSlice(bytes: Uint8Array, low: number, high: number): string {
  if (nodeBuffer && typeof nodeBuffer.from === 'function') return nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).latin1Slice(low, high);
  return decoder.decode(bytes.subarray(low, high));
}

/**
 * The decoded string area when every name and path lies in one all-ASCII range: each string is
 * then a substring (V8 makes a slice, no copy). null when some byte is not ASCII.
 */
function asciiText(bytes: Uint8Array, low: number, high: number): string | null {
  if (!(high > low)) return null;
  const text = decoder.decode(bytes.subarray(low, high));
  // Every byte gives at most one UTF-16 unit, and an invalid one gives U+FFFD: one unit per
  // byte and no U+FFFD means every byte was ASCII (a leading BOM would be dropped: also caught).
  return text.length === high - low && text.indexOf('\uFFFD') < 0 ? text : null;
}

export class ParsedLdCache implements LdCache, InputHolder {
  /** The file the bytes came from, where known. */
  readonly file: string | undefined;
  readonly format: CacheFormat;
  readonly byteOrder: ByteOrder;
  /** Number of entries, as `ldconfig -p` prints it. */
  readonly count: number;
  /** nlibs of the old table (old and compat files; 0 for new-only). */
  readonly oldCount: number;
  /** Compat files: the alignment the new header was found at (8, or 4 for 32-bit writers); null otherwise. */
  readonly compatAlignment: 8 | 4 | null;
  /** The core's parse flags this cache was parsed with. */
  readonly parseFlags: number;
  /** Number of names in the glibc-hwcaps section. */
  readonly hwcapCount: number;
  #words: Uint32Array;
  #bytes: Uint8Array;
  #view: DataView | undefined;
  /** Whether #bytes is the caller's (kept at eviction) rather than a view of wasm memory. */
  #ownBytes = false;
  readonly #little: boolean;
  readonly #old: boolean;
  readonly #start: number;
  readonly #records: number;
  readonly #recordSize: number;
  #family: CacheFamily | undefined;
  #generator: string | undefined | null = null;
  #hwcapDirs: string[] | undefined;
  /** The all-ASCII string area (undefined: not tried yet; null: not all ASCII) and its start. */
  #text: string | null | undefined;
  #textStart = 0;
  #entries: CacheEntry[] | undefined;
  /** Where the table and input are in wasm memory while this cache holds the region; undefined once evicted. */
  #location: TableLocation | undefined;
  /** Counts the times the table or bytes were replaced (keepSource, evict, reattach). */
  #tableEpoch = 0;

  constructor(location: TableLocation, file?: string) {
    this.file = file;
    this.#location = location;
    const buffer = location.memory.buffer;
    const words = new Uint32Array(buffer, location.tableAddress, location.tableWords);
    this.#words = words;
    this.#bytes = new Uint8Array(buffer, location.inputAddress, location.length);
    this.parseFlags = location.parseFlags;
    this.format = FORMATS[words[H_FORMAT]!]!;
    this.#old = this.format === 'old';
    this.#little = words[H_ORDER] !== 1;
    this.byteOrder = this.#little ? 'little' : 'big';
    this.count = words[H_COUNT]!;
    this.oldCount = words[H_OLD_COUNT]!;
    const align = words[H_NEW_ALIGN];
    this.compatAlignment = align === 8 || align === 4 ? align : null;
    this.hwcapCount = words[H_HWCAP_COUNT]!;
    this.#start = words[H_ENTRIES]!;
    this.#records = words[H_RECORDS]!;
    this.#recordSize = words[H_RECORD_SIZE]!;
  }

  /** Reads from the caller's `bytes` instead of wasm memory (parseLdCache): they must not change while the cache is in use. */
  keepSource(bytes: Uint8Array): void {
    this.#bytes = bytes;
    this.#view = undefined;
    this.#ownBytes = true;
    this.#tableEpoch++;
  }

  /** Another parse takes the wasm region: copy the table (and the input, unless it is the caller's) out. */
  evict(): void {
    this.#location = undefined;
    this.#words = this.#words.slice();
    if (!this.#ownBytes) {
      this.#bytes = this.#bytes.slice();
      this.#ownBytes = true;
    }
    this.#view = undefined;
    this.#tableEpoch++;
  }

  /**
   * @internal Changes whenever the arrays recordLayout() and entryTable() return are replaced:
   * a reader that keeps them (cacheToJSON's entry views) takes them again when it changes.
   */
  get tableEpoch(): number {
    return this.#tableEpoch;
  }

  /**
   * @internal Where the core's result for this cache is, while it is the last parse (so the core
   * can work on it in place, e.g. format it); undefined once another parse took the region.
   */
  residentLocation(): TableLocation | undefined {
    return this.#location;
  }

  /** @internal Re-creates the views of wasm memory after the caller grew it (views die when it grows). */
  reattach(): void {
    const location = this.#location;
    if (!location || this.#words.byteLength !== 0) return;
    const buffer = location.memory.buffer;
    this.#words = new Uint32Array(buffer, location.tableAddress, location.tableWords);
    if (!this.#ownBytes) this.#bytes = new Uint8Array(buffer, location.inputAddress, location.length);
    this.#view = undefined;
    this.#tableEpoch++;
  }

  #dataView(): DataView {
    const b = this.#bytes;
    return (this.#view ??= new DataView(b.buffer, b.byteOffset, b.byteLength));
  }

  /** One header word of the result table. */
  headerWord(index: number): number {
    return this.#words[index]!;
  }

  /** The parsed bytes (a view of wasm memory until another parse: do not keep it across one). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** The raw generator section, if the extension has one (arbitrary bytes, no NUL). */
  get generatorBytes(): Uint8Array | undefined {
    const offset = this.#words[H_GEN_OFF]!;
    if (offset === NONE) return undefined;
    return this.#bytes.subarray(offset, offset + this.#words[H_GEN_LEN]!);
  }

  get generator(): string | undefined {
    if (this.#generator === null) {
      const bytes = this.generatorBytes;
      this.#generator = bytes ? decoder.decode(bytes) : undefined;
    }
    return this.#generator;
  }

  get hwcapDirs(): readonly string[] {
    if (!this.#hwcapDirs) {
      const dirs: string[] = [];
      for (let i = 0; i < this.hwcapCount; i++) {
        const bytes = this.hwcapNameBytes(i, 'truth');
        dirs.push(bytes ? decoder.decode(bytes) : '');
      }
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
    const words = this.#words;
    const record = HEADER_WORDS + index * HWCAP_WORDS + (how === 'truth' ? 0 : 2);
    const offset = words[record]!;
    if (offset === NONE) return undefined;
    return this.#bytes.subarray(offset, offset + words[record + 1]!);
  }

  /**
   * @internal For loops over every record (cacheToJSON): a view of the parsed bytes, where the
   * records start, their size, the byte order, and whether they are old-format (no osversion,
   * no hwcap). Valid until the next parse.
   */
  recordLayout(): RecordLayout {
    return { view: this.#dataView(), records: this.#records, recordSize: this.#recordSize, little: this.#little, old: this.#old };
  }

  /**
   * @internal The decoded string area when every name and path is in one all-ASCII range: entry
   * strings are its substrings from `start` (a file offset). null when some byte is not ASCII.
   */
  stringArea(): { text: string; start: number } | null {
    const text = this.#text === undefined ? this.#decodeArea() : this.#text;
    return text === null ? null : { text, start: this.#textStart };
  }

  /** The entry records, for loops that want numbers only (no objects, no strings). Valid until the next parse. */
  entryTable(): EntryTable {
    return { words: this.#words, start: this.#start, count: this.count };
  }

  /** One word of entry `index`'s record (see the E_* constants). */
  entryWord(index: number, field: number): number {
    return this.#words[this.#start + index * ENTRY_WORDS + field]!;
  }

  /** The file offset of entry `index`'s record in the entry array. */
  recordOffset(index: number): number {
    return this.#records + index * this.#recordSize;
  }

  /** Entry `index`'s raw flags word (unsigned). */
  flagsAt(index: number): number {
    return this.#dataView().getUint32(this.#records + index * this.#recordSize, this.#little);
  }

  /** Entry `index`'s osversion (0 for old-format entries). */
  osVersionAt(index: number): number {
    return this.#old ? 0 : this.#dataView().getUint32(this.#records + index * this.#recordSize + 12, this.#little);
  }

  /** The high and low 32-bit words of entry `index`'s hwcap (0 for old-format entries). */
  hwcapHighAt(index: number): number {
    if (this.#old) return 0;
    return this.#dataView().getUint32(this.#records + index * this.#recordSize + (this.#little ? 20 : 16), this.#little);
  }

  hwcapLowAt(index: number): number {
    if (this.#old) return 0;
    return this.#dataView().getUint32(this.#records + index * this.#recordSize + (this.#little ? 16 : 20), this.#little);
  }

  /** Entry `index`'s hwcap as a bigint (no allocation for the usual 0). */
  hwcapAt(index: number): bigint {
    if (this.#old) return 0n;
    const at = this.#records + index * this.#recordSize + 16;
    const view = this.#dataView();
    if (view.getUint32(at, true) === 0 && view.getUint32(at + 4, true) === 0) return 0n;
    return view.getBigUint64(at, this.#little);
  }

  /** A view of `length` parsed bytes at `offset`. */
  slice(offset: number, length: number): Uint8Array {
    return this.#bytes.subarray(offset, offset + length);
  }

  /** The family that names generic 32-bit entries (`i386` in an x86 cache, …): the first entry whose ABI tells. */
  get family(): CacheFamily {
    if (this.#family === undefined) {
      let family: CacheFamily = 'generic';
      for (let i = 0; i < this.count && family === 'generic'; i++) family = cacheFamily([this.flagsAt(i) & 0xff00]);
      this.#family = family;
    }
    return this.#family;
  }

  /** Per ABI byte (`flags >> 8 & 0xff`): its arch name and bits in this cache's family, made once. */
  #archTables: ArchTables | undefined;

  /** @internal The arch name and bits of every ABI byte (`flags >> 8 & 0xff`) in this cache's family. */
  archTables(): ArchTables {
    if (this.#archTables) return this.#archTables;
    const family = this.family;
    const names: string[] = [];
    const bits: (32 | 64 | null)[] = [];
    for (let abi = 0; abi < 256; abi++) {
      names.push(archName(abi << 8, family));
      bits.push(archBits(abi << 8, family));
    }
    return (this.#archTables = { names, bits });
  }

  /** Entry `index`'s ABI name (`x86-64`, `i386`, …). */
  archAt(index: number): string {
    return this.archTables().names[(this.flagsAt(index) >>> 8) & 0xff]!;
  }

  /** Entry `index`'s pointer width, or null where the flags and family do not tell. */
  bitsAt(index: number): 32 | 64 | null {
    return this.archTables().bits[(this.flagsAt(index) >>> 8) & 0xff]!;
  }

  entry(index: number): LdCacheEntry {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) throw new RangeError(`no entry ${index}`);
    return this.#entries?.[index] ?? new CacheEntry(this, index);
  }

  /** Every entry, as one array (made once; iterating the cache makes no array). */
  get entries(): readonly LdCacheEntry[] {
    if (this.#entries) return this.#entries;
    const count = this.count;
    const entries = new Array<CacheEntry>(count);
    for (let i = 0; i < count; i++) entries[i] = new CacheEntry(this, i);
    return (this.#entries = entries);
  }

  [Symbol.iterator](): Iterator<LdCacheEntry> {
    return this.#entries ? this.#entries[Symbol.iterator]() : new CacheIterator(this);
  }

  /** @internal Decodes bytes with replacement characters. */
  decode(bytes: Uint8Array): string {
    return decoder.decode(bytes);
  }

  /** Entry `index`'s name (UTF-8 with replacement characters). */
  nameAt(index: number): string {
    const r = this.#start + index * ENTRY_WORDS;
    return this.#string(this.#words[r + E_NAME_OFFSET]!, this.#words[r + E_NAME_LENGTH]!);
  }

  /** Entry `index`'s path. */
  pathAt(index: number): string {
    const r = this.#start + index * ENTRY_WORDS;
    return this.#string(this.#words[r + E_PATH_OFFSET]!, this.#words[r + E_PATH_LENGTH]!);
  }

  #string(offset: number, length: number): string {
    let text = this.#text;
    if (text === undefined) text = this.#decodeArea();
    if (text !== null) {
      const at = offset - this.#textStart;
      return text.substring(at, at + length);
    }
    return decoder.decode(this.#bytes.subarray(offset, offset + length));
  }

  /** The parsed bytes [offset, offset + length) as UTF-8 with replacement characters. */
  decodeRange(offset: number, length: number): string {
    const text = this.#text === undefined ? this.#decodeArea() : this.#text;
    const at = offset - this.#textStart;
    if (text !== null && at >= 0 && at + length <= text.length) return text.substring(at, at + length);
    return decoder.decode(this.#bytes.subarray(offset, offset + length));
  }

  /** Decodes the smallest range holding every name and path, once, if it is all ASCII. */
  #decodeArea(): string | null {
    const words = this.#words;
    const low = words[H_STRINGS_START]!;
    const high = words[H_STRINGS_END]!;
    this.#textStart = low;
    if (!(high > low)) return (this.#text = null);
    // The core saw every string byte: ASCII for sure, or maybe not (then check it all here).
    return (this.#text = words[H_STRINGS_ASCII] === 1 ? asciiSlice(this.#bytes, low, high) : asciiText(this.#bytes, low, high));
  }

  /** The glibc-hwcaps directory of extension entry `index` (resolved from the new header), else undefined. */
  hwcapNameAt(index: number): string | undefined {
    if (!this.isHwcapsAt(index)) return undefined;
    const bytes = this.hwcapNameBytes(this.hwcapLowAt(index), 'truth');
    return bytes ? decoder.decode(bytes) : undefined;
  }

  /** Whether hwcap marks entry `index` as a glibc-hwcaps extension entry. */
  isHwcapsAt(index: number): boolean {
    return !this.#old && isHwcapsExtension(this.hwcapHighAt(index));
  }
}
