// Entry tables: every key and value is bounds-checked and NUL-scanned here, so the host can
// read name and path as (offset, length) pairs without touching the bytes.
import { ERR_STRING_OUT_OF_RANGE, ERR_STRING_UNTERMINATED, NONE, ORDER_BIG } from './cache-read';
import { ENTRY_WORDS, E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET, HWCAP_WORDS, H_STRINGS_ASCII, H_STRINGS_END, H_STRINGS_START, fail, setHeader } from './cache-result';
import { resetHighBits, scanHighBits, scanNul } from './cache-scan';

/**
 * New-format entries (24 bytes each) of the header at `at`, written to `out` as ENTRY_WORDS
 * words: nameOff, nameLen, pathOff, pathLen. (flags, osversion and hwcap stay in the input,
 * where the host reads them when asked: the table is half the size.)
 */
export function parseEntries(base: usize, size: u64, at: u64, count: u32, order: i32, out: usize): i32 {
  // Two instances of the loop, each with its byte order fixed at compile time.
  return order == ORDER_BIG ? parseTable(base, size, at + 48, 24, at, count, true, out) : parseTable(base, size, at + 48, 24, at, count, false, out);
}

/** Old-format entries (12 bytes each, strings after the array), same output records. */
export function parseOldEntries(base: usize, size: u64, count: u32, order: i32, out: usize): i32 {
  const stringsAt = 16 + (<u64>count) * 12;
  return order == ORDER_BIG ? parseTable(base, size, 16, 12, stringsAt, count, true, out) : parseTable(base, size, 16, 12, stringsAt, count, false, out);
}

/** Entries of `stride` bytes from `first`, key at +4 and value at +8, strings from `stringsAt`. */
@inline function parseTable(base: usize, size: u64, first: u64, stride: usize, stringsAt: u64, count: u32, big: bool, out: usize): i32 {
  const end = base + <usize>size;
  const strings = base + <usize>stringsAt;
  const room = size - stringsAt;
  let entry = base + <usize>first;
  // The smallest range holding every name and path (the host decodes it once when ASCII).
  let lowest: usize = end;
  let highest: usize = base;
  resetHighBits();
  for (let i: u32 = 0; i < count; i++) {
    let key = load<u32>(entry, 4);
    let value = load<u32>(entry, 8);
    if (big) {
      key = bswap<u32>(key);
      value = bswap<u32>(value);
    }
    const fieldAt = <u64>(entry - base);
    if (<u64>key >= room) return fail(ERR_STRING_OUT_OF_RANGE, fieldAt + 4, i, key);
    if (<u64>value >= room) return fail(ERR_STRING_OUT_OF_RANGE, fieldAt + 8, i, value);
    const path = strings + <usize>value;
    const pathEnd = scanNul(path);
    if (pathEnd == end) return fail(ERR_STRING_UNTERMINATED, <u64>(path - base), i, value);
    const name = strings + <usize>key;
    // ldconfig (2.33+) shares tails: the name is usually the end of the path, whose NUL is known.
    let nameEnd = pathEnd;
    if (name < path || name > pathEnd) {
      nameEnd = scanNul(name);
      if (nameEnd == end) return fail(ERR_STRING_UNTERMINATED, <u64>(name - base), i, key);
    }
    store<u32>(out + (<usize>E_NAME_OFFSET << 2), <u32>(name - base));
    store<u32>(out + (<usize>E_NAME_LENGTH << 2), <u32>(nameEnd - name));
    store<u32>(out + (<usize>E_PATH_OFFSET << 2), <u32>(path - base));
    store<u32>(out + (<usize>E_PATH_LENGTH << 2), <u32>(pathEnd - path));
    lowest = min<usize>(lowest, min<usize>(name, path));
    highest = max<usize>(highest, max<usize>(nameEnd, pathEnd));
    out += <usize>ENTRY_WORDS << 2;
    entry += stride;
  }
  if (count != 0) {
    setHeader(H_STRINGS_START, <u32>(lowest - base));
    setHeader(H_STRINGS_END, <u32>(highest - base));
    setHeader(H_STRINGS_ASCII, scanHighBits == 0 ? 1 : 0);
  }
  return 0;
}

/**
 * The glibc-hwcaps names: for each index of the array at `arrayAt`, the name resolved from the
 * new header at `headerAt` (what the writer meant) and from the file start (what glibc's
 * readers do; the same in new-format files). Records: truthOff, truthLen, glibcOff, glibcLen,
 * NONE/0 where the string index is out of range. A name without a NUL runs to the end.
 */
export function resolveHwcaps(base: usize, size: u64, headerAt: u64, arrayAt: u32, count: u32, order: i32, out: usize): void {
  for (let i: u32 = 0; i < count; i++) {
    let index = load<u32>(base + <usize>arrayAt + (<usize>i << 2));
    if (order == ORDER_BIG) index = bswap<u32>(index);
    const truth = headerAt + <u64>index;
    writeName(base, size, truth, out);
    writeName(base, size, <u64>index, out + 8);
    out += <usize>HWCAP_WORDS << 2;
  }
}

@inline function writeName(base: usize, size: u64, offset: u64, out: usize): void {
  if (offset >= size) {
    store<u32>(out, NONE);
    store<u32>(out, 0, 4);
    return;
  }
  const start = base + <usize>offset;
  store<u32>(out, <u32>offset);
  store<u32>(out, <u32>(scanNul(start) - start), 4);
}
