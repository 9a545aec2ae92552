// Where driver library candidates come from: the root's ld.so.cache (entries of the driver's
// categories, of the machine's ABI pair), or, with no cache, a scan of the root's library
// directories reading each ELF header for its ABI. Also decides the architecture family.
import { ABI_PAIRS, archFamily } from '../core/elf-arch.js';
import { ElfError } from '../core/elf.js';
import { LdCacheError } from '../core/errors.js';
import { libraryCategory } from '../core/nvidia-libraries.js';
import type { LibraryCategory } from './discovery-types.js';
import { readElfInRoot } from './elf-file.js';
import { libraryDirs } from './library-dirs.js';
import { DEFAULT_CACHE_PATH, readLdCacheInRoot } from './read-cache.js';
import { RootFsError, type RootFs } from './rootfs.js';

/** The cache's path inside a root (one definition: read-cache.ts). */
const CACHE_PATH = DEFAULT_CACHE_PATH;

export interface Candidate {
  /** The cache key, or the scanned file name. */
  name: string;
  /** The cache value, or the scanned path. */
  path: string;
  category: LibraryCategory;
  /** ABI as the cache says, or null for a scanned file (its ELF header tells). */
  arch: string | null;
  fromCache: boolean;
}

export interface AbiPair {
  bits64: string;
  bits32: readonly string[];
}

export interface CandidateSet {
  candidates: Candidate[];
  /** The ABIs a container of this machine uses, or null when nothing tells. */
  abis: AbiPair | null;
  source: 'cache' | 'directories';
}

interface CacheEntryLite {
  name: string;
  path: string;
  arch: string;
  bits: 32 | 64 | null;
}

/** The cache's entries as plain objects (the parsed cache's bytes may be evicted by ELF reads). */
function readCacheEntries(fs: RootFs, warnings: string[]): CacheEntryLite[] | null {
  try {
    // A regular file only (a FIFO or device there is refused unopened), its magic checked before
    // the rest is read, at most MAX_CACHE_BYTES.
    const cache = readLdCacheInRoot(fs, CACHE_PATH);
    return cache.entries.map((e) => ({ name: e.name, path: e.path, arch: e.arch, bits: e.bits }));
  } catch (err) {
    if (err instanceof RootFsError) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
      warnings.push(`${CACHE_PATH}: ${err.message.replace(`${CACHE_PATH}: `, '')}; scanning library directories instead`);
      return null;
    }
    if (!(err instanceof LdCacheError)) throw err;
    warnings.push(`${err.describe(CACHE_PATH)}; scanning library directories instead`);
    return null;
  }
}

/** The machine's ABI pair from the cache's 64-bit entries (the most common 64-bit ABI). */
function pairFromArchs(archs: Iterable<string>): AbiPair | null {
  const counts = new Map<string, number>();
  for (const arch of archs) counts.set(arch, (counts.get(arch) ?? 0) + 1);
  let best: string | null = null;
  for (const [arch, count] of counts) if (best === null || count > counts.get(best)!) best = arch;
  if (best === null) return null;
  const pair = ABI_PAIRS[archFamily(best)];
  return pair && pair.bits64 === best ? pair : { bits64: best, bits32: [] };
}

/** The ABI pair of a root without a cache: from its libc (or dynamic loader). */
function pairFromLibc(fs: RootFs, dirs: readonly string[]): AbiPair | null {
  for (const dir of dirs) {
    for (const name of ['libc.so.6', 'libc.so', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1']) {
      try {
        const { info } = readElfInRoot(fs, `${dir}/${name}`);
        if (info.bits === 64) return ABI_PAIRS[archFamily(info.arch)] ?? { bits64: info.arch, bits32: [] };
      } catch (err) {
        if (!(err instanceof RootFsError || err instanceof ElfError)) throw err;
      }
    }
  }
  return null;
}

export function collectCandidates(fs: RootFs, warnings: string[]): CandidateSet {
  const before = warnings.length;
  const entries = readCacheEntries(fs, warnings);
  if (entries) {
    const abis = pairFromArchs(entries.filter((e) => e.bits === 64).map((e) => e.arch));
    const candidates: Candidate[] = [];
    for (const entry of entries) {
      const category = libraryCategory(entry.name);
      if (category) candidates.push({ name: entry.name, path: entry.path, category, arch: entry.arch, fromCache: true });
    }
    return { candidates, abis, source: 'cache' };
  }

  // One warning says why the cache is not used: an unusable cache has said so already.
  if (warnings.length === before) warnings.push(`no ${CACHE_PATH} in the root: scanning its library directories (ld.so.conf and the standard ones)`);
  const dirs = libraryDirs(fs);
  const candidates: Candidate[] = [];
  for (const dir of dirs) {
    for (const name of fs.readdir(dir).names) {
      const category = libraryCategory(name);
      if (category) candidates.push({ name, path: `${dir === '/' ? '' : dir}/${name}`, category, arch: null, fromCache: false });
    }
  }
  return { candidates, abis: pairFromLibc(fs, dirs), source: 'directories' };
}
