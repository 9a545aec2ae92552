// The layout of the core's result table (see assembly/cache.ts): header words, entry and
// glibc-hwcaps records. Loops that want numbers only read these through `entryTable()`.
// The numbers come from the AssemblyScript sources, generated at build time.
export {
  NONE,
  H_ERROR, H_ERROR_OFFSET, H_FORMAT, H_ORDER, H_COUNT, H_ENTRIES, H_HWCAP_COUNT, H_GEN_OFF, H_GEN_LEN, H_NEW_HEADER, H_OLD_COUNT,
  H_EXT_OFF, H_ERROR_ENTRY, H_ERROR_VALUE, H_NEW_ALIGN, H_RECORDS, H_RECORD_SIZE, H_STRINGS_START, H_STRINGS_END, H_STRINGS_ASCII, HEADER_WORDS,
  /** Words per entry record, and what each holds (for fast loops over `entryTable()`). */
  ENTRY_WORDS, E_NAME_OFFSET, E_NAME_LENGTH, E_PATH_OFFSET, E_PATH_LENGTH,
  /** Words per glibc-hwcaps name record: truthOffset, truthLength, glibcOffset, glibcLength. */
  HWCAP_WORDS,
} from './core-layout.generated.js';
