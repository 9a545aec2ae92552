// The extension directory of new-format caches (glibc 2.33+): validated exactly as glibc's
// cache_extension_load does (section 8.3 of the spec), then the generator and the
// glibc-hwcaps array are located. All offsets in the directory are file offsets.
import { ERR_BAD_EXTENSION, NONE, readU32 } from './cache-read';
import { fail } from './cache-result';

const EXTENSION_MAGIC: u32 = 0xeaa42174;
const TAG_GENERATOR: u32 = 0;
const TAG_GLIBC_HWCAPS: u32 = 1;

/** What the directory holds: set by readExtensions, read by the caller. */
export let extGeneratorOffset: u32 = NONE;
export let extGeneratorLength: u32 = 0;
export let extHwcapsOffset: u32 = NONE;
export let extHwcapsCount: u32 = 0;

/**
 * Reads the directory at `extOffset` (0 = none). `headerAt` is the new header's offset (for
 * error offsets). Returns 0, or BAD_EXTENSION with the error recorded.
 */
export function readExtensions(base: usize, size: u64, headerAt: u64, extOffset: u32, order: i32): i32 {
  extGeneratorOffset = NONE;
  extGeneratorLength = 0;
  extHwcapsOffset = NONE;
  extHwcapsCount = 0;
  if (extOffset == 0) return 0;
  const at = <u64>extOffset;
  if ((at & 3) != 0) return fail(ERR_BAD_EXTENSION, headerAt + 32, NONE, at);
  if (at + 8 > size) return fail(ERR_BAD_EXTENSION, headerAt + 32, NONE, at);
  if (readU32(base, at, order) != EXTENSION_MAGIC) return fail(ERR_BAD_EXTENSION, at, NONE, readU32(base, at, order));
  const count = readU32(base, at + 4, order);
  if ((<u64>count) * 16 > size - (at + 8)) return fail(ERR_BAD_EXTENSION, at + 4, NONE, count);
  let hwcapsOffset: u32 = NONE;
  let hwcapsSize: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const record = at + 8 + (<u64>i) * 16;
    const tag = readU32(base, record, order);
    const offset = readU32(base, record + 8, order);
    const length = readU32(base, record + 12, order);
    // Every section, known tag or not, must lie inside the file.
    if (<u64>offset + <u64>length > size) return fail(ERR_BAD_EXTENSION, record + 8, NONE, <u64>offset + <u64>length);
    // A tag that appears twice: the later section wins.
    if (tag == TAG_GENERATOR) {
      extGeneratorOffset = offset;
      extGeneratorLength = length;
    } else if (tag == TAG_GLIBC_HWCAPS) {
      hwcapsOffset = offset;
      hwcapsSize = length;
    }
  }
  // glibc drops (silently) an empty, odd-sized or misaligned hwcaps section.
  if (hwcapsOffset != NONE && hwcapsSize != 0 && (hwcapsSize & 3) == 0 && (hwcapsOffset & 3) == 0) {
    extHwcapsOffset = hwcapsOffset;
    extHwcapsCount = hwcapsSize >> 2;
  }
  return 0;
}
