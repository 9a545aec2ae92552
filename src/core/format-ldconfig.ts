// `ldconfig -p`, byte for byte (spec section 13). Names, paths and the generator are arbitrary
// bytes, so the output is built as bytes from the parsed input; formatLdconfig decodes it.
import { DEFAULT_GLIBC, isHwcapsExtension, osAbiText, requiredText, typeText, type GlibcVersion } from './abi.js';
import {
  E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET, ENTRY_WORDS, ParsedLdCache,
} from './ldcache.js';
import { parseLdCache } from './parse.js';
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
const HWCAP_OPEN = encoder.encode(', hwcap: "');
const QUOTE = encoder.encode('"');

function hex16(high: number, low: number): string {
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** The ` (type,required` part for each flags value, encoded once per format call. */
function flagsTextCache(glibc: GlibcVersion): (flags: number) => Uint8Array {
  const known = new Map<number, Uint8Array>();
  return (flags) => {
    let text = known.get(flags);
    if (!text) {
      text = encoder.encode(` (${typeText(flags, glibc)}${requiredText(flags, glibc)}`);
      known.set(flags, text);
    }
    return text;
  };
}

/** `ldconfig -p` output as bytes, exactly as that glibc prints it; `displayName` is the `-C` argument. */
export function formatLdconfigBytes(given: LdCache, displayName: string, options: FormatLdconfigOptions = {}): Uint8Array {
  const glibc = options.glibc ?? DEFAULT_GLIBC;
  if (!(given instanceof ParsedLdCache)) return formatGeneric(given, displayName, glibc, options.include);
  // A compat header found only at the 4-aligned offset (32-bit writer): 64-bit glibc misses it
  // and prints the old table; so do we.
  const cache = given.compatAlignment === 4 ? parseLdCache(given.bytes.slice(), { file: given.file, glibc64Reader: true }) : given;
  const hasExtensions = glibc !== '2.31';
  const flagsText = flagsTextCache(glibc);
  const input = cache.bytes;
  const { words, start, count } = cache.entryTable();
  const include = options.include;
  const shown = include ? cache.entries.map((entry, i) => (include(entry) ? i : -1)).filter((i) => i >= 0) : undefined;
  const out = new ByteWriter(input.length * 2 + 256);
  // The count is a signed int in glibc's printf.
  out.text(`${(shown?.length ?? count) | 0} libs found in cache \`${displayName}'\n`);
  for (let n = 0, total = shown?.length ?? count; n < total; n++) {
    const i = shown ? shown[n] : n;
    const record = start + i * ENTRY_WORDS;
    const flags = cache.flagsAt(i);
    out.write(TAB);
    out.write(input, words[record + E_NAME_OFFSET], words[record + E_NAME_LENGTH]);
    out.write(flagsText(flags & 0xffff));
    const high = cache.hwcapHighAt(i);
    const low = cache.hwcapLowAt(i);
    // glibc resolves glibc-hwcaps names from the file start (wrong in compat files; reproduced).
    const name = hasExtensions && isHwcapsExtension(high) ? cache.hwcapNameBytes(low, 'glibc') : undefined;
    if (name) {
      out.write(HWCAP_OPEN);
      out.write(name);
      out.write(QUOTE);
    } else if (high !== 0 || low !== 0) {
      out.text(`, hwcap: 0x${hex16(high, low)}`);
    }
    const osVersion = glibc === '2.31' ? cache.osVersionAt(i) : 0;
    if (glibc === '2.31' && osVersion !== 0) out.text(`, OS ABI: ${osAbiText(osVersion)}`);
    out.write(ARROW);
    out.write(input, words[record + E_PATH_OFFSET], words[record + E_PATH_LENGTH]);
    out.write(NEWLINE);
  }
  const generator = cache.generatorBytes;
  if (hasExtensions && generator && cache.format !== 'old') {
    out.text('Cache generated by: ');
    out.write(generator);
    out.write(NEWLINE);
  }
  return out.result();
}

/** The same for any LdCache implementation (names resolved the true way; no raw generator bytes). */
function formatGeneric(cache: LdCache, displayName: string, glibc: GlibcVersion, include?: (entry: LdCacheEntry) => boolean): Uint8Array {
  const out = new ByteWriter(4096);
  const hasExtensions = glibc !== '2.31';
  const entries = include ? cache.entries.filter(include) : cache.entries;
  out.text(`${(include ? entries.length : cache.count) | 0} libs found in cache \`${displayName}'\n`);
  for (const entry of entries) {
    out.write(TAB);
    out.write(entry.nameBytes);
    out.text(` (${typeText(entry.flags, glibc)}${requiredText(entry.flags, glibc)}`);
    const hwcap = BigInt.asUintN(64, entry.hwcap);
    if (hasExtensions && entry.hwcapName !== undefined) out.text(`, hwcap: "${entry.hwcapName}"`);
    else if (hwcap !== 0n) out.text(`, hwcap: 0x${hwcap.toString(16).padStart(16, '0')}`);
    if (glibc === '2.31' && entry.osVersion !== 0) out.text(`, OS ABI: ${osAbiText(entry.osVersion)}`);
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
