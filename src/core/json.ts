// JSON-safe views of a cache and its entries (numbers, strings, null; hwcap as hex text): as a
// document whose entries read the cache when asked (cacheToJSON), as plain objects
// (cacheToJSON with `plain`, entryToJSON), or as text made and handed out in chunks
// (cacheJSONChunks), so a 200,000-entry document is never held whole.
import { archBits, archName, DEFAULT_GLIBC, requiredText, typeText, type GlibcVersion } from './abi.js';
import { FJ_ARCH, FJ_KEY, FJ_KEYS, FJ_REQUIRED, FJ_TYPE, FJ_WORDS, JSON_DOCUMENT } from './core-layout.generated.js';
import { buildTextTable, coreChunks, residentCache, shownIndexes } from './format-ldconfig.js';
import { EntryJSONReader, EntryJSONView } from './entry-json-view.js';
import { H_STRINGS_ASCII, ParsedLdCache } from './ldcache.js';
import type { LdCache, LdCacheEntry } from './types.js';

export interface EntryJSON {
  index: number;
  name: string;
  path: string;
  flags: number;
  type: number;
  required: number;
  arch: string;
  bits: 32 | 64 | null;
  osVersion: number;
  /** `0x` + 16 lowercase hex digits. */
  hwcap: string;
  hwcapName: string | null;
  /** The flags as `ldconfig -p` words them (`libc6,x86-64`), for the chosen glibc (default 2.36). */
  flagsText: string;
}

export interface CacheJSON {
  format: LdCache['format'];
  byteOrder: LdCache['byteOrder'];
  count: number;
  generator: string | null;
  hwcapDirs: string[];
  entries: EntryJSON[];
}

export interface CacheJSONOptions {
  /** Whose `ldconfig -p` words `flagsText` uses (default 2.36). */
  glibc?: GlibcVersion;
  /** Only the entries it accepts (each keeps its index); `count` counts them. */
  include?: (entry: LdCacheEntry) => boolean;
}

export interface CacheToJSONOptions extends CacheJSONOptions {
  /**
   * Plain objects, every field made now (for structuredClone, postMessage, spreading, mutation),
   * instead of views that read the cache when a field is read. Costs several times more.
   */
  plain?: boolean;
}

export interface CacheJSONTextOptions extends CacheJSONOptions {
  /** `file` (and `root`) fields first in the document, where given. */
  file?: string;
  root?: string;
  /** One entry object per line and nothing else, instead of one document. */
  ndjson?: boolean;
}

export function hwcapHex(hwcap: bigint): string {
  return `0x${BigInt.asUintN(64, hwcap).toString(16).padStart(16, '0')}`;
}

/** ldconfig's words for a flags value, per glibc version, made once per value. */
const flagsTexts = new Map<GlibcVersion, Map<number, string>>();

export function flagsText(flags: number, glibc: GlibcVersion = DEFAULT_GLIBC): string {
  let known = flagsTexts.get(glibc);
  if (!known) flagsTexts.set(glibc, (known = new Map()));
  const key = flags & 0xffff;
  let text = known.get(key);
  if (text === undefined) known.set(key, (text = `${typeText(key, glibc)}${requiredText(key, glibc)}`));
  return text;
}

export function entryToJSON(entry: LdCacheEntry, glibc: GlibcVersion = DEFAULT_GLIBC): EntryJSON {
  return {
    index: entry.index,
    name: entry.name,
    path: entry.path,
    flags: entry.flags,
    type: entry.type,
    required: entry.required,
    arch: entry.arch,
    bits: entry.bits,
    osVersion: entry.osVersion,
    hwcap: hwcapHex(entry.hwcap),
    hwcapName: entry.hwcapName ?? null,
    flagsText: flagsText(entry.flags, glibc),
  };
}

/** A JSON string literal: plain text needs only quotes (the usual names and paths). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Entry `i` of a parsed cache as one line of JSON text, exactly JSON.stringify(reader.plain(i)). */
function entryText(reader: EntryJSONReader, i: number): string {
  const flags = reader.flags(i);
  const hwcapName = reader.hwcapName(i);
  return `{"index":${i},"name":${quote(reader.name(i))},"path":${quote(reader.path(i))},"flags":${flags},"type":${flags & 0xff},"required":${flags & 0xff00},"arch":${quote(reader.arch(i))},"bits":${reader.bits(i)},"osVersion":${reader.osVersion(i)},"hwcap":"${reader.hwcap(i)}","hwcapName":${hwcapName === null ? 'null' : quote(hwcapName)},"flagsText":${quote(reader.flagsText(i))}}`;
}

/**
 * The cache as a JSON-safe document. The entries of a parsed cache are read-only views
 * (EntryJSONView): every field is read from the cache when asked, and `JSON.stringify` of the
 * document (each view's `toJSON()`) writes exactly the plain objects' text. With `plain: true`
 * (and for caches other than a parsed one) the entries are plain objects made now.
 */
export function cacheToJSON(cache: LdCache, options: CacheToJSONOptions = {}): CacheJSON {
  const glibc = options.glibc ?? DEFAULT_GLIBC;
  const shown = shownIndexes(cache, options.include);
  const count = shown?.length ?? cache.count;
  const entries = new Array<EntryJSON>(count);
  if (cache instanceof ParsedLdCache) {
    const reader = new EntryJSONReader(cache, glibc, flagsText);
    if (options.plain) {
      for (let n = 0; n < count; n++) entries[n] = reader.plain(shown === undefined ? n : shown[n]!);
    } else {
      for (let n = 0; n < count; n++) entries[n] = new EntryJSONView(reader, shown === undefined ? n : shown[n]!);
    }
  } else {
    for (let n = 0; n < count; n++) entries[n] = entryToJSON(cache.entries[shown === undefined ? n : shown[n]!]!, glibc);
  }
  return {
    format: cache.format,
    byteOrder: cache.byteOrder,
    count,
    generator: cache.generator ?? null,
    hwcapDirs: [...cache.hwcapDirs],
    entries,
  };
}

/** Text chunks of about this many characters. */
const CHUNK_CHARS = 1 << 20;

const encoder = new TextEncoder();

const jsonTextTables = new Map<string, Uint8Array>();

/** The fixed pieces of an entry line, in the order the core writes them (FJ_KEY). */
const JSON_KEYS = ['{"index":', ',"name":', ',"path":', ',"flags":', ',"type":', ',"required":', ',"osVersion":', ',"hwcap":"0x', '","hwcapName":', 'null', ',"flagsText":"', '"}'];

/** The core's JSON text table (assembly/format.ts FJ_*) for this cache's family and glibc, made once for each. */
function jsonTextTable(cache: ParsedLdCache, glibc: GlibcVersion): Uint8Array {
  const key = `${glibc}/${cache.family}`;
  const known = jsonTextTables.get(key);
  if (known) return known;
  if (JSON_KEYS.length !== FJ_KEYS) throw new Error('JSON_KEYS and the core disagree');
  const table = buildTextTable(FJ_WORDS, (add) => {
    for (let v = 0; v < 256; v++) {
      add(FJ_TYPE + 2 * v, typeText(v, glibc));
      add(FJ_REQUIRED + 2 * v, requiredText(v << 8, glibc));
      add(FJ_ARCH + 2 * v, `"arch":${JSON.stringify(archName(v << 8, cache.family))},"bits":${archBits(v << 8, cache.family)}`);
    }
    JSON_KEYS.forEach((key, k) => add(FJ_KEY + 2 * k, key));
  });
  jsonTextTables.set(key, table);
  return table;
}

/** Whether the core can write this cache's JSON: every name, path and glibc-hwcaps name is ASCII. */
function coreWritesJson(cache: ParsedLdCache): boolean {
  if (cache.headerWord(H_STRINGS_ASCII) !== 1) return false;
  for (let i = 0; i < cache.hwcapCount; i++) {
    const bytes = cache.hwcapNameBytes(i, 'truth');
    if (bytes && bytes.some((b) => b >= 0x80)) return false;
  }
  return true;
}

/**
 * The JSON of `cache` as UTF-8 bytes, in chunks of about 1 MiB made one at a time: one document
 * (the header facts on the first line, then one entry object per line) or, with `ndjson`, one
 * entry object per line. Parses to `{ file?, root?, ...cacheToJSON(cache) }`. Each chunk may be
 * a view of wasm memory valid only until the next one is asked for: write (or copy) it first.
 */
export function* cacheJSONChunks(given: LdCache, options: CacheJSONTextOptions = {}): Generator<Uint8Array, void, undefined> {
  const glibc = options.glibc ?? DEFAULT_GLIBC;
  const cache = given instanceof ParsedLdCache ? residentCache(given) : given;
  const shown = shownIndexes(cache, options.include);
  const count = shown?.length ?? cache.count;
  if (!options.ndjson) {
    const head = {
      ...(options.file !== undefined ? { file: options.file } : {}),
      ...(options.root !== undefined ? { root: options.root } : {}),
      format: cache.format,
      byteOrder: cache.byteOrder,
      count,
      generator: cache.generator ?? null,
      hwcapDirs: [...cache.hwcapDirs],
    };
    yield encoder.encode(`${JSON.stringify(head).slice(0, -1)},"entries":[\n`);
  }
  if (cache instanceof ParsedLdCache && coreWritesJson(cache)) {
    // The usual case: the core writes the lines (as JSON.stringify would) straight into a buffer.
    const flags = options.ndjson ? 0 : JSON_DOCUMENT;
    yield* coreChunks(cache, jsonTextTable(cache, glibc), shown, (core, texts, list, n, out, capacity) => core.formatJsonLines(texts, list, n, count, count, out, capacity, flags));
  } else {
    let out = '';
    const separator = options.ndjson ? '\n' : ',\n';
    const reader = cache instanceof ParsedLdCache ? new EntryJSONReader(cache, glibc, flagsText) : undefined;
    for (let n = 0; n < count; n++) {
      const i = shown === undefined ? n : shown[n]!;
      out += reader ? entryText(reader, i) : JSON.stringify(entryToJSON(cache.entries[i]!, glibc));
      out += n + 1 < count || options.ndjson ? separator : '\n';
      if (out.length >= CHUNK_CHARS) {
        yield encoder.encode(out);
        out = '';
      }
    }
    if (out.length > 0) yield encoder.encode(out);
  }
  if (!options.ndjson) yield encoder.encode(']}\n');
}
