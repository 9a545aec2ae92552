// The layout of the core's result table (see assembly/cache.ts): header words, entry and
// glibc-hwcaps records. Loops that want numbers only read these through `entryTable()`.

/** "No value" in table words. */
export const NONE = 0xffffffff;

// Header words (see assembly/cache.ts).
export const H_ERROR = 0;
export const H_ERROR_OFFSET = 1;
export const H_FORMAT = 2;
export const H_ORDER = 3;
export const H_COUNT = 4;
export const H_ENTRIES = 5;
export const H_HWCAP_COUNT = 6;
export const H_HWCAPS = 7;
export const H_GEN_OFF = 8;
export const H_GEN_LEN = 9;
export const H_NEW_HEADER = 10;
export const H_OLD_COUNT = 11;
export const H_STRING_BASE = 12;
export const H_EXT_OFF = 13;
export const H_LEN_STRINGS = 14;
export const H_FLAGS_BYTE = 15;
export const H_ERROR_ENTRY = 16;
export const H_ERROR_VALUE = 17;
export const H_EXT_COUNT = 18;
export const H_NEW_ALIGN = 19;
export const H_RECORDS = 20;
export const H_RECORD_SIZE = 21;
export const HEADER_WORDS = 22;

/** Words per entry record, and what each holds (for fast loops over `entryTable()`). */
export const ENTRY_WORDS = 4;
export const E_NAME_OFFSET = 0;
export const E_NAME_LENGTH = 1;
export const E_PATH_OFFSET = 2;
export const E_PATH_LENGTH = 3;
/** Words per glibc-hwcaps name record: truthOffset, truthLength, glibcOffset, glibcLength. */
export const HWCAP_WORDS = 4;
