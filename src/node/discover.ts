// Driver discovery: exactly the files a container needs from the NVIDIA driver of a root (`/`,
// a mounted host filesystem, /run/nvidia/driver, an unpacked image). Every path is resolved
// inside the root as chroot would; every path returned is the path inside the root.
import { resolve } from 'node:path';
import { driverVersionOf } from '../core/driver-version.js';
import { versionInName } from '../core/nvidia-libraries.js';
import { collectCandidates } from './discover-candidates.js';
import { besideCandidates, examine, pairFromExamined, select, type Examined, type Selection } from './discover-libraries.js';
import type { DriverDiscovery, VersionSource } from './discovery-types.js';
import { findBinaries } from './binaries.js';
import { readDevices } from './devices.js';
import { readKernelModuleVersion } from './driver-version.js';
import { readFirmware } from './firmware.js';
import { readGpus } from './gpus.js';
import { findIpc } from './ipc.js';
import { addLinkFacts } from './library-link-facts.js';
import { RootFs, hostPath } from './rootfs.js';

export { hostPath };

export interface DiscoverOptions {
  /** The driver root (default `/`). */
  root?: string;
}

/**
 * The driver version the root's library files show, by the one rule of src/core/driver-version.ts
 * (libcuda's, else libnvidia-ml's, else the newest; never the first in cache order), read from
 * the real file names; among several, the kernel module's version when it is one of them.
 */
function libraryVersion(examined: readonly Examined[], bits64: string | null, kernel: string | null): { version: string; file: string } | null {
  const witnesses = examined.map((e) => ({ name: e.candidate.name, version: versionInName(e.name), primary: bits64 === null || e.info.arch === bits64, path: e.path }));
  const found = driverVersionOf(witnesses, kernel);
  return found ? { version: found.version, file: found.witness.path } : null;
}

/** The 64-bit libcuda.so.1 that the root's own dynamic linker uses: the first in cache order. */
function hostLinkerLibcuda(examined: readonly Examined[], bits64: string | null): { cachePath: string; version: string } | null {
  const first = examined.find((e) => e.candidate.fromCache && e.candidate.name === 'libcuda.so.1' && (bits64 === null || e.info.arch === bits64));
  const version = first ? versionInName(first.name) : null;
  return first && version ? { cachePath: first.candidate.path, version } : null;
}

/**
 * Discovers the driver under `options.root` (default `/`). Synchronous, as all its work is: file
 * system calls confined to the root and ELF headers read by the wasm core, a few milliseconds on a
 * real root (bench/discover.bench.mjs); a caller on a busy event loop calls it where a short block
 * is acceptable (the plugin: once at start and on Create/Mount of a missing volume).
 */
export function discoverDriver(options: DiscoverOptions = {}): DriverDiscovery {
  const fs = new RootFs(options.root ?? '/');
  const warnings: string[] = [];
  const rejected: Selection['rejected'] = [];

  const kernelVersion = readKernelModuleVersion(fs);
  const { candidates, abis: cacheAbis, source } = collectCandidates(fs, warnings);
  const examined = examine(fs, candidates, rejected);
  const abis = cacheAbis ?? pairFromExamined(examined);
  const fromLibraries = libraryVersion(examined, abis?.bits64 ?? null, kernelVersion);

  let driverVersion: string | null = kernelVersion;
  let versionSource: VersionSource | null = kernelVersion ? 'proc' : null;
  if (!driverVersion && fromLibraries) {
    driverVersion = fromLibraries.version;
    versionSource = 'libraries';
  }
  if (kernelVersion && fromLibraries && fromLibraries.version !== kernelVersion) {
    warnings.push(
      `Driver/library version mismatch: the kernel module is ${kernelVersion} but the libraries are ${fromLibraries.version} (${fromLibraries.file})`,
    );
  }

  const hostLoads = hostLinkerLibcuda(examined, abis?.bits64 ?? null);
  if (driverVersion && hostLoads && hostLoads.version !== driverVersion) {
    // Containers get the right files; programs on the host itself do not (nvidia-docker #584).
    warnings.push(
      `the host's dynamic linker finds libcuda.so.1 at ${hostLoads.cachePath} (${hostLoads.version}), not driver ${driverVersion}: programs on the host itself fail with "Driver/library version mismatch"`,
    );
  }

  const selection: Selection = { libraries: [], rejected };
  // Without a version nothing can be told apart: a root with driver files but no version is rare (no libcuda, no ml, no proc).
  if (driverVersion) {
    select(fs, examined, abis, driverVersion, selection, warnings);
    const beside = besideCandidates(fs, selection.libraries, selection.rejected, driverVersion);
    select(fs, examine(fs, beside, rejected), abis, driverVersion, selection, warnings);
  } else if (examined.length > 0) {
    warnings.push('no driver version: neither /proc/driver/nvidia/version nor a versioned libcuda/libnvidia-ml file name');
  }
  selection.libraries.sort((a, b) => b.bits - a.bits || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  addLinkFacts(options.root ?? '/', selection.libraries);

  const devices = readDevices(fs, warnings, selection.rejected);
  const gpus = readGpus(fs, warnings);
  // A GPU's node is its proven device node or none (readGpus only saw that it is a character device).
  for (const gpu of gpus) if (gpu.devicePath !== null && !devices.some((d) => d.kind === 'gpu' && d.path === gpu.devicePath)) gpu.devicePath = null;
  const binaries = findBinaries(fs, warnings);
  const firmware = driverVersion ? readFirmware(fs, driverVersion) : [];
  const ipc = findIpc(fs, warnings);
  for (const problem of fs.problems) if (!warnings.includes(problem)) warnings.push(problem);
  return {
    root: resolve(options.root ?? '/'),
    driverVersion,
    versionSource,
    librarySource: source,
    abis: abis ? [abis.bits64, ...abis.bits32] : [],
    gpus,
    libraries: selection.libraries,
    binaries,
    devices,
    firmware,
    ipc,
    rejected: selection.rejected,
    warnings,
  };
}
