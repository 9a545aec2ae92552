// Which cache entries are NVIDIA driver libraries, from the cache alone (no file access), so the
// browser inspector can show them: category, ABI, the driver version visible in the name or
// path, and whether an entry looks like a stray of another driver version. Browser-safe.
import type { LdCache, LdCacheEntry } from './types.js';
import { compareVersions, libraryCategory, libraryStem, versionInName, GLVND_STEMS, type LibraryCategory } from './nvidia-libraries.js';

export type NvidiaEntryStatus = 'driver' | 'stray' | 'unversioned';

export interface NvidiaCacheEntry {
  /** Index of the entry in `cache.entries`. */
  index: number;
  category: LibraryCategory;
  bits: 32 | 64 | null;
  arch: string;
  /** The driver version the name or path shows, or null when neither does. */
  version: string | null;
  /** `driver`: of the dominant version; `stray`: of another one; `unversioned`: cannot tell. */
  status: NvidiaEntryStatus;
}

export interface NvidiaCacheClassification {
  /** Every driver version seen, newest first. */
  versions: string[];
  /** The driver's version: the newest one not only seen behind other entries of the same names; null when none shows. */
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

/** Whether every entry showing `version` comes after an earlier entry of its name and ABI. */
function isShadowedOnly(version: string, found: readonly { entry: LdCacheEntry; version: string | null }[], shadowed: ReadonlySet<string>): boolean {
  if (!shadowed.has(version)) return false;
  const first = new Set<string>();
  for (const { entry, version: v } of found) {
    const key = `${entry.arch}\0${entry.name}`;
    if (!first.has(key) && v === version) return false;
    first.add(key);
  }
  return true;
}

/**
 * Classifies the NVIDIA driver entries of a cache. The driver version is the newest one seen
 * that is not only behind another installation's entries of the same names (Debian's leftover
 * `nvidia/tesla-470` after `nvidia/current`); the others' entries are strays.
 */
export function classifyNvidiaCache(cache: Pick<LdCache, 'entries'>): NvidiaCacheClassification {
  const found: { entry: LdCacheEntry; category: LibraryCategory; version: string | null; major: string | null }[] = [];
  const seen = new Set<string>();
  // Versions (or `major.` prefixes) only seen behind an earlier entry of the same name and ABI:
  // the dynamic linker takes the first, so these are another installation's leftovers.
  const shadowed = new Set<string>();
  for (const entry of cache.entries) {
    const category = libraryCategory(entry.name);
    const stem = libraryStem(entry.name);
    if (category === null || stem === null || GLVND_STEMS.has(stem)) continue;
    // libGL/libEGL/libGLES* are only the driver's when they carry a driver version (pre-glvnd).
    const version = entryVersion(entry);
    if (category === 'graphics' && /^lib(GL|EGL|GLESv1_CM|GLESv2)$/.test(stem) && version === null) continue;
    const major = version === null ? majorInDirectories(entry.path) : null;
    found.push({ entry, category, version, major });
    const key = `${entry.arch}\0${entry.name}`;
    if (seen.has(key)) {
      if (version !== null) shadowed.add(version);
      else if (major !== null) shadowed.add(`${major}.`);
    }
    seen.add(key);
  }
  // A version also seen first somewhere is not shadowed.
  for (const { version } of found) if (version !== null && !isShadowedOnly(version, found, shadowed)) shadowed.delete(version);

  const versions = [...new Set(found.map((f) => f.version).filter((v): v is string => v !== null))].sort((a, b) => compareVersions(b, a));
  // The newest version that is not only a leftover behind another installation's entries.
  const driverVersion = versions.find((v) => !shadowed.has(v) && !shadowed.has(`${v.split('.')[0]}.`)) ?? versions[0] ?? null;
  const dominantMajor = driverVersion?.split('.')[0] ?? null;

  const entries = found.map(({ entry, category, version, major }): NvidiaCacheEntry => {
    let status: NvidiaEntryStatus = 'unversioned';
    let shown = version;
    if (version !== null) status = version === driverVersion ? 'driver' : 'stray';
    else if (major !== null && dominantMajor !== null) {
      // Only a branch is visible: it is the driver's when it matches, else a stray of that branch.
      const same = versions.filter((v) => v.split('.')[0] === major);
      shown = same.length === 1 ? same[0]! : null;
      status = major === dominantMajor ? 'driver' : 'stray';
      if (status === 'driver') shown = driverVersion;
    }
    return { index: entry.index, category, bits: entry.bits, arch: entry.arch, version: shown, status };
  });
  return { versions, driverVersion, entries };
}
