// Which cache entries are NVIDIA driver libraries, from the cache alone (no file access), so the
// library API and the browser inspector give the same answer: category, ABI, the driver version
// visible in the name or path, the driver's version (the one rule of driver-version.ts), and
// whether each entry is the driver's or a stray of another version, with what that rests on.
// Browser-safe.
import { driverVersionOf } from './driver-version.js';
import type { LdCache, LdCacheEntry } from './types.js';
import { compareVersions, libraryCategory, libraryStem, versionInName, GLVND_STEMS, type LibraryCategory } from './nvidia-libraries.js';

export type NvidiaEntryStatus = 'driver' | 'stray' | 'unversioned';

/**
 * What an entry's status rests on: its own name or path (`entry`), the versioned driver files
 * of its directory (`directory`), being the first of several entries with its name and ABI, the
 * one the loader uses (`loader`), or a later one the loader never uses (`shadowed`); `none`:
 * nothing tells.
 */
export type NvidiaEvidence = 'entry' | 'directory' | 'loader' | 'shadowed' | 'none';

export interface NvidiaCacheEntry {
  /** Index of the entry in `cache.entries`. */
  index: number;
  category: LibraryCategory;
  bits: 32 | 64 | null;
  arch: string;
  /** The driver version the name or path shows (or its directory's), or null when nothing does. */
  version: string | null;
  /** `driver`: of the driver's version; `stray`: of another one; `unversioned`: cannot tell. */
  status: NvidiaEntryStatus;
  evidence: NvidiaEvidence;
}

export interface NvidiaCacheClassification {
  /** Every driver version seen, newest first. */
  versions: string[];
  /** The driver's version by the one rule (driverVersionOf): libcuda's, else libnvidia-ml's, else the newest seen; null when none shows. */
  driverVersion: string | null;
  entries: NvidiaCacheEntry[];
}

/** A full driver version in a directory of the path (`/opt/nvidia/535.261.03/lib/…`). */
function versionInDirectories(path: string): string | null {
  const parts = path.split('/');
  for (let i = parts.length - 2; i >= 0; i--) {
    const match = /(?:^|[-_])(\d{3,}\.\d+(?:\.\d+)*)$/.exec(parts[i]!);
    if (match) return match[1]!;
  }
  return null;
}

/** A driver branch in a directory name (`nvidia-470`, `tesla-470`, `nvidia-375`): a major only. */
function majorInDirectories(path: string): string | null {
  const match = /\/(?:nvidia|tesla|legacy)[-_](\d{3,})(?:\/|$)/.exec(path.slice(0, path.lastIndexOf('/') + 1));
  return match ? match[1]! : null;
}

function entryVersion(entry: LdCacheEntry): string | null {
  const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
  return versionInName(entry.name) ?? versionInName(base) ?? versionInDirectories(entry.path);
}

/**
 * Classifies the NVIDIA driver entries of a cache. The driver version follows driverVersionOf
 * (never the order of the entries). An entry is the driver's or a stray by the version its name
 * or path shows (a directory naming only a branch, `nvidia-470/`, counts by its major); an entry
 * that shows none takes its directory's when the directory holds versioned driver files, and
 * otherwise, where several entries share its name and ABI, the first (the one the loader uses) is
 * the driver's and the later ones are shadowed strays.
 */
export function classifyNvidiaCache(cache: Pick<LdCache, 'entries'>): NvidiaCacheClassification {
  const found: { entry: LdCacheEntry; category: LibraryCategory; version: string | null; major: string | null }[] = [];
  for (const entry of cache.entries) {
    const category = libraryCategory(entry.name);
    const stem = libraryStem(entry.name);
    if (category === null || stem === null || GLVND_STEMS.has(stem)) continue;
    // libGL/libEGL/libGLES* are only the driver's when they carry a driver version (pre-glvnd).
    const version = entryVersion(entry);
    if (category === 'graphics' && /^lib(GL|EGL|GLESv1_CM|GLESv2)$/.test(stem) && version === null) continue;
    const major = version === null ? majorInDirectories(entry.path) : null;
    found.push({ entry, category, version, major });
  }

  const versions = [...new Set(found.map((f) => f.version).filter((v): v is string => v !== null))].sort((a, b) => compareVersions(b, a));
  const driverVersion = driverVersionOf(found.map((f) => ({ name: f.entry.name, version: f.version, primary: f.entry.bits === 64 })))?.version ?? null;
  const dominantMajor = driverVersion?.split('.')[0] ?? null;

  // 1. What each entry's own name or path shows.
  const own = found.map(({ entry, category, version, major }): NvidiaCacheEntry => {
    const base = { index: entry.index, category, bits: entry.bits, arch: entry.arch };
    if (version !== null) return { ...base, version, status: version === driverVersion ? 'driver' : 'stray', evidence: 'entry' };
    if (major !== null && dominantMajor !== null) {
      // Only a branch is visible: it is the driver's when it matches, else a stray of that branch.
      const same = versions.filter((v) => v.split('.')[0] === major);
      const status = major === dominantMajor ? 'driver' : 'stray';
      return { ...base, version: status === 'driver' ? driverVersion : same.length === 1 ? same[0]! : null, status, evidence: 'entry' };
    }
    return { ...base, version: null, status: 'unversioned', evidence: 'none' };
  });
  // 2. An entry that shows nothing takes its directory's: beside the driver's versioned files it
  //    is the driver's, beside only another version's files a stray.
  const directoryOf = (i: number): string => found[i]!.entry.path.slice(0, found[i]!.entry.path.lastIndexOf('/') + 1);
  const seenIn = new Map<string, Set<NvidiaEntryStatus>>();
  own.forEach((row, i) => {
    if (row.status === 'unversioned') return;
    const dir = directoryOf(i);
    seenIn.set(dir, (seenIn.get(dir) ?? new Set()).add(row.status));
  });
  const byDirectory = own.map((row, i): NvidiaCacheEntry => {
    if (row.status !== 'unversioned') return row;
    const statuses = seenIn.get(directoryOf(i));
    if (statuses?.has('driver')) return { ...row, status: 'driver', version: driverVersion, evidence: 'directory' };
    if (statuses?.has('stray')) return { ...row, status: 'stray', evidence: 'directory' };
    return row;
  });
  // 3. Still unknown: of several entries with one name and ABI (file order is the loader's
  //    search order), the first is the one in effect, the later ones are never used.
  const firstOfName = new Map<string, number>();
  const groupSize = new Map<string, number>();
  const keyOf = (e: LdCacheEntry): string => `${e.name}\u0000${e.flags}\u0000${e.hwcap}`;
  for (const { entry } of found) {
    const key = keyOf(entry);
    if (!firstOfName.has(key)) firstOfName.set(key, entry.index);
    groupSize.set(key, (groupSize.get(key) ?? 0) + 1);
  }
  const entries = byDirectory.map((row, i): NvidiaCacheEntry => {
    const key = keyOf(found[i]!.entry);
    if (row.status !== 'unversioned' || groupSize.get(key)! < 2) return row;
    return firstOfName.get(key) === row.index ? { ...row, status: 'driver', evidence: 'loader' } : { ...row, status: 'stray', evidence: 'shadowed' };
  });
  return { versions, driverVersion, entries };
}
