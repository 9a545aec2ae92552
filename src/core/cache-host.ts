// A host's driver as its ld.so.cache alone shows it, for the image check when no discovery JSON
// is at hand (the inspector with a host's cache beside an image): the driver's entries of the
// driver's version (classifyNvidiaCache), the first of each name and ABI (the one the loader
// uses), each mounted where its entry is. What only file access knows is left unknown: the real
// files behind the links, the GLIBC_ versions each library needs (so no old-glibc finding), the
// libraries that have no cache entry. Browser-safe.
import { dirOf, type HostDriver, type HostLibrary } from './driver-injection.js';
import { classifyNvidiaCache } from './nvidia.js';
import type { LdCache } from './types.js';

export function hostDriverFromCache(cache: Pick<LdCache, 'entries'>): HostDriver & { libraries: HostLibrary[]; binaries: { name: string; path: string }[] } {
  const classified = classifyNvidiaCache(cache);
  const libraries: HostLibrary[] = [];
  const seen = new Set<string>();
  for (const row of classified.entries) {
    const entry = cache.entries[row.index]!;
    // glibc-hwcaps entries are variants of a library found under its plain name too.
    if (row.status !== 'driver' || row.bits === null || entry.hwcap !== 0n || !entry.path.startsWith('/')) continue;
    // A name without a version (`libcuda.so`) is a development link, never a library's soname.
    if (entry.name.endsWith('.so')) continue;
    const key = `${entry.arch}\0${entry.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    libraries.push({
      path: entry.path,
      name: entry.path.slice(entry.path.lastIndexOf('/') + 1),
      soname: entry.name,
      arch: entry.arch,
      bits: row.bits,
      cachePath: entry.path,
      linkerDir: dirOf(entry.path),
      glibcNeeds: null,
    });
  }
  return { root: '/', driverVersion: classified.driverVersion, libraries, binaries: [] };
}
