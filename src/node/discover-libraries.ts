// Library selection (spec sections 1, 6, 7): every candidate resolved inside the root and its
// ELF header read; kept when it is of the machine's ABI pair, passes the vendor and TLS checks,
// and its real file name carries the driver version (or it is one of the documented unversioned
// driver files, not sitting among another version's files). Duplicates collapse by real file;
// two different files with one name for one ABI are a conflict. Driver files beside the selected
// ones that the cache does not list (vdpau/, vulkan-producer, …) are added.
import { ElfError, type ElfInfo } from '../core/elf.js';
import { ABI_PAIRS, archFamily } from '../core/elf-arch.js';
import {
  carriesVersion, isNvidiaGlNeeded, libraryCategory, libraryStem, versionInName, UNVERSIONED_STEMS, VENDOR_CHECKED_STEMS,
} from '../core/nvidia-libraries.js';
import type { AbiPair, Candidate } from './discover-candidates.js';
import type { DriverLibrary, RejectedEntry } from './discovery-types.js';
import { readElfInRoot } from './elf-file.js';
import { posix } from 'node:path';
import { RootFsError, type RootFs } from './rootfs.js';

/** A candidate after resolution and ELF reading. */
export interface Examined {
  candidate: Candidate;
  path: string;
  name: string;
  info: ElfInfo;
}

export interface Selection {
  libraries: DriverLibrary[];
  rejected: RejectedEntry[];
}


/** Resolves and reads every candidate; failures go to `rejected`. */
export function examine(fs: RootFs, candidates: readonly Candidate[], rejected: RejectedEntry[]): Examined[] {
  const examined: Examined[] = [];
  const byPath = new Map<string, ElfInfo | Error>();
  for (const candidate of candidates) {
    let path = candidate.path;
    try {
      path = fs.resolve(candidate.path).path;
      let info = byPath.get(path);
      if (!info) {
        try {
          info = readElfInRoot(fs, path).info;
        } catch (err) {
          if (!(err instanceof ElfError || err instanceof RootFsError)) throw err;
          info = err;
        }
        byPath.set(path, info);
      }
      if (info instanceof Error) throw info;
      examined.push({ candidate, path, name: posix.basename(path), info });
    } catch (err) {
      if (err instanceof ElfError) rejected.push({ cachePath: candidate.path, path, reason: err.describe(path) });
      else if (err instanceof RootFsError) rejected.push({ cachePath: candidate.path, path, reason: err.message });
      else throw err;
    }
  }
  return examined;
}

/** The ABI pair from the 64-bit ELF files found, for roots where neither cache nor libc told. */
export function pairFromExamined(examined: readonly Examined[]): AbiPair | null {
  const first = examined.find((e) => e.info.bits === 64);
  if (!first) return null;
  return ABI_PAIRS[archFamily(first.info.arch)] ?? { bits64: first.info.arch, bits32: [] };
}

/** Why a file fails the per-file checks, or null when it passes them. */
function fileProblem(e: Examined, abis: AbiPair | null, version: string | null): string | null {
  const { info, candidate } = e;
  if (candidate.arch !== null && candidate.arch !== info.arch) {
    return `the cache says ${candidate.arch} but the file is ${info.arch}`;
  }
  if (abis && info.arch !== abis.bits64 && !abis.bits32.includes(info.arch)) {
    return `ABI ${info.arch} is not one of this machine's (${[abis.bits64, ...abis.bits32].join(', ')})`;
  }
  const stem = libraryStem(e.name) ?? libraryStem(candidate.name) ?? '';
  if (VENDOR_CHECKED_STEMS.has(stem)) {
    if (!isNvidiaGlNeeded(info.needed)) {
      return `another vendor's ${stem}: DT_NEEDED has neither libnvidia-glcore/eglcore nor libGLdispatch`;
    }
    if (!info.needed.some((n) => /^libnvidia-e?glcore\.so/.test(n))) {
      return `libglvnd's vendor-neutral ${stem} loader (needs libGLdispatch), not a driver file`;
    }
  }
  if (stem === 'libnvidia-tls') {
    const tag = info.abiTag;
    if (!tag) return 'libnvidia-tls without a .note.ABI-tag (NT_GNU_ABI_TAG)';
    if (tag.os !== 0 || tag.version.join('.') !== '2.3.99') {
      return `libnvidia-tls for kernel ABI ${tag.version.join('.')}${tag.os !== 0 ? ` (OS ${tag.os})` : ''}, not Linux 2.3.99`;
    }
  }
  if (version === null) return null;
  if (carriesVersion(e.name, version)) return null;
  const own = versionInName(e.name);
  if (own !== null) return `version ${own} is not the driver version ${version}`;
  if (!UNVERSIONED_STEMS.has(stem)) return `${e.name} does not carry the driver version ${version}`;
  return null;
}

/** Versions of the driver files in a directory (by their names). */
function versionsIn(fs: RootFs, dir: string, memo: Map<string, Set<string>>): Set<string> {
  let versions = memo.get(dir);
  if (!versions) {
    versions = new Set();
    for (const name of fs.readdir(dir).names) {
      const version = libraryCategory(name) ? versionInName(name) : null;
      if (version) versions.add(version);
    }
    memo.set(dir, versions);
  }
  return versions;
}

function toLibrary(e: Examined, abis: AbiPair | null): DriverLibrary {
  const bits: 32 | 64 = abis ? (e.info.arch === abis.bits64 ? 64 : 32) : e.info.bits;
  return {
    path: e.path,
    name: e.name,
    soname: e.info.soname,
    arch: e.info.arch,
    bits,
    category: e.candidate.category,
    cacheName: e.candidate.fromCache ? e.candidate.name : null,
    cachePath: e.candidate.fromCache ? e.candidate.path : null,
  };
}

/** Applies the selection rules to examined candidates (in cache order: the first of a name wins). */
export function select(fs: RootFs, examined: readonly Examined[], abis: AbiPair | null, version: string | null, out: Selection, warnings: string[]): void {
  const byPath = new Map(out.libraries.map((l) => [l.path, l]));
  const byName = new Map(out.libraries.map((l) => [`${l.arch}/${l.name}`, l]));
  const dirVersions = new Map<string, Set<string>>();
  const rejectedPaths = new Set<string>();
  for (const e of examined) {
    if (byPath.has(e.path)) continue; // another name for a file already selected
    let problem = fileProblem(e, abis, version);
    if (problem === null && version !== null && !carriesVersion(e.name, version)) {
      // An unversioned driver file belongs to the driver only where no other version lives alone.
      const others = versionsIn(fs, posix.dirname(e.path), dirVersions);
      if (others.size > 0 && !others.has(version)) problem = `unversioned file beside driver ${[...others].join(', ')} files, not ${version}`;
    }
    const clash = byName.get(`${e.info.arch}/${e.name}`);
    if (problem === null && clash) {
      problem = `conflicts with ${clash.path}: two different files named ${e.name} for ${e.info.arch}`;
      warnings.push(`${e.path} ${problem}`);
    }
    if (problem !== null) {
      const key = `${e.candidate.path}\0${e.path}`;
      if (!rejectedPaths.has(key)) out.rejected.push({ cachePath: e.candidate.path, path: e.path, reason: problem });
      rejectedPaths.add(key);
      continue;
    }
    const library = toLibrary(e, abis);
    out.libraries.push(library);
    byPath.set(library.path, library);
    byName.set(`${library.arch}/${library.name}`, library);
  }
}

/**
 * Driver files the cache does not list but that sit beside selected ones: in the selected
 * files' real directories, the directories the cache named, and their `vdpau/` subdirectories.
 */
export function besideCandidates(fs: RootFs, selected: readonly DriverLibrary[], rejected: readonly RejectedEntry[], version: string): Candidate[] {
  const dirs = new Set<string>();
  for (const library of selected) {
    for (const dir of [posix.dirname(library.path), library.cachePath ? posix.dirname(library.cachePath) : null]) {
      if (dir === null) continue;
      dirs.add(dir);
      dirs.add(`${dir === '/' ? '' : dir}/vdpau`);
    }
  }
  const known = new Set([...selected.map((l) => l.path), ...rejected.map((r) => r.path)]);
  const found: Candidate[] = [];
  for (const dir of dirs) {
    const listing = fs.readdir(dir);
    for (const name of listing.names) {
      const category = libraryCategory(name);
      if (!category || !carriesVersion(name, version)) continue;
      const path = `${listing.dir === '/' ? '' : listing.dir}/${name}`;
      if (known.has(path)) continue;
      known.add(path);
      found.push({ name, path, category, arch: null, fromCache: false });
    }
  }
  return found;
}
