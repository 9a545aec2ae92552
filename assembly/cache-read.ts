// Shared constants and byte-order-aware loads for the cache parser (not exported from the module).

/** "No value" in result words (an offset that does not resolve, an absent section). */
export const NONE: u32 = 0xffffffff;

export const ORDER_LITTLE: i32 = 0;
export const ORDER_BIG: i32 = 1;

// Error codes; src/core/parse.ts maps them to LdCacheError codes (keep both in step).
export const ERR_OK: i32 = 0;
export const ERR_EMPTY: i32 = 1;
export const ERR_TOO_SHORT: i32 = 2;
export const ERR_BAD_MAGIC: i32 = 3;
export const ERR_BAD_ENDIANNESS: i32 = 4;
export const ERR_TABLE_TRUNCATED: i32 = 5;
export const ERR_STRING_OUT_OF_RANGE: i32 = 6;
export const ERR_STRING_UNTERMINATED: i32 = 7;
export const ERR_BAD_EXTENSION: i32 = 8;
export const ERR_OUT_OF_MEMORY: i32 = 9;

/** The u32 at input offset `offset` (the caller has checked offset + 4 <= length). */
@inline export function readU32(base: usize, offset: u64, order: i32): u32 {
  const raw = load<u32>(base + <usize>offset);
  return order == ORDER_BIG ? bswap<u32>(raw) : raw;
}
