// ld.so.cache parser: reads the input bytes in place (at inputBase()) and writes a table of u32
// at resultBase(). Exports numbers only: the host reads the table through one typed array.
//
// Result layout (u32 words; offsets are relative to the first input byte):
//   header   HEADER_WORDS words:
//             0 error code (0 = none)        1 error byte offset     2 format: 0 old, 1 new, 2 compat
//             3 byte order: 0 little, 1 big  4 entry count           5 word index of the entry records
//             6 hwcaps name count (records from word HEADER_WORDS)
//             7 generator offset (NONE = absent)                     8 generator length
//             9 new header offset (NONE for old-only)               10 old table nlibs (0 for new-only)
//            11 extension_offset             12 entry index of the error (NONE = none)
//            13 the offending value          14 compat: alignment the new header was found at (8 or 4)
//            15 offset of the printed entry array                   16 its record size (24 new, 12 old)
//            17, 18 the smallest range [start, end) holding every name and path (0, 0 when no entries)
//            19 1 when every byte of every name and path is ASCII, 0 when not or not known
//   hwcaps   4 words per glibc-hwcaps name: truthOff, truthLen, glibcOff, glibcLen (NONE, 0 = no name)
//   entries  4 words per entry: nameOff, nameLen, pathOff, pathLen (flags, osversion and hwcap
//            are read by the host from the entry array itself, only when asked)
//
// Every count and offset is checked with 64-bit arithmetic before use: no load leaves the input,
// except 16-byte SIMD loads that may reach into the slack after it (see cache-scan.ts).
//
// Bad strings (ldconfig -p crashes or prints garbage there) are errors: a key or value offset at
// or past the end is STRING_OUT_OF_RANGE (error offset = the entry field holding it); a key or
// value with no NUL before the end is STRING_UNTERMINATED (error offset = where it starts). A
// glibc-hwcaps name that does not resolve is not an error: its entry keeps the raw hwcap value
// (ldconfig prints it in hex); a name without a NUL runs to the end of the input.
import { inputBase, reserveInput, resultBase } from './memory';
import { cacheMagicError, isNewMagic, isOldMagic } from './cache-magic';
import { parseEntries, parseOldEntries, resolveHwcaps } from './cache-entries';
import { extGeneratorLength, extGeneratorOffset, extHwcapsCount, extHwcapsOffset, readExtensions } from './cache-extension';
import {
  ERR_BAD_ENDIANNESS, ERR_EMPTY, ERR_OK, ERR_OUT_OF_MEMORY, ERR_TABLE_TRUNCATED, ERR_TOO_SHORT, NONE, ORDER_BIG, ORDER_LITTLE, readU32,
} from './cache-read';
import {
  FORMAT_COMPAT, FORMAT_NEW, FORMAT_OLD, HEADER_WORDS, HWCAP_WORDS, H_COUNT, H_ENTRIES, H_ERROR, H_EXT_OFF,
  H_FORMAT, H_GEN_LEN, H_GEN_OFF, H_HWCAP_COUNT, H_NEW_ALIGN, H_NEW_HEADER, H_OLD_COUNT, H_ORDER,
  H_RECORDS, H_RECORD_SIZE, fail, reserveWords, resetHeader, resultWords, setHeader, wordAddress,
} from './cache-result';
import { beginScan } from './cache-scan';

const OLD_HEADER: u64 = 16;
const OLD_ENTRY: u64 = 12;
const NEW_HEADER: u64 = 48;
const NEW_ENTRY: u64 = 24;

/** Whether `count` entries of `size` bytes starting at `start` fit in `length` bytes. */
@inline function tableFits(start: u64, count: u32, size: u64, length: u64): bool {
  return start <= length && (<u64>count) * size <= length - start;
}

/**
 * Checks the first `length` input bytes (a prefix of the file, while streaming) against both
 * magics: 0, or BAD_MAGIC (3) with the error offset in header word 1.
 */
export function probeCache(length: u32): i32 {
  if (!reserveWords(HEADER_WORDS)) return ERR_OUT_OF_MEMORY;
  resetHeader();
  return cacheMagicError(inputBase(), length);
}

/** parseCache flag: find a compat file's new header only at the 8-aligned offset, as 64-bit glibc does. */
const PARSE_GLIBC64: u32 = 1;
let glibc64Reader = false;

/**
 * Parses the `length` input bytes. Returns 0 or an error code; the result is at resultBase().
 * `flags`: PARSE_GLIBC64 (1) or 0.
 */
export function parseCache(length: u32, flags: u32): i32 {
  glibc64Reader = (flags & PARSE_GLIBC64) != 0;
  // The result table sits after the input: make the protocol agree on the length first.
  if (reserveInput(length) == 0) return ERR_OUT_OF_MEMORY;
  if (!reserveWords(HEADER_WORDS)) return ERR_OUT_OF_MEMORY;
  resetHeader();
  const base = inputBase();
  const size = <u64>length;
  if (length == 0) return fail(ERR_EMPTY, 0, NONE, 0);
  const magicError = cacheMagicError(base, length);
  if (magicError != ERR_OK) return magicError;
  if (isNewMagic(base, size)) {
    if (size < NEW_HEADER) return fail(ERR_TOO_SHORT, size, NONE, NEW_HEADER);
    return parseNew(base, size, 0, FORMAT_NEW);
  }
  if (!isOldMagic(base, size) || size < OLD_HEADER) return fail(ERR_TOO_SHORT, size, NONE, OLD_HEADER);
  return parseOldOrCompat(base, size);
}

function parseOldOrCompat(base: usize, size: u64): i32 {
  const little = readU32(base, 12, ORDER_LITTLE);
  const big = readU32(base, 12, ORDER_BIG);
  const littleFits = tableFits(OLD_HEADER, little, OLD_ENTRY, size);
  const bigFits = tableFits(OLD_HEADER, big, OLD_ENTRY, size);
  // No byte order makes the old table fit: report it in the more plausible (smaller) reading.
  if (!littleFits && !bigFits) return fail(ERR_TABLE_TRUNCATED, 12, NONE, min<u32>(little, big));
  for (let pass = 0; pass < 2; pass++) {
    const order = pass == 0 ? ORDER_LITTLE : ORDER_BIG;
    if (!(order == ORDER_LITTLE ? littleFits : bigFits)) continue;
    const count = order == ORDER_LITTLE ? little : big;
    const end = OLD_HEADER + (<u64>count) * OLD_ENTRY;
    // 64-bit writers align the embedded header to 8, i386 writers to 4 (`end` is 4-aligned).
    // Like ldconfig -p, the header must end strictly before the end of the file.
    const aligned = (end + 7) & ~(<u64>7);
    let at: u64 = NONE;
    if (size > aligned + NEW_HEADER && isNewMagic(base + <usize>aligned, 20)) at = aligned;
    else if (!glibc64Reader && aligned != end && size > end + NEW_HEADER && isNewMagic(base + <usize>end, 20)) at = end;
    if (at == NONE) continue;
    setHeader(H_OLD_COUNT, count);
    setHeader(H_NEW_ALIGN, at == aligned ? 8 : 4);
    return parseNew(base, size, at, FORMAT_COMPAT);
  }
  const order = littleFits ? ORDER_LITTLE : ORDER_BIG;
  const count = order == ORDER_LITTLE ? little : big;
  setHeader(H_FORMAT, FORMAT_OLD);
  setHeader(H_ORDER, order);
  setHeader(H_OLD_COUNT, count);
  setHeader(H_COUNT, count);
  setHeader(H_RECORDS, <u32>OLD_HEADER);
  setHeader(H_RECORD_SIZE, <u32>OLD_ENTRY);
  const words = resultWords(0, count);
  if (!reserveWords(words)) return fail(ERR_OUT_OF_MEMORY, 0, NONE, 0);
  beginScan(base, size, wordAddress(<u32>words));
  return parseOldEntries(base, size, count, order, wordAddress(HEADER_WORDS));
}

/** Byte order of the new header at `at`: its flags byte when set, otherwise the order its table fits in. */
function newHeaderOrder(base: usize, size: u64, at: u64): i32 {
  const flags = load<u8>(base + <usize>at + 28) & 3;
  if (flags == 2) return ORDER_LITTLE;
  if (flags == 3) return ORDER_BIG;
  if (flags == 1) return -1;
  const little = readU32(base, at + 20, ORDER_LITTLE);
  const big = readU32(base, at + 20, ORDER_BIG);
  const fitsLittle = tableFits(at + NEW_HEADER, little, NEW_ENTRY, size);
  const fitsBig = tableFits(at + NEW_HEADER, big, NEW_ENTRY, size);
  if (fitsLittle != fitsBig) return fitsLittle ? ORDER_LITTLE : ORDER_BIG;
  // Neither fits: the smaller count is the plausible reading (the error is reported in it).
  if (!fitsLittle) return little <= big ? ORDER_LITTLE : ORDER_BIG;
  // Both fit (small or symmetric counts): a non-zero extension offset may tell.
  if (extensionMagicAt(base, size, at, ORDER_LITTLE)) return ORDER_LITTLE;
  if (extensionMagicAt(base, size, at, ORDER_BIG)) return ORDER_BIG;
  return ORDER_LITTLE;
}

function extensionMagicAt(base: usize, size: u64, at: u64, order: i32): bool {
  const offset = <u64>readU32(base, at + 32, order);
  return offset != 0 && (offset & 3) == 0 && offset + 4 <= size && readU32(base, offset, order) == 0xeaa42174;
}

function parseNew(base: usize, size: u64, at: u64, format: u32): i32 {
  setHeader(H_FORMAT, format);
  setHeader(H_NEW_HEADER, <u32>at);
  setHeader(H_RECORDS, <u32>(at + NEW_HEADER));
  setHeader(H_RECORD_SIZE, <u32>NEW_ENTRY);
  const flagsByte = load<u8>(base + <usize>at + 28);
  const order = newHeaderOrder(base, size, at);
  if (order < 0) return fail(ERR_BAD_ENDIANNESS, at + 28, NONE, flagsByte);
  setHeader(H_ORDER, order);
  const count = readU32(base, at + 20, order);
  setHeader(H_COUNT, count);
  if (!tableFits(at + NEW_HEADER, count, NEW_ENTRY, size)) return fail(ERR_TABLE_TRUNCATED, at + 20, NONE, count);
  const extOffset = readU32(base, at + 32, order);
  setHeader(H_EXT_OFF, extOffset);

  // ldconfig -p validates the extension directory before it prints anything.
  if (readExtensions(base, size, at, extOffset, order) != 0) return <i32>load<u32>(wordAddress(H_ERROR));
  setHeader(H_GEN_OFF, extGeneratorOffset);
  setHeader(H_GEN_LEN, extGeneratorLength);
  const hwcaps = extHwcapsCount;
  setHeader(H_HWCAP_COUNT, hwcaps);
  const entriesWord = <u64>HEADER_WORDS + (<u64>hwcaps) * HWCAP_WORDS;
  const words = resultWords(hwcaps, count);
  if (entriesWord > 0xffffffff || !reserveWords(words)) return fail(ERR_OUT_OF_MEMORY, 0, NONE, 0);
  setHeader(H_ENTRIES, <u32>entriesWord);
  beginScan(base, size, wordAddress(<u32>words));
  if (hwcaps != 0) resolveHwcaps(base, size, at, extHwcapsOffset, hwcaps, order, wordAddress(HEADER_WORDS));
  return parseEntries(base, size, at, count, order, wordAddress(<u32>entriesWord));
}
