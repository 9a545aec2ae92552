// Which cache entries are the NVIDIA driver's and which are strays of another version: exactly
// the core's answer (classifyNvidiaCache: the driver version by the one rule of
// src/core/driver-version.ts, each entry's status and what it rests on). The page adds nothing.
import { classifyNvidiaCache, type NvidiaCacheClassification, type NvidiaCacheEntry, type NvidiaEntryStatus } from '../core/nvidia.js';
import type { LdCache } from '../core/types.js';
import { entryAt } from './cache-stats.js';

export type NvidiaRow = NvidiaCacheEntry;

export interface NvidiaForView {
  readonly classification: NvidiaCacheClassification;
  readonly rows: readonly NvidiaRow[];
  readonly count: number;
  /** `data-nvidia` of a cache entry, or undefined when it is not a driver library. */
  statusOf(index: number): NvidiaEntryStatus | undefined;
}

/** Classifies the candidate entries (see cache-stats: names that start with a driver library stem). */
export function classifyForView(cache: LdCache, candidates: readonly number[]): NvidiaForView {
  const classification = classifyNvidiaCache({ entries: candidates.map((index) => entryAt(cache, index)) });
  const rows = classification.entries;
  const byIndex = new Map(rows.map((row) => [row.index, row.status]));
  return { classification, rows, count: rows.length, statusOf: (index) => byIndex.get(index) };
}
