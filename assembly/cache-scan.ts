// Finding the NUL that ends a string: 16 bytes per step with v128 compares.
//
// Loads start below the end of the input and may read up to 31 bytes past it, into the 64
// bytes of slack memory.ts keeps after the input; a NUL found there does not count.
//
// Hostile caches can point thousands of keys at one long NUL-free run, which would make plain
// scanning quadratic. A scan that goes past SCAN_LIMIT bytes therefore builds, once per parse,
// a table holding for every 64-byte block the offset of the first NUL at or after its start
// (one backward pass over the input), and answers from it in O(1) from then on.
import { ensureMemory } from './memory';

const SCAN_LIMIT: usize = 512;
const BLOCK_SHIFT: usize = 6;
const BLOCK: usize = 1 << BLOCK_SHIFT;

let scanBase: usize = 0;
let scanEnd: usize = 0;
/** Where the block table may be built (after the result table); 0 = not built yet. */
let tableArea: usize = 0;
let table: usize = 0;
/**
 * Non-zero when a byte of a scanned string (before its NUL) has its high bit set, or when a scan
 * went through the block table (not looked at): 0 means every string scanned is ASCII.
 */
export let scanHighBits: i32 = 0;

/** Prepares scanning of [base, base + size); `area` is free memory for the block table. */
export function beginScan(base: usize, size: u64, area: usize): void {
  scanBase = base;
  scanEnd = base + <usize>size;
  tableArea = (area + 7) & ~(<usize>7);
  table = 0;
  scanHighBits = 0;
}

/** Starts counting non-ASCII string bytes afresh (the entry strings; hwcaps names do not count). */
export function resetHighBits(): void {
  scanHighBits = 0;
}

/** Bitmask of the NUL bytes among the 16 at `at`. */
@inline function nulMask(at: usize): i32 {
  return i8x16.bitmask(i8x16.eq(v128.load(at), i8x16.splat(0)));
}

/** Address of the first NUL in [from, scanEnd), or scanEnd when there is none. */
@inline export function scanNul(from: usize): usize {
  const end = scanEnd;
  const limit = end - from > SCAN_LIMIT ? from + SCAN_LIMIT : end;
  let at = from;
  // 32 bytes per step: most paths end within two or three steps.
  while (at < limit) {
    const zero = i8x16.splat(0);
    const first = v128.load(at);
    const second = v128.load(at, 16);
    const low = i8x16.bitmask(i8x16.eq(first, zero));
    const high = i8x16.bitmask(i8x16.eq(second, zero));
    const mask = low | (high << 16);
    // Bytes with the high bit set, counted only before the NUL (what follows is not this string).
    const nonAscii = i8x16.bitmask(first) | (i8x16.bitmask(second) << 16);
    scanHighBits |= nonAscii & ((mask - 1) & ~mask);
    if (mask != 0) {
      const hit = at + <usize>ctz<i32>(mask);
      return hit < end ? hit : end;
    }
    at += 32;
  }
  if (at >= end) return end;
  return scanLong(at);
}

/** Continues a scan that found no NUL in its first SCAN_LIMIT bytes ([.., at) is NUL-free). */
function scanLong(at: usize): usize {
  const end = scanEnd;
  scanHighBits = -1;
  if (table == 0 && !buildTable()) {
    // No memory for the table: plain scanning is still correct.
    while (at < end) {
      const mask = nulMask(at);
      if (mask != 0) {
        const hit = at + <usize>ctz<i32>(mask);
        return hit < end ? hit : end;
      }
      at += 16;
    }
    return end;
  }
  // Finish up to the next block start by hand, then read the table.
  const offset = at - scanBase;
  const nextBlock = (offset + BLOCK - 1) >> BLOCK_SHIFT;
  const stop = scanBase + (nextBlock << BLOCK_SHIFT);
  while (at < stop && at < end) {
    if (load<u8>(at) == 0) return at;
    at++;
  }
  if (at >= end) return end;
  return scanBase + <usize>load<u32>(table + (nextBlock << 2));
}

function buildTable(): bool {
  const size = scanEnd - scanBase;
  const blocks = (size + BLOCK - 1) >> BLOCK_SHIFT;
  const tableEnd = <u64>tableArea + (<u64>blocks << 2);
  if (tableEnd > 0xffff0000 || !ensureMemory(<usize>tableEnd)) return false;
  table = tableArea;
  let next = <u32>size;
  let block = blocks;
  while (block > 0) {
    block--;
    const start = scanBase + (block << BLOCK_SHIFT);
    const stop = min<usize>(start + BLOCK, scanEnd);
    for (let at = start; at < stop; at += 16) {
      const mask = nulMask(at);
      if (mask != 0) {
        const hit = at + <usize>ctz<i32>(mask);
        if (hit < stop) next = <u32>(hit - scanBase);
        break;
      }
    }
    store<u32>(table + (block << 2), next);
  }
  return true;
}
