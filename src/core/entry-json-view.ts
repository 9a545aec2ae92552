// An entry's JSON fields read straight from a parsed cache (EntryJSONReader), for every JSON path
// of json.ts: cacheToJSON's views (EntryJSONView: a reader + an index, each field read when asked,
// so making the document costs one small object per entry and no string, and keeps no second copy
// of the cache), its plain objects, and the JS path's JSON lines. Every field is exactly what
// entryToJSON gives for the same entry.
import { isHwcapsExtension, type GlibcVersion } from './abi.js';
import type { EntryJSON } from './json.js';
import { E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET, ENTRY_WORDS, type ArchTables, type ParsedLdCache } from './ldcache.js';

const ZERO_HWCAP = '0x0000000000000000';

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/**
 * Reads one cache's JSON fields straight from its arrays (a getter's cost is a few loads, not a
 * chain of method calls). The arrays are taken again whenever the cache replaced them (another
 * parse evicted it, or wasm memory grew), so a view stays right for as long as it lives.
 */
export class EntryJSONReader {
  readonly cache: ParsedLdCache;
  readonly #glibc: GlibcVersion;
  readonly #flagsText: (flags: number, glibc: GlibcVersion) => string;
  #epoch = -1;
  #words!: Uint32Array;
  #start = 0;
  #view!: DataView;
  #records = 0;
  #recordSize = 0;
  #little = true;
  #old = false;
  /** The decoded all-ASCII string area (null: read each string through the cache). */
  #text: string | null = null;
  #textStart = 0;
  /**
   * ldconfig stores a name once and sorts by name: entries of one name (both ABIs, hwcaps
   * variants) sit side by side with the same offset and share one string here (a string runs
   * to its NUL, so the offset alone says which).
   */
  #lastNameAt = -1;
  #lastName = '';
  #arch: ArchTables | undefined;
  readonly #flagsTexts: (string | undefined)[] = [];
  readonly #hwcapNames = new Map<number, string | null>();

  constructor(cache: ParsedLdCache, glibc: GlibcVersion, flagsText: (flags: number, glibc: GlibcVersion) => string) {
    this.cache = cache;
    this.#glibc = glibc;
    this.#flagsText = flagsText;
  }

  #sync(): void {
    const cache = this.cache;
    if (this.#epoch === cache.tableEpoch) return;
    const { words, start } = cache.entryTable();
    const { view, records, recordSize, little, old } = cache.recordLayout();
    const area = cache.stringArea();
    this.#words = words;
    this.#start = start;
    this.#view = view;
    this.#records = records;
    this.#recordSize = recordSize;
    this.#little = little;
    this.#old = old;
    this.#text = area ? area.text : null;
    this.#textStart = area ? area.start : 0;
    this.#epoch = cache.tableEpoch;
  }

  name(index: number): string {
    this.#sync();
    const text = this.#text;
    if (text === null) return this.cache.nameAt(index);
    const r = this.#start + index * ENTRY_WORDS;
    const at = this.#words[r + E_NAME_OFFSET]! - this.#textStart;
    if (at !== this.#lastNameAt) {
      this.#lastNameAt = at;
      this.#lastName = text.substring(at, at + this.#words[r + E_NAME_LENGTH]!);
    }
    return this.#lastName;
  }

  path(index: number): string {
    this.#sync();
    const text = this.#text;
    if (text === null) return this.cache.pathAt(index);
    const r = this.#start + index * ENTRY_WORDS;
    const at = this.#words[r + E_PATH_OFFSET]! - this.#textStart;
    return text.substring(at, at + this.#words[r + E_PATH_LENGTH]!);
  }

  /** The flags word, signed (as entryToJSON gives it). */
  flags(index: number): number {
    this.#sync();
    return this.#view.getInt32(this.#records + index * this.#recordSize, this.#little);
  }

  osVersion(index: number): number {
    this.#sync();
    return this.#old ? 0 : this.#view.getUint32(this.#records + index * this.#recordSize + 12, this.#little);
  }

  /** The hwcap's high word (the one that marks glibc-hwcaps entries); 0 for old-format entries. */
  #hwcapHigh(index: number): number {
    return this.#old ? 0 : this.#view.getUint32(this.#records + index * this.#recordSize + (this.#little ? 20 : 16), this.#little);
  }

  #hwcapLow(index: number): number {
    return this.#old ? 0 : this.#view.getUint32(this.#records + index * this.#recordSize + (this.#little ? 16 : 20), this.#little);
  }

  hwcap(index: number): string {
    this.#sync();
    const high = this.#hwcapHigh(index);
    const low = this.#hwcapLow(index);
    return high === 0 && low === 0 ? ZERO_HWCAP : `0x${hex32(high)}${hex32(low)}`;
  }

  hwcapName(index: number): string | null {
    this.#sync();
    const high = this.#hwcapHigh(index);
    if (high === 0 || !isHwcapsExtension(high)) return null;
    const low = this.#hwcapLow(index);
    let name = this.#hwcapNames.get(low);
    if (name === undefined) this.#hwcapNames.set(low, (name = this.cache.hwcapNameAt(index) ?? null));
    return name;
  }

  arch(index: number): string {
    return (this.#arch ??= this.cache.archTables()).names[(this.flags(index) >>> 8) & 0xff]!;
  }

  bits(index: number): 32 | 64 | null {
    return (this.#arch ??= this.cache.archTables()).bits[(this.flags(index) >>> 8) & 0xff]!;
  }

  flagsText(index: number): string {
    const key = this.flags(index) & 0xffff;
    return (this.#flagsTexts[key] ??= this.#flagsText(key, this.#glibc));
  }

  /** Entry `index` as a plain object (what entryToJSON gives), every field read now. */
  plain(index: number): EntryJSON {
    const flags = this.flags(index);
    return {
      index,
      name: this.name(index),
      path: this.path(index),
      flags,
      type: flags & 0xff,
      required: flags & 0xff00,
      arch: this.arch(index),
      bits: this.bits(index),
      osVersion: this.osVersion(index),
      hwcap: this.hwcap(index),
      hwcapName: this.hwcapName(index),
      flagsText: this.flagsText(index),
    };
  }
}

/**
 * One entry of `cacheToJSON(parsedCache)`: its fields are getters over the cache (read-only), and
 * `toJSON()` gives the plain object, so JSON.stringify of the document is the same text.
 * It keeps the cache (and the bytes it reads) alive.
 */
export class EntryJSONView implements EntryJSON {
  readonly index: number;
  readonly #reader: EntryJSONReader;

  constructor(reader: EntryJSONReader, index: number) {
    this.#reader = reader;
    this.index = index;
  }

  get name(): string {
    return this.#reader.name(this.index);
  }
  get path(): string {
    return this.#reader.path(this.index);
  }
  get flags(): number {
    return this.#reader.flags(this.index);
  }
  get type(): number {
    return this.#reader.flags(this.index) & 0xff;
  }
  get required(): number {
    return this.#reader.flags(this.index) & 0xff00;
  }
  get arch(): string {
    return this.#reader.arch(this.index);
  }
  get bits(): 32 | 64 | null {
    return this.#reader.bits(this.index);
  }
  get osVersion(): number {
    return this.#reader.osVersion(this.index);
  }
  get hwcap(): string {
    return this.#reader.hwcap(this.index);
  }
  get hwcapName(): string | null {
    return this.#reader.hwcapName(this.index);
  }
  get flagsText(): string {
    return this.#reader.flagsText(this.index);
  }

  /** The plain object (what JSON.stringify writes; what structuredClone and postMessage need). */
  toJSON(): EntryJSON {
    return this.#reader.plain(this.index);
  }

  /** Node's console.log and util.inspect show the fields, not the view. */
  [Symbol.for('nodejs.util.inspect.custom')](): EntryJSON {
    return this.toJSON();
  }
}
