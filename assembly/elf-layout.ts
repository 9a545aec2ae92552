// The ELF reader's constants and result table layout (byte offsets from resultBase()).
// src/core/elf.ts mirrors this table.

export const STATUS_OK: i32 = 0;
export const STATUS_NEED: i32 = 1;
export const STATUS_ERROR: i32 = 2;
export const STATUS_NO_MEMORY: i32 = 3;

// Error codes (src/core/elf.ts names them).
export const E_NOT_ELF: i32 = 1;
export const E_BAD_CLASS: i32 = 2;
export const E_BAD_BYTE_ORDER: i32 = 3;
export const E_TRUNCATED: i32 = 4;
export const E_BAD_PROGRAM_HEADERS: i32 = 5;
export const E_BAD_DYNAMIC: i32 = 6;
export const E_STRTAB_UNMAPPED: i32 = 7;
export const E_STRING_OUT_OF_RANGE: i32 = 8;
export const E_STRING_UNTERMINATED: i32 = 9;
export const E_BAD_NOTE: i32 = 10;
export const E_TOO_LARGE: i32 = 11;

// Result table.
export const STATUS: usize = 0;
export const ERROR_CODE: usize = 4;
export const ERROR_OFFSET: usize = 8; // f64
export const CLASS: usize = 16;
export const DATA: usize = 20;
export const OSABI: usize = 24;
export const TYPE: usize = 28;
export const MACHINE: usize = 32;
export const FLAGS: usize = 36;
export const SONAME_ADDR: usize = 40; // i32 address, then i32 length at 44 (address 0: none)
export const NEEDED_COUNT: usize = 48;
export const NOTE_FOUND: usize = 52;
export const NOTE_OS: usize = 56;
export const NOTE_MAJOR: usize = 60;
export const NOTE_MINOR: usize = 64;
export const NOTE_PATCH: usize = 68;
export const HAS_DYNAMIC: usize = 72;
export const ABIVERSION: usize = 76;
export const NEEDS: usize = 80; // MAX_NEEDS x {f64 offset, f64 length}
export const MAX_NEEDS: i32 = 8;
export const NEEDED_LIST: usize = 80 + 8 * 16; // NEEDED_COUNT x {i32 address, i32 length}

/** Largest single range (dynamic segment, string table, note) the reader asks for. */
export const MAX_RANGE: u64 = 16 << 20;

export const PT_LOAD: u32 = 1;
export const PT_DYNAMIC: u32 = 2;
export const PT_NOTE: u32 = 4;
export const SHT_NOTE: u32 = 7;
export const DT_NULL: u64 = 0;
export const DT_NEEDED: u64 = 1;
export const DT_STRTAB: u64 = 5;
export const DT_STRSZ: u64 = 10;
export const DT_SONAME: u64 = 14;
export const NT_GNU_ABI_TAG: u32 = 1;
