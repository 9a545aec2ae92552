// Shared expectations for CDI specs generated from a driver root built by driver-root.ts:
// computed from what the helper built and from the files on disk, never from the generator.
import { lstatSync, realpathSync } from 'node:fs';
import type { CdiMount, CdiSpec } from '../../src/core/cdi-types.js';
import type { DriverDiscovery, DriverLibrary } from '../../src/node/discovery-types.js';
import type { DriverRoot } from './driver-root.js';

export const TRIPLET = { 'x86-64': 'x86_64-linux-gnu', i386: 'i386-linux-gnu' } as const;

/**
 * A discovery written from what the helper built (for the pure builder; the generator tests use
 * the real discovery). The cache entry is the link the real ldconfig listed in the multiarch dir.
 */
export function discoveryFromBuiltRoot(built: DriverRoot): DriverDiscovery {
  const libraries: DriverLibrary[] = built.libraries.map((lib) => {
    const linkInMultiarch = `/usr/lib/${TRIPLET[lib.abi]}/${lib.soname}`;
    let inCache = false;
    try {
      lstatSync(built.root + linkInMultiarch);
      inCache = !lib.path.includes('/vdpau') && !lib.name.startsWith('libvdpau');
    } catch {
      inCache = false;
    }
    return {
      path: lib.path,
      name: lib.name,
      soname: lib.soname,
      arch: lib.abi,
      bits: lib.bits,
      category: 'compute',
      cacheName: inCache ? lib.soname : null,
      cachePath: inCache ? `/lib/${TRIPLET[lib.abi]}/${lib.soname}` : null,
    };
  });
  return {
    root: built.root,
    driverVersion: built.version,
    versionSource: 'proc',
    librarySource: 'cache',
    abis: [...new Set(built.libraries.map((l) => l.abi))].sort((a, b) => (a === 'x86-64' ? -1 : b === 'x86-64' ? 1 : 0)),
    gpus: built.gpus.map((g) => ({ busId: g.busId, model: g.model, uuid: g.uuid, minor: g.minor, devicePath: built.devicesCreated ? `/dev/nvidia${g.minor}` : null })),
    libraries,
    binaries: built.binaries.map((b) => ({ name: b.name, path: b.path, linkPath: b.path.startsWith('/usr/lib/nvidia/') ? `/usr/bin/${b.name}` : b.path })),
    devices: built.devices.map((d) => ({
      path: d.path,
      major: d.major,
      minor: d.minor,
      mode: 0o20666,
      kind: /\/nvidia\d+$/.test(d.path) ? 'gpu' : d.path === '/dev/nvidiactl' ? 'control' : d.path === '/dev/nvidia-modeset' ? 'modeset'
        : d.path === '/dev/nvidia-uvm' ? 'uvm' : d.path === '/dev/nvidia-uvm-tools' ? 'uvm-tools' : 'caps',
    })),
    firmware: built.firmware.map((path) => ({ path })),
    ipc: built.ipc.map((i) => ({ ...i })),
    rejected: [],
    warnings: [],
  };
}

export function allMounts(spec: CdiSpec): CdiMount[] {
  return [...(spec.containerEdits?.mounts ?? []), ...spec.devices.flatMap((d) => d.containerEdits.mounts ?? [])];
}

/** What each GPU index should be: the helper's GPUs in PCI bus id order. */
export function gpusByIndex(built: DriverRoot): DriverRoot['gpus'] {
  return [...built.gpus].sort((a, b) => a.busId.localeCompare(b.busId));
}

/**
 * Checks that mounts bring the driver's files: every library at its own path and its soname
 * beside it, binaries at their PATH location, firmware; each hostPath a real file in the root.
 */
export function expectedMounts(built: DriverRoot): Map<string, string> {
  const want = new Map<string, string>();
  for (const lib of built.libraries) {
    want.set(lib.path, lib.path);
    const dir = lib.path.slice(0, lib.path.lastIndexOf('/'));
    if (lib.soname !== lib.name) want.set(`${dir}/${lib.soname}`, lib.path);
  }
  for (const bin of built.binaries) {
    const link = bin.path.startsWith('/usr/lib/nvidia/') ? `/usr/bin/${bin.name}` : bin.path;
    want.set(link, bin.path);
  }
  for (const fw of built.firmware) want.set(fw, fw);
  return want;
}

/** The real file behind a host path, as a path inside the root (or null when outside it). */
export function realInRoot(root: string, hostPath: string): string | null {
  const real = realpathSync(hostPath);
  const rootReal = realpathSync(root);
  return real.startsWith(`${rootReal}/`) ? real.slice(rootReal.length) : null;
}
