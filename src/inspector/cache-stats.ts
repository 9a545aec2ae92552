// One pass over a cache for everything the first screen needs: counts by architecture, type and
// hwcap, and which entries could be NVIDIA driver libraries. For a parsed cache it reads numbers
// from the core's result table (no entry objects, no string decoding), so that 200,000 entries
// cost milliseconds; any other LdCache goes through its entry objects.
import { archName, cacheFamily, isHwcapsExtension } from '../core/abi.js';
import { E_NAME_LENGTH, E_NAME_OFFSET, ENTRY_WORDS, H_FORMAT, H_ORDER, H_RECORD_SIZE, H_RECORDS, ParsedLdCache } from '../core/ldcache.js';
import { LIBRARY_STEMS } from '../core/nvidia-libraries.js';
import type { LdCache, LdCacheEntry } from '../core/types.js';
import { typeWord } from './entry-text.js';

/** hwcap filter keys: '' any; NO_HWCAP plain entries; LEGACY_HWCAP legacy bits; else a glibc-hwcaps name. */
export const NO_HWCAP = '\u0000none';
export const LEGACY_HWCAP = '\u0000legacy';

export interface CacheStats {
  /** [key, count], most frequent first. */
  readonly arch: [string, number][];
  readonly type: [string, number][];
  readonly hwcap: [string, number][];
  /** Indices of entries whose name starts with a driver library stem (`libcuda.so…`). */
  readonly nvidiaCandidates: number[];
  /** Per entry: its architecture (a key of `arch`) and its hwcap key (a key of `hwcap`), for fast filters. */
  readonly archOf: readonly string[];
  readonly hwcapOf: readonly string[];
}

/** An entry by index without making every entry object (ParsedLdCache makes them on demand). */
export function entryAt(cache: LdCache, index: number): LdCacheEntry {
  return cache instanceof ParsedLdCache ? cache.entry(index) : cache.entries[index]!;
}

const STEMS = new Set(Object.values(LIBRARY_STEMS).flat());
// Cheap byte tests before any string is made: every stem starts with `lib`, and few letters follow.
const STEM_LENGTHS = new Set([...STEMS].map((stem) => stem.length));
const STEM_FOURTH = new Set([...STEMS].map((stem) => stem.charCodeAt(3)));

/** Whether the name's bytes before its first `.so` are a driver library stem (stems are ASCII). */
function isStemName(bytes: Uint8Array, offset: number, length: number): boolean {
  if (length < 7 || bytes[offset] !== 0x6c || bytes[offset + 1] !== 0x69 || bytes[offset + 2] !== 0x62 || !STEM_FOURTH.has(bytes[offset + 3]!)) return false;
  for (let i = offset + 3, end = offset + length - 2; i < end; i++) {
    if (bytes[i] === 0x2e && bytes[i + 1] === 0x73 && bytes[i + 2] === 0x6f) {
      return STEM_LENGTHS.has(i - offset) && STEMS.has(String.fromCharCode(...bytes.subarray(offset, i)));
    }
  }
  return false;
}

function sortedCounts(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

export function cacheStats(cache: LdCache): CacheStats {
  return cache instanceof ParsedLdCache ? fromTable(cache) : fromEntries(cache);
}

function fromTable(cache: ParsedLdCache): CacheStats {
  const { words, start, count } = cache.entryTable();
  const bytes = cache.bytes;
  // The raw entry records (flags, hwcap), read here in one loop: the per-entry accessors of the
  // model cost microseconds each, which is most of a second at 200,000 entries.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records = cache.headerWord(H_RECORDS);
  const recordSize = cache.headerWord(H_RECORD_SIZE);
  const little = cache.headerWord(H_ORDER) !== 1;
  const hasHwcap = cache.headerWord(H_FORMAT) !== 0;
  const byFlags = new Map<number, number>();
  const byHwcap = new Map<string, number>();
  const hwcapNames = new Map<number, string | undefined>();
  const nvidiaCandidates: number[] = [];
  const flagsOf = new Int32Array(count);
  const hwcapOf = new Array<string>(count);
  for (let i = 0, record = start; i < count; i++, record += ENTRY_WORDS) {
    const at = records + i * recordSize;
    const flags = view.getInt32(at, little);
    flagsOf[i] = flags;
    byFlags.set(flags, (byFlags.get(flags) ?? 0) + 1);
    const high = hasHwcap ? view.getUint32(at + (little ? 20 : 16), little) : 0;
    const low = hasHwcap ? view.getUint32(at + (little ? 16 : 20), little) : 0;
    let key = NO_HWCAP;
    if (high !== 0 || low !== 0) {
      let name: string | undefined;
      if (isHwcapsExtension(high)) {
        if (!hwcapNames.has(low)) {
          const nameBytes = cache.hwcapNameBytes(low, 'truth');
          hwcapNames.set(low, nameBytes ? cache.decode(nameBytes) : undefined);
        }
        name = hwcapNames.get(low);
      }
      key = name ?? LEGACY_HWCAP;
    }
    byHwcap.set(key, (byHwcap.get(key) ?? 0) + 1);
    hwcapOf[i] = key;
    if (isStemName(bytes, words[record + E_NAME_OFFSET]!, words[record + E_NAME_LENGTH]!)) nvidiaCandidates.push(i);
  }
  const family = cacheFamily([...byFlags.keys()].map((flags) => flags & 0xff00));
  const arch = new Map<string, number>();
  const type = new Map<string, number>();
  const archOfFlags = new Map<number, string>();
  for (const [flags, n] of byFlags) {
    archOfFlags.set(flags, archName(flags, family));
    bump(arch, archOfFlags.get(flags)!, n);
    bump(type, typeWord(flags & 0xff), n);
  }
  const archOf = Array.from(flagsOf, (flags) => archOfFlags.get(flags)!);
  return { arch: sortedCounts(arch), type: sortedCounts(type), hwcap: sortedCounts(byHwcap), nvidiaCandidates, archOf, hwcapOf };
}

function fromEntries(cache: LdCache): CacheStats {
  const arch = new Map<string, number>();
  const type = new Map<string, number>();
  const hwcap = new Map<string, number>();
  const nvidiaCandidates: number[] = [];
  const archOf: string[] = [];
  const hwcapOf: string[] = [];
  cache.entries.forEach((entry, i) => {
    archOf.push(entry.arch);
    hwcapOf.push(entry.hwcapName ?? (entry.hwcap === 0n ? NO_HWCAP : LEGACY_HWCAP));
    bump(arch, archOf[i]!);
    bump(type, typeWord(entry.type));
    bump(hwcap, hwcapOf[i]!);
    const at = entry.name.indexOf('.so');
    if (at > 0 && STEMS.has(entry.name.slice(0, at))) nvidiaCandidates.push(i);
  });
  return { arch: sortedCounts(arch), type: sortedCounts(type), hwcap: sortedCounts(hwcap), nvidiaCandidates, archOf, hwcapOf };
}
