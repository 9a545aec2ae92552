// `ldconfig -p`, byte for byte (spec section 13). Names, paths and the generator are arbitrary
// bytes, so the output is built as bytes from the parsed input; formatLdconfig decodes it.
import { DEFAULT_GLIBC, OS_NAMES, osAbiText, printsExtensions, printsOsAbi, requiredText, typeText, type GlibcVersion } from './abi.js';
import { FMT_HWCAP_NAMES, FMT_OS_ABI, FT_OS, FT_OS_NAMES, FT_REQUIRED, FT_TYPE, FT_WORDS } from './core-layout.generated.js';
import { LdCacheError } from './errors.js';
import { ParsedLdCache } from './ldcache.js';
import { PARSE_GLIBC64, parseLdCache } from './parse.js';
import { wasmExports, type CoreExports } from './wasm.js';
import type { LdCache, LdCacheEntry } from './types.js';

export interface FormatLdconfigOptions {
  /** Whose `ldconfig -p` to reproduce (default 2.36, Debian 12). */
  glibc?: GlibcVersion;
  /** Print only the entries it accepts (its lines exactly as unfiltered); the header counts them. */
  include?: (entry: LdCacheEntry) => boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A growable byte buffer. */
class ByteWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 256));
  }

  #room(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  write(source: Uint8Array, offset = 0, length = source.length - offset): void {
    this.#room(length);
    const out = this.bytes;
    let at = this.length;
    // Short strings: a loop beats creating a subarray for set().
    if (length < 64) {
      for (let i = 0; i < length; i++) out[at++] = source[offset + i];
    } else {
      out.set(source.subarray(offset, offset + length), at);
      at += length;
    }
    this.length = at;
  }

  text(text: string): void {
    this.write(encoder.encode(text));
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const TAB = encoder.encode('\t');
const ARROW = encoder.encode(') => ');
const NEWLINE = encoder.encode('\n');

/** Output chunks of about this size: memory stays bounded whatever the cache's size. */
const CHUNK_BYTES = 1 << 20;

/** The core's text table for one glibc version (see assembly/format.ts), made once per version. */
const textTables = new Map<GlibcVersion, Uint8Array>();

/**
 * A core text table (assembly/format.ts): `words` u32 words, (offset, length) pairs that `fill`
 * sets with `add(word, text)`, followed by the UTF-8 texts.
 */
export function buildTextTable(words: number, fill: (add: (word: number, text: string) => void) => void): Uint8Array {
  const table = new Uint32Array(words);
  const parts: Uint8Array[] = [];
  let at = words * 4;
  fill((word, text) => {
    const bytes = encoder.encode(text);
    table[word] = at;
    table[word + 1] = bytes.length;
    parts.push(bytes);
    at += bytes.length;
  });
  const result = new Uint8Array(at);
  result.set(new Uint8Array(table.buffer));
  let offset = words * 4;
  for (const part of parts) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}

function textTable(glibc: GlibcVersion): Uint8Array {
  let table = textTables.get(glibc);
  if (table) return table;
  table = buildTextTable(FT_WORDS, (add) => {
    for (let v = 0; v < 256; v++) {
      add(FT_TYPE + 2 * v, ` (${typeText(v, glibc)}`);
      add(FT_REQUIRED + 2 * v, requiredText(v << 8, glibc));
    }
    for (let os = 0; os < FT_OS_NAMES; os++) add(FT_OS + 2 * os, OS_NAMES[os] ?? 'Unknown OS');
  });
  textTables.set(glibc, table);
  return table;
}

/** The indexes of the entries to show (every one without `include`). */
export function shownIndexes(cache: LdCache, include: ((entry: LdCacheEntry) => boolean) | undefined): number[] | undefined {
  if (!include) return undefined;
  const shown: number[] = [];
  for (const entry of cache) if (include(entry)) shown.push(entry.index);
  return shown;
}

/** The cache itself while its parse result is in wasm memory, else the same bytes parsed there again. */
export function residentCache(cache: ParsedLdCache): ParsedLdCache {
  if (cache.residentLocation()?.memory === wasmExports().memory) return cache;
  return parseLdCache(cache.bytes, { file: cache.file, glibc64Reader: (cache.parseFlags & PARSE_GLIBC64) !== 0 });
}

/**
 * Runs one of the core's formatters over a resident cache: writes `texts` (its text table) and
 * the list of entries to show after the result table, then calls `step` for chunks of about
 * 1 MiB (returning the list position reached) and yields each chunk, a view of wasm memory
 * valid until the next step.
 */
export function* coreChunks(
  cache: ParsedLdCache,
  texts: Uint8Array,
  shown: number[] | undefined,
  step: (core: CoreExports, texts: number, list: number, from: number, out: number, capacity: number) => number,
): Generator<Uint8Array, void, undefined> {
  const core = wasmExports();
  const total = shown?.length ?? cache.count;
  const textsAt = core.formatAreaBase();
  const listAt = shown ? textsAt + ((texts.length + 7) & ~7) : 0;
  const outAt = (shown ? listAt + shown.length * 4 : textsAt + texts.length) + 7 & ~7;
  let capacity = CHUNK_BYTES;
  const reserve = (): void => {
    if (!core.reserveFormatArea(outAt + capacity + 64)) throw new LdCacheError('OUT_OF_MEMORY', 'cannot grow wasm memory for the output', 0, cache.file);
    // Growing memory detaches every view of it: the cache makes its own again.
    cache.reattach();
  };
  reserve();
  new Uint8Array(core.memory.buffer, textsAt, texts.length).set(texts);
  if (shown) new Uint32Array(core.memory.buffer, listAt, shown.length).set(shown);
  for (let n = 0; n < total; ) {
    const next = step(core, textsAt, listAt, n, outAt, capacity);
    if (next === n) {
      // One line longer than the buffer (huge names): make room for it.
      capacity *= 2;
      reserve();
      continue;
    }
    n = next;
    yield new Uint8Array(core.memory.buffer, outAt, core.formattedLength());
  }
}

/**
 * `ldconfig -p` output as a sequence of byte chunks, exactly as that glibc prints it (the lines
 * are formatted by the wasm core straight into a buffer of about 1 MiB). Each chunk is valid
 * only until the next one is asked for: write it (or copy it) first.
 */
export function* formatLdconfigChunks(given: LdCache, displayName: string, options: FormatLdconfigOptions = {}): Generator<Uint8Array, void, undefined> {
  const glibc = options.glibc ?? DEFAULT_GLIBC;
  if (!(given instanceof ParsedLdCache)) {
    yield formatGeneric(given, displayName, glibc, options.include);
    return;
  }
  // A compat header found only at the 4-aligned offset (32-bit writer): 64-bit glibc misses it
  // and prints the old table; so do we.
  const cache = given.compatAlignment === 4 ? parseLdCache(given.bytes.slice(), { file: given.file, glibc64Reader: true }) : residentCache(given);
  const shown = shownIndexes(cache, options.include);
  const hasExtensions = printsExtensions(glibc);
  const total = shown?.length ?? cache.count;
  // The count is a signed int in glibc's printf.
  yield encoder.encode(`${total | 0} libs found in cache \`${displayName}'\n`);

  const flags = (hasExtensions ? FMT_HWCAP_NAMES : 0) | (printsOsAbi(glibc) ? FMT_OS_ABI : 0);
  yield* coreChunks(cache, textTable(glibc), shown, (core, texts, list, n, out, capacity) => core.formatLines(texts, list, n, total, out, capacity, flags));
  const generator = cache.generatorBytes;
  if (hasExtensions && generator && cache.format !== 'old') {
    const line = new Uint8Array(21 + generator.length);
    line.set(encoder.encode('Cache generated by: '));
    line.set(generator, 20);
    line[line.length - 1] = 0x0a;
    yield line;
  }
}

/** `ldconfig -p` output as bytes, exactly as that glibc prints it; `displayName` is the `-C` argument. */
export function formatLdconfigBytes(cache: LdCache, displayName: string, options: FormatLdconfigOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (const chunk of formatLdconfigChunks(cache, displayName, options)) {
    chunks.push(chunk.slice());
    length += chunk.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The same for any LdCache implementation (names resolved the true way; no raw generator bytes). */
function formatGeneric(cache: LdCache, displayName: string, glibc: GlibcVersion, include?: (entry: LdCacheEntry) => boolean): Uint8Array {
  const out = new ByteWriter(4096);
  const hasExtensions = printsExtensions(glibc);
  const entries = include ? cache.entries.filter(include) : cache.entries;
  out.text(`${(include ? entries.length : cache.count) | 0} libs found in cache \`${displayName}'\n`);
  for (const entry of entries) {
    out.write(TAB);
    out.write(entry.nameBytes);
    out.text(` (${typeText(entry.flags, glibc)}${requiredText(entry.flags, glibc)}`);
    const hwcap = BigInt.asUintN(64, entry.hwcap);
    if (hasExtensions && entry.hwcapName !== undefined) out.text(`, hwcap: "${entry.hwcapName}"`);
    else if (hwcap !== 0n) out.text(`, hwcap: 0x${hwcap.toString(16).padStart(16, '0')}`);
    if (printsOsAbi(glibc) && entry.osVersion !== 0) out.text(`, OS ABI: ${osAbiText(entry.osVersion)}`);
    out.write(ARROW);
    out.write(entry.pathBytes);
    out.write(NEWLINE);
  }
  if (hasExtensions && cache.generator !== undefined && cache.format !== 'old') out.text(`Cache generated by: ${cache.generator}\n`);
  return out.result();
}

/** `ldconfig -p` output as text (invalid UTF-8 in names or paths becomes U+FFFD; use the bytes form to write it out). */
export function formatLdconfig(cache: LdCache, displayName: string, options: FormatLdconfigOptions = {}): string {
  return decoder.decode(formatLdconfigBytes(cache, displayName, options));
}
