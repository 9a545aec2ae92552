// An independent ld.so.cache writer for tests, written from the format tables of the spec
// (/work/shared/spec/ld-so-cache.md sections 2-10): old, new and compat layouts, either byte
// order, the extension directory with generator and glibc-hwcaps sections. It exists so that
// big-endian and hand-shaped caches are always covered, and it reports where every part of
// the file went, so damage tests can aim at exact offsets.

export type WriterFormat = 'old' | 'new' | 'compat';
export type WriterByteOrder = 'little' | 'big';

export interface WriterEntry {
  name: string | Uint8Array;
  path: string | Uint8Array;
  /** The signed 32-bit flags field (0x0303 = libc6 x86-64). */
  flags: number;
  /** NT_GNU_ABI_TAG value as written by glibc <= 2.35 (new entries only). */
  osVersion?: number;
  /** Raw hwcap value (new entries only); ignored when `hwcapDir` is set. */
  hwcap?: bigint;
  /** glibc-hwcaps subdirectory: makes this an extension entry indexing the hwcaps section. */
  hwcapDir?: string;
  /** ISA level stored in hwcap bits 32-41 for an extension entry (x86: 1 = v2, 2 = v3, 3 = v4). */
  isaLevel?: number;
}

export interface ExtraSection {
  tag: number;
  data: Uint8Array;
  flags?: number;
}

export interface WriteCacheOptions {
  format: WriterFormat;
  entries: readonly WriterEntry[];
  byteOrder?: WriterByteOrder;
  /** Generator string (tag 0); null = none. Default: a test-writer string. */
  generator?: string | Uint8Array | null;
  /** Write no extension directory at all (a pre-2.33 cache); default false. */
  noExtensions?: boolean;
  /** The flags byte of the new header; default 2 (little) or 3 (big); 0 = pre-2.33 writer. */
  endianFlag?: number;
  /** Sort the entries as ldconfig does (descending `_dl_cache_libcmp`); default false = given order. */
  sort?: boolean;
  /** `shared` (2.33+: dedupe, suffix sharing) or `sequential` (older writers: name, path, ...). Default shared. */
  strings?: 'shared' | 'sequential';
  /** Compat only: the old table (default: entries without legacy hwcap bits, padded to an even count). */
  oldEntries?: readonly WriterEntry[];
  /** Compat only: alignment of the embedded new header (8 on x86-64, 4 on i386). Default 8. */
  compatAlign?: number;
  /** Sections after the generator and hwcaps ones (tags >= 2, or duplicates). */
  extraSections?: readonly ExtraSection[];
}

export interface SectionLayout {
  tag: number;
  /** File offset of this section's 16-byte directory record. */
  record: number;
  offset: number;
  size: number;
}

export interface CacheLayout {
  /** Old table (old and compat files). */
  oldCount?: number;
  oldEntries?: number;
  /** String base of the old table (file offset). */
  oldStringBase?: number;
  /** File offset of the new header (new and compat files). */
  newHeader?: number;
  newCount?: number;
  newEntries?: number;
  /** File offset of the string table and its length. */
  strings: number;
  stringsLength: number;
  /** Extension directory (0 = none). */
  extension: number;
  sections: SectionLayout[];
  /** The entries in file order (after sorting), with the hwcap value actually written. */
  written: Array<WriterEntry & { hwcap: bigint }>;
}

export interface WrittenCache {
  bytes: Uint8Array;
  layout: CacheLayout;
}

export const OLD_MAGIC = 'ld.so-1.7.0';
export const NEW_MAGIC = 'glibc-ld.so.cache1.1';
export const EXTENSION_MAGIC = 0xeaa42174;
export const DEFAULT_GENERATOR = 'ldcache test writer stable release version 2.36';

const enc = new TextEncoder();
const asBytes = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? enc.encode(s) : s);

/** glibc's `_dl_cache_libcmp`: digit runs compare numerically, a digit sorts after a non-digit; bytes are signed chars (x86). */
export function libcmp(a: Uint8Array, b: Uint8Array): number {
  const at = (s: Uint8Array, i: number): number => (i < s.length ? (s[i] << 24) >> 24 : 0);
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  let i = 0;
  let j = 0;
  while (at(a, i) !== 0) {
    const c1 = at(a, i);
    const c2 = at(b, j);
    if (isDigit(c1)) {
      if (!isDigit(c2)) return 1;
      let v1 = 0;
      let v2 = 0;
      while (isDigit(at(a, i))) v1 = v1 * 10 + at(a, i++) - 0x30;
      while (isDigit(at(b, j))) v2 = v2 * 10 + at(b, j++) - 0x30;
      if (v1 !== v2) return v1 - v2;
    } else if (isDigit(c2)) {
      return -1;
    } else if (c1 !== c2) {
      return c1 - c2;
    } else {
      i++;
      j++;
    }
  }
  return at(a, i) - at(b, j);
}

const isExtensionHwcap = (h: bigint): boolean => ((h >> 32n) & ~0x3ffn) === 0x40000000n;

/** ldconfig's entry order: name descending, then flags descending, extension entries first (by dir name), then larger legacy hwcap first. */
function compareForCache(x: WriterEntry & { hwcap: bigint }, y: WriterEntry & { hwcap: bigint }): number {
  const byName = libcmp(asBytes(y.name), asBytes(x.name));
  if (byName !== 0) return byName;
  if (x.flags !== y.flags) return y.flags - x.flags;
  const xe = x.hwcapDir !== undefined;
  const ye = y.hwcapDir !== undefined;
  if (xe !== ye) return xe ? -1 : 1;
  if (xe && ye) return x.hwcapDir! < y.hwcapDir! ? -1 : x.hwcapDir! > y.hwcapDir! ? 1 : 0;
  return x.hwcap === y.hwcap ? 0 : x.hwcap > y.hwcap ? -1 : 1;
}

/** A name's bytes as a latin1 JS string (one char per byte): ASCII text is its own key, anything else is encoded as UTF-8 first. */
const ASCII = /^[\x01-\x7f]*$/;
const key = (s: string | Uint8Array): string =>
  typeof s === 'string' && ASCII.test(s) ? s : Buffer.from(asBytes(s).buffer, asBytes(s).byteOffset, asBytes(s).byteLength).toString('latin1');

/** Ascending order of the reversed strings, without building them; a suffix sorts before the longer string. */
function compareReversed(a: string, b: string): number {
  for (let i = a.length - 1, j = b.length - 1; i >= 0 && j >= 0; i--, j--) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Builds the string table; returns it and the offset (inside the table) of each distinct string. */
function buildStrings(strings: string[], mode: 'shared' | 'sequential'): { table: Uint8Array; offsetOf: (s: string | Uint8Array) => number } {
  const offsets = new Map<string, number>();
  const stored: string[] = [];
  let length = 0;
  const append = (k: string): number => {
    const at = length;
    stored.push(k);
    length += k.length + 1;
    return at;
  };
  if (mode === 'sequential') {
    for (const k of strings) offsets.set(k, append(k));
  } else {
    // Reverse-lexicographic order (descending) puts every string right before its suffixes, so a
    // suffix of the previous string can point into it instead of being stored again.
    const unique = [...new Set(strings)];
    unique.sort((a, b) => compareReversed(b, a));
    let previous: string | undefined;
    let previousAt = 0;
    for (const k of unique) {
      if (previous !== undefined && k.length <= previous.length && previous.endsWith(k)) {
        offsets.set(k, previousAt + previous.length - k.length);
        continue;
      }
      previousAt = append(k);
      offsets.set(k, previousAt);
      previous = k;
    }
  }
  const table = new Uint8Array(length);
  const out = Buffer.from(table.buffer);
  let at = 0;
  for (const k of stored) {
    out.write(k, at, 'latin1');
    at += k.length + 1; // NUL already there
  }
  return { table, offsetOf: (s) => offsets.get(key(s))! };
}

class Out {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  constructor(size: number, readonly little: boolean) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, this.little);
  }
  i32(at: number, v: number): void {
    this.view.setInt32(at, v | 0, this.little);
  }
  u64(at: number, v: bigint): void {
    this.view.setBigUint64(at, BigInt.asUintN(64, v), this.little);
  }
  put(at: number, data: Uint8Array | string): void {
    this.bytes.set(asBytes(data), at);
  }
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Writes a cache file in memory. */
/** Writer entries that reproduce parsed ones (e.g. the baseline parser's), glibc-hwcaps names and ISA levels included. */
export function writerEntriesOf(
  entries: readonly { name: string; path: string; flags: number; hwcap: bigint; hwcapName?: string | undefined }[],
): WriterEntry[] {
  return entries.map((e) => ({
    name: e.name,
    path: e.path,
    flags: e.flags,
    hwcap: e.hwcap,
    hwcapDir: e.hwcapName,
    isaLevel: e.hwcapName === undefined ? undefined : Number((e.hwcap >> 32n) & 0x3ffn),
  }));
}

export function writeCache(options: WriteCacheOptions): WrittenCache {
  const { format, byteOrder = 'little', strings: stringMode = 'shared', compatAlign = 8 } = options;
  const little = byteOrder === 'little';
  const hwcapDirs = [...new Set(options.entries.flatMap((e) => (e.hwcapDir === undefined ? [] : [e.hwcapDir])))].sort();
  let written = options.entries.map((e) => ({
    ...e,
    hwcap:
      e.hwcapDir !== undefined
        ? (1n << 62n) | (BigInt(e.isaLevel ?? 0) << 32n) | BigInt(hwcapDirs.indexOf(e.hwcapDir))
        : (e.hwcap ?? 0n),
  }));
  if (options.sort) written = [...written].sort(compareForCache);

  let oldList: WriterEntry[] = [];
  if (format === 'old') oldList = written;
  if (format === 'compat') {
    oldList = [...(options.oldEntries ?? written.filter((e) => e.hwcap === 0n || isExtensionHwcap(e.hwcap)))];
    if (!options.oldEntries && oldList.length % 2 === 1) oldList.push(oldList[oldList.length - 1]);
  }
  const newList = format === 'old' ? [] : written;

  const withExtensions = format !== 'old' && !options.noExtensions;
  const generator = options.generator === undefined ? DEFAULT_GENERATOR : options.generator;
  const allStrings = [...oldList, ...newList].flatMap((e) => [key(e.name), key(e.path)]);
  // ldconfig stores the glibc-hwcaps names even in old-only files.
  allStrings.push(...hwcapDirs.map((d) => key(d)));
  const { table, offsetOf } = buildStrings(allStrings, stringMode);

  const oldSize = format === 'new' ? 0 : 16 + 12 * oldList.length;
  const newHeader = format === 'old' ? undefined : format === 'new' ? 0 : align(oldSize, compatAlign);
  const newEntries = newHeader === undefined ? undefined : newHeader + 48;
  const stringsAt = newEntries === undefined ? oldSize : newEntries + 24 * newList.length;
  const stringsEnd = stringsAt + table.length;

  // Extension directory: generator first, then hwcaps, then extras; data in the order hwcaps, generator, extras.
  type Planned = { tag: number; flags: number; data: Uint8Array };
  const planned: Planned[] = [];
  const hwcapsData = new Uint8Array(4 * hwcapDirs.length);
  if (withExtensions) {
    if (generator !== null) planned.push({ tag: 0, flags: 0, data: asBytes(generator) });
    if (hwcapDirs.length > 0) planned.push({ tag: 1, flags: 0, data: hwcapsData });
    for (const x of options.extraSections ?? []) planned.push({ tag: x.tag, flags: x.flags ?? 0, data: x.data });
  }
  const extension = withExtensions ? align(stringsEnd, 4) : 0;
  const dataOrder = [...planned.filter((p) => p.tag === 1), ...planned.filter((p) => p.tag !== 1)];
  let cursor = extension + 8 + 16 * planned.length;
  const dataAt = new Map<Planned, number>();
  for (const p of dataOrder) {
    if (p.tag === 1) cursor = align(cursor, 4);
    dataAt.set(p, cursor);
    cursor += p.data.length;
  }
  const size = withExtensions ? cursor : stringsEnd;

  const out = new Out(size, little);
  const sections: SectionLayout[] = [];
  // String offsets of the new table are relative to the new header; the old table's to the end of its array.
  const newBase = newHeader ?? 0;
  if (format !== 'new') {
    out.put(0, OLD_MAGIC);
    out.u32(12, oldList.length);
    oldList.forEach((e, i) => {
      const at = 16 + 12 * i;
      out.i32(at, e.flags);
      out.u32(at + 4, stringsAt + offsetOf(e.name) - oldSize);
      out.u32(at + 8, stringsAt + offsetOf(e.path) - oldSize);
    });
  }
  if (newHeader !== undefined && newEntries !== undefined) {
    out.put(newHeader, NEW_MAGIC);
    out.u32(newHeader + 20, newList.length);
    out.u32(newHeader + 24, table.length);
    out.bytes[newHeader + 28] = options.endianFlag ?? (little ? 2 : 3);
    out.u32(newHeader + 32, extension);
    newList.forEach((e, i) => {
      const at = newEntries + 24 * i;
      out.i32(at, e.flags);
      out.u32(at + 4, stringsAt + offsetOf(e.name) - newBase);
      out.u32(at + 8, stringsAt + offsetOf(e.path) - newBase);
      out.u32(at + 12, e.osVersion ?? 0);
      out.u64(at + 16, e.hwcap);
    });
  }
  out.put(stringsAt, table);
  if (withExtensions) {
    hwcapDirs.forEach((d, i) => {
      new DataView(hwcapsData.buffer).setUint32(4 * i, stringsAt + offsetOf(d) - newBase, little);
    });
    out.u32(extension, EXTENSION_MAGIC);
    out.u32(extension + 4, planned.length);
    planned.forEach((p, i) => {
      const record = extension + 8 + 16 * i;
      const at = dataAt.get(p)!;
      out.u32(record, p.tag);
      out.u32(record + 4, p.flags);
      out.u32(record + 8, at);
      out.u32(record + 12, p.data.length);
      out.put(at, p.data);
      sections.push({ tag: p.tag, record, offset: at, size: p.data.length });
    });
  }
  return {
    bytes: out.bytes,
    layout: {
      oldCount: format === 'new' ? undefined : oldList.length,
      oldEntries: format === 'new' ? undefined : 16,
      oldStringBase: format === 'new' ? undefined : oldSize,
      newHeader,
      newCount: newHeader === undefined ? undefined : newList.length,
      newEntries,
      strings: stringsAt,
      stringsLength: table.length,
      extension,
      sections,
      written,
    },
  };
}
