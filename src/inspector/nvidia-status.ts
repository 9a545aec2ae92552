// Which cache entries are the NVIDIA driver's and which are strays of another version. The core
// (classifyNvidiaCache) finds the driver libraries and the version each name or path shows; the
// page then decides, from the cache alone:
//   1. the newest version seen is the installed driver (leftovers of an upgrade or of a second
//      flavour are older; a count of versioned names can favour them: Debian's 470 flavour has
//      more versioned sonames than 535);
//   2. an entry that shows no version takes its directory's: beside the driver's versioned files
//      it is the driver's, beside only another version's files it is a stray;
//   3. still unknown, and several entries share its name and ABI: the first is the one the
//      loader uses (the driver in effect), the later ones are shadowed strays.
import { classifyNvidiaCache, type NvidiaCacheClassification, type NvidiaEntryStatus } from '../core/nvidia.js';
import type { LdCache } from '../core/types.js';
import { entryAt } from './cache-stats.js';

export interface NvidiaRow {
  readonly index: number;
  readonly category: string;
  readonly bits: 32 | 64 | null;
  readonly version: string | null;
  readonly status: NvidiaEntryStatus;
  /** What the status rests on: the entry's own name/path, its directory, the loader's order, or nothing. */
  readonly evidence: 'entry' | 'directory' | 'loader' | 'shadowed' | 'none';
}

export interface NvidiaForView {
  readonly classification: NvidiaCacheClassification;
  readonly rows: readonly NvidiaRow[];
  readonly count: number;
  /** `data-nvidia` of a cache entry, or undefined when it is not a driver library. */
  statusOf(index: number): NvidiaEntryStatus | undefined;
}

function directoryOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

/** Classifies the candidate entries (see cache-stats: names that start with a driver library stem). */
export function classifyForView(cache: LdCache, candidates: readonly number[]): NvidiaForView {
  const core = classifyNvidiaCache({ entries: candidates.map((index) => entryAt(cache, index)) });
  const driverVersion = core.versions[0] ?? null;
  const classification: NvidiaCacheClassification = { ...core, driverVersion };
  const pathOf = (index: number) => entryAt(cache, index).path;
  const own = core.entries.map((item): NvidiaRow => {
    if (item.status === 'unversioned') return { ...item, evidence: 'none' };
    if (item.version === null) return { ...item, evidence: 'entry' };
    return { ...item, status: item.version === driverVersion ? 'driver' : 'stray', evidence: 'entry' };
  });
  // What each directory's self-describing entries say.
  const seenIn = new Map<string, Set<NvidiaEntryStatus>>();
  for (const row of own) {
    if (row.status === 'unversioned') continue;
    const dir = directoryOf(pathOf(row.index));
    let statuses = seenIn.get(dir);
    if (!statuses) seenIn.set(dir, (statuses = new Set()));
    statuses.add(row.status);
  }
  const byDirectory = own.map((row): NvidiaRow => {
    if (row.status !== 'unversioned') return row;
    const statuses = seenIn.get(directoryOf(pathOf(row.index)));
    if (statuses?.has('driver')) return { ...row, status: 'driver', version: driverVersion, evidence: 'directory' };
    if (statuses?.has('stray')) return { ...row, status: 'stray', evidence: 'directory' };
    return row;
  });
  // Entries with the same name and ABI, in file order (the order ld.so searches them in).
  const sameName = new Map<string, number[]>();
  for (const row of byDirectory) {
    const entry = entryAt(cache, row.index);
    const key = `${entry.name}\u0000${entry.flags}\u0000${entry.hwcap}`;
    const group = sameName.get(key);
    if (group) group.push(row.index);
    else sameName.set(key, [row.index]);
  }
  const firstOf = new Map<number, boolean>();
  for (const group of sameName.values()) {
    if (group.length < 2) continue;
    const first = Math.min(...group);
    for (const index of group) firstOf.set(index, index === first);
  }
  const rows = byDirectory.map((row): NvidiaRow => {
    const first = firstOf.get(row.index);
    if (row.status !== 'unversioned' || first === undefined) return row;
    return first ? { ...row, status: 'driver', evidence: 'loader' } : { ...row, status: 'stray', evidence: 'shadowed' };
  });
  const byIndex = new Map(rows.map((row) => [row.index, row.status]));
  return { classification, rows, count: rows.length, statusOf: (index) => byIndex.get(index) };
}
