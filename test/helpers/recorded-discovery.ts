// What discovery must report for a built driver root, computed from the builder's own record
// (not from the discovery code under test): the input of volume and plugin tests that should
// not depend on discovery.
import type { DriverDiscovery } from '../../src/node/discovery-types.js';
import type { DriverRoot } from './driver-root.js';

export interface RecordedDiscoveryOptions {
  /** Driver version to report (default: the root's). */
  version?: string;
  abis?: DriverDiscovery['abis'];
  /** Also the GPUs and the control, uvm and GPU device nodes (with their node paths). */
  devices?: boolean;
}

export function recordedDiscovery(built: DriverRoot, options: RecordedDiscoveryOptions = {}): DriverDiscovery {
  const withDevices = options.devices ?? false;
  return {
    root: built.root,
    driverVersion: options.version ?? built.version,
    versionSource: 'proc',
    librarySource: 'cache',
    abis: options.abis ?? ['x86-64', 'i386'],
    gpus: withDevices ? built.gpus.map((g) => ({ busId: g.busId, model: g.model, uuid: g.uuid, minor: g.minor, devicePath: `/dev/nvidia${g.minor}` })) : [],
    libraries: built.libraries.map((lib) => ({
      path: lib.path, name: lib.name, soname: lib.soname, arch: lib.abi, bits: lib.bits,
      category: 'compute', cacheName: null, cachePath: null,
    })),
    binaries: built.binaries.map((b) => ({ name: b.name, path: b.path, linkPath: b.path })),
    devices: withDevices
      ? [
          { path: '/dev/nvidiactl', kind: 'control', major: 195, minor: 255, mode: 0o20666 },
          { path: '/dev/nvidia-uvm', kind: 'uvm', major: 235, minor: 0, mode: 0o20666 },
          ...built.gpus.map((g) => ({ path: `/dev/nvidia${g.minor}`, kind: 'gpu' as const, major: 195, minor: g.minor, mode: 0o20666 })),
        ]
      : [],
    firmware: [], ipc: [], rejected: [], warnings: [],
  };
}
