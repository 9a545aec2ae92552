// `ldconfig -p` lines, formatted in the core straight into an output buffer (as glibc's printf
// does), from the input bytes and the result table of the last successful parseCache.
//
// The host writes the texts that depend on the glibc version (type and ABI words of the flags,
// OS names) as a table at `texts` (see FT_* below), and optionally a list of the entry indexes
// to print. formatLines() then writes whole lines until the buffer is full, so the host can
// write the output in chunks of bounded size:
//   \t NAME ␠( TYPE REQUIRED [, hwcap: "NAME" | , hwcap: 0xHEX16] [, OS ABI: OS A.B.C] ) => PATH \n
import { inputBase } from './memory';
import { ensureMemory } from './memory';
import { NONE, ORDER_BIG } from './cache-read';
import {
  ENTRY_WORDS, E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET, FORMAT_OLD, HEADER_WORDS, HWCAP_WORDS, H_COUNT, H_ENTRIES,
  H_FORMAT, H_HWCAP_COUNT, H_ORDER, H_RECORDS, H_RECORD_SIZE, header, wordAddress,
} from './cache-result';

// The text table at `texts` (u32 words; offsets are relative to `texts`):
//   FT_TYPE + 2t, +1: offset and length of ` (TYPE` for type byte t (0-255)
//   FT_REQUIRED + 2r, +1: offset and length of `,ABI` for ABI byte r (0-255; length 0 for none)
//   FT_OS + 2o, +1: offset and length of the OS name o (0-5; 6 = unknown)
export const FT_TYPE: u32 = 0;
export const FT_REQUIRED: u32 = 512;
export const FT_OS: u32 = 1024;
export const FT_OS_NAMES: u32 = 7;
export const FT_WORDS: u32 = 1038;

// formatLines flags.
export const FMT_HWCAP_NAMES: u32 = 1;
export const FMT_OS_ABI: u32 = 2;

/** The longest line part besides name and path: flags texts, hwcap, OS ABI, punctuation. */
const FIXED_MAX: usize = 512;

let outLength: u32 = 0;

/** Bytes written by the last formatLines call. */
export function formattedLength(): u32 {
  return outLength;
}

/** Makes memory addressable up to `end` (the host's format area); false when it cannot grow. */
export function reserveFormatArea(end: u32): bool {
  return ensureMemory(<usize>end);
}

/** The first free byte after the last parse's result table (8-aligned), for the host's format area. */
export function formatAreaBase(): usize {
  const words = <usize>HEADER_WORDS + <usize>header(H_HWCAP_COUNT) * HWCAP_WORDS + <usize>header(H_COUNT) * ENTRY_WORDS;
  return (wordAddress(0) + (words << 2) + 7) & ~(<usize>7);
}

/**
 * Copies `length` bytes 16 at a time: may read up to 15 bytes past the source (the input's
 * slack, the text table's neighbours) and write up to 15 past the end (later bytes or the
 * room FIXED_MAX keeps), both inside memory the host reserved.
 */
@inline function copy(out: usize, from: usize, length: usize): usize {
  for (let i: usize = 0; i < length; i += 16) v128.store(out + i, v128.load(from + i));
  return out + length;
}

@inline function byte(out: usize, value: u32): usize {
  store<u8>(out, <u8>value);
  return out + 1;
}

@inline function ascii(out: usize, text: string): usize {
  // Short ASCII literals only: one byte per UTF-16 unit.
  for (let i = 0; i < text.length; i++) store<u8>(out + i, <u8>text.charCodeAt(i));
  return out + text.length;
}

function decimal(out: usize, value: u32): usize {
  if (value >= 100) out = byte(out, 0x30 + value / 100);
  if (value >= 10) out = byte(out, 0x30 + (value / 10) % 10);
  return byte(out, 0x30 + value % 10);
}

@inline function read32(at: usize, big: bool): u32 {
  const raw = load<u32>(at);
  return big ? bswap<u32>(raw) : raw;
}

/** The entry index at position `n` of the list at `list` (0: every entry, in order). */
@inline function listed(list: usize, n: u32): u32 {
  return list == 0 ? n : load<u32>(list + (<usize>n << 2));
}

/** Word `field` (E_*) of the parse table's entry at `entry`. */
@inline function entryWord(entry: usize, field: u32): u32 {
  return load<u32>(entry + (<usize>field << 2));
}

/**
 * Formats entries [from, to) of the list at `list` (u32 entry indexes; 0 = every entry, in
 * order) into [out, out + capacity). Stops before a line that may not fit; returns the position
 * in the list reached (the host writes formattedLength() bytes and calls again from there).
 */
export function formatLines(texts: usize, list: usize, from: u32, to: u32, out: usize, capacity: u32, flags: u32): u32 {
  const base = inputBase();
  const big = header(H_ORDER) == ORDER_BIG;
  const old = header(H_FORMAT) == FORMAT_OLD;
  const records = base + <usize>header(H_RECORDS);
  const recordSize = <usize>header(H_RECORD_SIZE);
  const table = wordAddress(header(H_ENTRIES));
  const hwcapCount = header(H_HWCAP_COUNT);
  const hwcaps = wordAddress(HEADER_WORDS);
  const start = out;
  const limit = out + <usize>capacity;
  let n = from;
  for (; n < to; n++) {
    const i = listed(list, n);
    const entry = table + (<usize>i * ENTRY_WORDS << 2);
    const nameAt = entryWord(entry, E_NAME_OFFSET);
    const nameLength = entryWord(entry, E_NAME_LENGTH);
    const pathAt = entryWord(entry, E_PATH_OFFSET);
    const pathLength = entryWord(entry, E_PATH_LENGTH);
    if (out + <usize>nameLength + <usize>pathLength + FIXED_MAX > limit) break;
    const record = records + <usize>i * recordSize;
    const entryFlags = read32(record, big);
    out = byte(out, 0x09);
    out = copy(out, base + <usize>nameAt, nameLength);
    const type = texts + (<usize>(FT_TYPE + ((entryFlags & 0xff) << 1)) << 2);
    out = copy(out, texts + <usize>load<u32>(type), load<u32>(type, 4));
    const required = texts + (<usize>(FT_REQUIRED + (((entryFlags >> 8) & 0xff) << 1)) << 2);
    out = copy(out, texts + <usize>load<u32>(required), load<u32>(required, 4));
    if (!old) {
      const high = read32(record + (big ? 16 : 20), big);
      const low = read32(record + (big ? 20 : 16), big);
      let named = false;
      // glibc resolves glibc-hwcaps names from the file start (the `glibc` record words).
      if ((flags & FMT_HWCAP_NAMES) != 0 && (high & ~(<u32>0x3ff)) == 0x40000000 && low < hwcapCount) {
        const hwcap = hwcaps + (<usize>(low * HWCAP_WORDS + 2) << 2);
        const at = load<u32>(hwcap);
        if (at != NONE) {
          const length = load<u32>(hwcap, 4);
          // A name may be long (it runs to the end of a damaged file): only if it fits.
          if (out + <usize>length + <usize>pathLength + FIXED_MAX > limit) break;
          out = ascii(out, ', hwcap: "');
          out = copy(out, base + <usize>at, length);
          out = byte(out, 0x22);
          named = true;
        }
      }
      if (!named && (high | low) != 0) {
        out = ascii(out, ', hwcap: 0x');
        for (let shift = 28; shift >= 0; shift -= 4) out = byte(out, hexDigit((high >> shift) & 15));
        for (let shift = 28; shift >= 0; shift -= 4) out = byte(out, hexDigit((low >> shift) & 15));
      }
      if ((flags & FMT_OS_ABI) != 0) {
        const os = read32(record + 12, big);
        if (os != 0) {
          out = ascii(out, ', OS ABI: ');
          const name = texts + (<usize>(FT_OS + (min<u32>(os >> 24, FT_OS_NAMES - 1) << 1)) << 2);
          out = copy(out, texts + <usize>load<u32>(name), load<u32>(name, 4));
          out = byte(out, 0x20);
          out = decimal(out, (os >> 16) & 0xff);
          out = byte(out, 0x2e);
          out = decimal(out, (os >> 8) & 0xff);
          out = byte(out, 0x2e);
          out = decimal(out, os & 0xff);
        }
      }
    }
    // ") => "
    store<u32>(out, 0x3e3d2029);
    store<u8>(out, 0x20, 4);
    out += 5;
    out = copy(out, base + <usize>pathAt, pathLength);
    out = byte(out, 0x0a);
  }
  outLength = <u32>(out - start);
  return n;
}

@inline function hexDigit(value: u32): u32 {
  return value < 10 ? 0x30 + value : 0x57 + value;
}

// JSON lines (`ldcache-dump --json/--ndjson`), for caches whose names and paths are all ASCII:
// exactly what JSON.stringify gives for the host's EntryJSON objects. The text table at `texts`:
//   FJ_TYPE + 2t: ldconfig's type word for type byte t; FJ_REQUIRED + 2r: its `,ABI` word for
//   ABI byte r; FJ_ARCH + 2r: `"arch":"NAME","bits":N` for ABI byte r (names in this cache's family).
export const FJ_TYPE: u32 = 0;
export const FJ_REQUIRED: u32 = 512;
export const FJ_ARCH: u32 = 1024;
// FJ_KEY + 2k: the k-th fixed piece of a line (JSON_KEYS in src/core/json.ts), copied 16 bytes at a time.
export const FJ_KEY: u32 = 1536;
export const FJ_KEYS: u32 = 12;
export const FJ_WORDS: u32 = 1560;

// formatJsonLines flags.
export const JSON_DOCUMENT: u32 = 1;

@inline function text(out: usize, texts: usize, slot: u32): usize {
  const at = texts + (<usize>slot << 2);
  return copy(out, texts + <usize>load<u32>(at), load<u32>(at, 4));
}

/** value / 10 without a division (exact for every u32). */
@inline function div10(value: u32): u32 {
  return <u32>((<u64>value * 0xcccccccd) >> 35);
}

function unsigned(out: usize, value: u32): usize {
  if (value < 10) return byte(out, 0x30 + value);
  let digits: usize = 2;
  for (let limit: u64 = 100; <u64>value >= limit && digits < 10; limit *= 10) digits++;
  let at = out + digits;
  do {
    at--;
    const q = div10(value);
    store<u8>(at, <u8>(0x30 + value - q * 10));
    value = q;
  } while (value != 0);
  return out + digits;
}

function signed(out: usize, value: i32): usize {
  if (value >= 0) return unsigned(out, <u32>value);
  out = byte(out, 0x2d);
  return unsigned(out, <u32>(-(<i64>value)));
}

/** A JSON string of ASCII bytes, escaped as JSON.stringify does (`\\"`, `\\\\`, \\b \\f \\n \\r \\t, \\u00XX). */
function quoted(out: usize, from: usize, length: usize): usize {
  out = byte(out, 0x22);
  let i: usize = 0;
  // 16 bytes at a time while none needs escaping (reads and writes may pass the end: see copy).
  while (i < length) {
    const v = v128.load(from + i);
    const special = v128.or(i8x16.lt_u(v, i8x16.splat(0x20)), v128.or(i8x16.eq(v, i8x16.splat(0x22)), i8x16.eq(v, i8x16.splat(0x5c))));
    const left = length - i;
    const lanes = left >= 16 ? 0xffff : (1 << <i32>left) - 1;
    if ((i8x16.bitmask(special) & lanes) != 0) break;
    v128.store(out, v);
    const step = left >= 16 ? 16 : left;
    out += step;
    i += step;
  }
  for (; i < length; i++) {
    const c = <u32>load<u8>(from + i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) {
      store<u8>(out, <u8>c);
      out++;
      continue;
    }
    out = byte(out, 0x5c);
    if (c == 0x22 || c == 0x5c) out = byte(out, c);
    else if (c == 0x08) out = byte(out, 0x62);
    else if (c == 0x0c) out = byte(out, 0x66);
    else if (c == 0x0a) out = byte(out, 0x6e);
    else if (c == 0x0d) out = byte(out, 0x72);
    else if (c == 0x09) out = byte(out, 0x74);
    else {
      out = ascii(out, 'u00');
      out = byte(out, hexDigit(c >> 4));
      out = byte(out, hexDigit(c & 15));
    }
  }
  return byte(out, 0x22);
}

/**
 * JSON lines of list positions [from, to) (list as in formatLines), one entry object and a
 * newline each; with JSON_DOCUMENT a comma follows every object but the one at `total - 1`.
 * Returns the position reached; formattedLength() bytes were written.
 */
export function formatJsonLines(texts: usize, list: usize, from: u32, to: u32, total: u32, out: usize, capacity: u32, flags: u32): u32 {
  const base = inputBase();
  const big = header(H_ORDER) == ORDER_BIG;
  const old = header(H_FORMAT) == FORMAT_OLD;
  const records = base + <usize>header(H_RECORDS);
  const recordSize = <usize>header(H_RECORD_SIZE);
  const table = wordAddress(header(H_ENTRIES));
  const hwcapCount = header(H_HWCAP_COUNT);
  const hwcaps = wordAddress(HEADER_WORDS);
  const start = out;
  const limit = out + <usize>capacity;
  let n = from;
  for (; n < to; n++) {
    const i = listed(list, n);
    const entry = table + (<usize>i * ENTRY_WORDS << 2);
    const nameAt = entryWord(entry, E_NAME_OFFSET);
    const nameLength = entryWord(entry, E_NAME_LENGTH);
    const pathAt = entryWord(entry, E_PATH_OFFSET);
    const pathLength = entryWord(entry, E_PATH_LENGTH);
    const record = records + <usize>i * recordSize;
    const entryFlags = read32(record, big);
    const high: u32 = old ? 0 : read32(record + (big ? 16 : 20), big);
    const low: u32 = old ? 0 : read32(record + (big ? 20 : 16), big);
    let hwcapAt: u32 = NONE;
    let hwcapLength: u32 = 0;
    // The name the writer meant (the `truth` record words), as the host's hwcapName.
    if ((high & ~(<u32>0x3ff)) == 0x40000000 && low < hwcapCount) {
      const hwcap = hwcaps + (<usize>(low * HWCAP_WORDS) << 2);
      hwcapAt = load<u32>(hwcap);
      hwcapLength = load<u32>(hwcap, 4);
    }
    // Every byte may become 6 (\u00XX).
    if (out + (<usize>nameLength + <usize>pathLength + <usize>(hwcapAt == NONE ? 0 : hwcapLength)) * 6 + FIXED_MAX > limit) break;
    out = text(out, texts, FJ_KEY);
    out = unsigned(out, i);
    out = text(out, texts, FJ_KEY + 2);
    out = quoted(out, base + <usize>nameAt, nameLength);
    out = text(out, texts, FJ_KEY + 4);
    out = quoted(out, base + <usize>pathAt, pathLength);
    out = text(out, texts, FJ_KEY + 6);
    out = signed(out, <i32>entryFlags);
    out = text(out, texts, FJ_KEY + 8);
    out = unsigned(out, entryFlags & 0xff);
    out = text(out, texts, FJ_KEY + 10);
    out = unsigned(out, entryFlags & 0xff00);
    out = byte(out, 0x2c);
    out = text(out, texts, FJ_ARCH + (((entryFlags >> 8) & 0xff) << 1));
    out = text(out, texts, FJ_KEY + 12);
    out = unsigned(out, old ? 0 : read32(record + 12, big));
    out = text(out, texts, FJ_KEY + 14);
    if ((high | low) == 0) {
      // The usual hwcap: sixteen zeros.
      v128.store(out, i8x16.splat(0x30));
      out += 16;
    } else {
      for (let shift = 28; shift >= 0; shift -= 4) out = byte(out, hexDigit((high >> shift) & 15));
      for (let shift = 28; shift >= 0; shift -= 4) out = byte(out, hexDigit((low >> shift) & 15));
    }
    out = text(out, texts, FJ_KEY + 16);
    if (hwcapAt == NONE) out = text(out, texts, FJ_KEY + 18);
    else out = quoted(out, base + <usize>hwcapAt, hwcapLength);
    out = text(out, texts, FJ_KEY + 20);
    out = text(out, texts, FJ_TYPE + ((entryFlags & 0xff) << 1));
    out = text(out, texts, FJ_REQUIRED + (((entryFlags >> 8) & 0xff) << 1));
    out = text(out, texts, FJ_KEY + 22);
    if ((flags & JSON_DOCUMENT) != 0 && n + 1 != total) out = byte(out, 0x2c);
    out = byte(out, 0x0a);
  }
  outLength = <u32>(out - start);
  return n;
}
