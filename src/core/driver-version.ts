// The one rule for "which NVIDIA driver version is this", from driver libraries alone. The
// cache-only classification (classifyNvidiaCache: the library API and the browser inspector)
// applies it to a cache's entries; discovery of a root (src/node/discover.ts) applies it to the
// library files it examined, after the kernel module's own version (/proc), which wins there.
// Browser-safe.
import { compareVersions } from './nvidia-libraries.js';

/** A driver library as evidence of a version. */
export interface VersionWitness {
  /** The name the loader asks for (a cache entry's name, a soname): `libcuda.so.1`. */
  name: string;
  /** The driver version its file name (or path) shows, or null. */
  version: string | null;
  /** Whether it is of the machine's primary ABI (64-bit). */
  primary: boolean;
}

/** Libraries whose version is the driver's, in order of authority. */
const DECIDING = [/^libcuda\.so/, /^libnvidia-ml\.so/];

const newest = (versions: Iterable<string>): string => [...versions].reduce((a, b) => (compareVersions(b, a) > 0 ? b : a));

/**
 * The driver version the libraries show:
 *   1. the version of libcuda (64-bit files first, then any), else of libnvidia-ml;
 *   2. else the newest version any driver library shows.
 * Where the deciding library shows several versions, `preferred` (the kernel module's version)
 * wins when it is among them, else the newest. Never the first in cache order: an upgrade leaves
 * the older driver's files behind and a leftover ld.so.conf can list their directory first
 * (nvidia-docker #584), so order says nothing about which driver is installed.
 */
export function driverVersionOf<W extends VersionWitness>(witnesses: readonly W[], preferred: string | null = null): { version: string; witness: W } | null {
  for (const pattern of DECIDING) {
    for (const primaryOnly of [true, false]) {
      const found = new Map<string, W>();
      for (const w of witnesses) {
        if (w.version === null || !pattern.test(w.name) || (primaryOnly && !w.primary)) continue;
        if (!found.has(w.version)) found.set(w.version, w);
      }
      if (found.size === 0) continue;
      const version = preferred !== null && found.has(preferred) ? preferred : newest(found.keys());
      return { version, witness: found.get(version)! };
    }
  }
  const all = new Map<string, W>();
  for (const w of witnesses) if (w.version !== null && !all.has(w.version)) all.set(w.version, w);
  if (all.size === 0) return null;
  const version = preferred !== null && all.has(preferred) ? preferred : newest(all.keys());
  return { version, witness: all.get(version)! };
}
