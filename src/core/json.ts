// Plain JSON-safe views of a cache and its entries (numbers, strings, null; hwcap as hex text).
import type { LdCache, LdCacheEntry } from './types.js';

export interface EntryJSON {
  index: number;
  name: string;
  path: string;
  flags: number;
  type: number;
  required: number;
  arch: string;
  bits: 32 | 64 | null;
  osVersion: number;
  /** `0x` + 16 lowercase hex digits. */
  hwcap: string;
  hwcapName: string | null;
}

export interface CacheJSON {
  format: LdCache['format'];
  byteOrder: LdCache['byteOrder'];
  count: number;
  generator: string | null;
  hwcapDirs: string[];
  entries: EntryJSON[];
}

export function hwcapHex(hwcap: bigint): string {
  return `0x${BigInt.asUintN(64, hwcap).toString(16).padStart(16, '0')}`;
}

export function entryToJSON(entry: LdCacheEntry): EntryJSON {
  return {
    index: entry.index,
    name: entry.name,
    path: entry.path,
    flags: entry.flags,
    type: entry.type,
    required: entry.required,
    arch: entry.arch,
    bits: entry.bits,
    osVersion: entry.osVersion,
    hwcap: hwcapHex(entry.hwcap),
    hwcapName: entry.hwcapName ?? null,
  };
}

export function cacheToJSON(cache: LdCache): CacheJSON {
  const entries: EntryJSON[] = [];
  for (const entry of cache) entries.push(entryToJSON(entry));
  return {
    format: cache.format,
    byteOrder: cache.byteOrder,
    count: cache.count,
    generator: cache.generator ?? null,
    hwcapDirs: [...cache.hwcapDirs],
    entries,
  };
}
