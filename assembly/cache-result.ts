// The result table at resultBase(): header words, then hwcaps records, then entry records.
// Word meanings are documented in cache.ts. The build generates the host's copy of every
// exported constant here (src/core/core-layout.generated.ts, scripts/core-layout.mjs).
import { ensureMemory, resultBase } from './memory';
import { NONE } from './cache-read';

export const HEADER_WORDS: u32 = 20;
export const HWCAP_WORDS: u32 = 4;
export const ENTRY_WORDS: u32 = 4;

// Header words.
export const H_ERROR: u32 = 0;
export const H_ERROR_OFFSET: u32 = 1;
export const H_FORMAT: u32 = 2;
export const H_ORDER: u32 = 3;
export const H_COUNT: u32 = 4;
export const H_ENTRIES: u32 = 5;
export const H_HWCAP_COUNT: u32 = 6;
export const H_GEN_OFF: u32 = 7;
export const H_GEN_LEN: u32 = 8;
export const H_NEW_HEADER: u32 = 9;
export const H_OLD_COUNT: u32 = 10;
export const H_EXT_OFF: u32 = 11;
export const H_ERROR_ENTRY: u32 = 12;
export const H_ERROR_VALUE: u32 = 13;
export const H_NEW_ALIGN: u32 = 14;
export const H_RECORDS: u32 = 15;
export const H_RECORD_SIZE: u32 = 16;
export const H_STRINGS_START: u32 = 17;
export const H_STRINGS_END: u32 = 18;
export const H_STRINGS_ASCII: u32 = 19;

// Entry record words.
export const E_NAME_OFFSET: u32 = 0;
export const E_NAME_LENGTH: u32 = 1;
export const E_PATH_OFFSET: u32 = 2;
export const E_PATH_LENGTH: u32 = 3;

export const FORMAT_OLD: u32 = 0;
export const FORMAT_NEW: u32 = 1;
export const FORMAT_COMPAT: u32 = 2;

@inline export function setHeader(index: u32, value: u32): void {
  store<u32>(resultBase() + (<usize>index << 2), value);
}

@inline export function header(index: u32): u32 {
  return load<u32>(resultBase() + (<usize>index << 2));
}

/** Address of result word `word`. */
@inline export function wordAddress(word: u32): usize {
  return resultBase() + (<usize>word << 2);
}

/** Records an error and returns its code. Offsets and values above 2^32 - 1 are clamped. */
export function fail(code: i32, offset: u64, entry: u32, value: u64): i32 {
  setHeader(H_ERROR, <u32>code);
  setHeader(H_ERROR_OFFSET, <u32>min<u64>(offset, 0xffffffff));
  setHeader(H_ERROR_ENTRY, entry);
  setHeader(H_ERROR_VALUE, <u32>min<u64>(value, 0xffffffff));
  return code;
}

/** Clears the header for a new parse. */
export function resetHeader(): void {
  for (let i: u32 = 0; i < HEADER_WORDS; i++) setHeader(i, 0);
  setHeader(H_GEN_OFF, NONE);
  setHeader(H_NEW_HEADER, NONE);
  setHeader(H_ERROR_ENTRY, NONE);
  setHeader(H_ENTRIES, HEADER_WORDS);
}

/** Words used by a result with `hwcaps` hwcaps records and `count` entries. */
export function resultWords(hwcaps: u32, count: u32): u64 {
  return <u64>HEADER_WORDS + (<u64>hwcaps) * HWCAP_WORDS + (<u64>count) * ENTRY_WORDS;
}

/** Grows memory for a result of `words` words; false when it cannot. */
export function reserveWords(words: u64): bool {
  const end = <u64>resultBase() + words * 4;
  if (end > 0xffff0000) return false;
  return ensureMemory(<usize>end);
}
