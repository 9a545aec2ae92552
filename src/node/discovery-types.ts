// What driver discovery returns. Every `path` is the path *inside* the root (what it is on that
// host); the file on this machine is `hostPath(root, path)`.

import type { HostCpu } from '../core/driver-injection.js';
import type { LibraryCategory } from '../core/nvidia-libraries.js';

export type { LibraryCategory };

export interface DriverLibrary {
  /** The real file, every symlink resolved inside the root. */
  path: string;
  /** Basename of `path` (e.g. `libcuda.so.535.261.03`). */
  name: string;
  /** DT_SONAME of the file, or null when it has none. */
  soname: string | null;
  /** ABI of the file as the cache (or its ELF header) says: `x86-64`, `i386`, `aarch64`, `armhf`, … */
  arch: string;
  bits: 32 | 64;
  category: LibraryCategory;
  /** The cache key and value that led to this file; null when found beside a selected file or by directory scan. */
  cacheName: string | null;
  cachePath: string | null;
  /**
   * Where the root's dynamic linker finds it (a directory inside the root, resolved): the
   * directory of its cache entry, else the one most of its ABI's entries are in, else the ABI's
   * default directory. CDI mounts its soname there. Set by discoverDriver; absent in hand-made discoveries.
   */
  linkerDir?: string | null;
  /** The GLIBC_x.y versions it needs from glibc (its .gnu.version_r); null when unreadable. Set by discoverDriver. */
  glibcNeeds?: string[] | null;
}

export interface DriverBinary {
  /** Program name, e.g. `nvidia-smi`. */
  name: string;
  /** The real file, resolved inside the root. */
  path: string;
  /** Where it was found on the root's PATH (may be a symlink), e.g. `/usr/bin/nvidia-smi`. */
  linkPath: string;
}

export type DeviceKind = 'gpu' | 'control' | 'modeset' | 'uvm' | 'uvm-tools' | 'caps' | 'other';

export interface DeviceNode {
  path: string;
  kind: DeviceKind;
  major: number;
  minor: number;
  /** st_mode (type and permission bits). */
  mode: number;
}

export interface GpuInfo {
  /** PCI bus id, the directory name under /proc/driver/nvidia/gpus (e.g. `0000:3b:00.0`). */
  busId: string;
  model: string | null;
  uuid: string | null;
  /** Device minor: the GPU's node is `/dev/nvidia<minor>`. */
  minor: number | null;
  /** `/dev/nvidia<minor>` when that node exists. */
  devicePath: string | null;
}

export interface FirmwareFile {
  path: string;
}

export type IpcKind = 'persistenced' | 'fabricmanager' | 'mps';

export interface IpcPath {
  kind: IpcKind;
  /** The endpoint's real path in the root (links on the way resolved). */
  path: string;
  /**
   * Where containers must see it, when not at `path`: MPS clients look for the name
   * /tmp/nvidia-mps, wherever a linked /tmp leads on the host.
   */
  containerPath?: string;
}

export interface RejectedEntry {
  /** The cache value (or scanned path) that was looked at. */
  cachePath: string;
  /** Where it resolved inside the root (same as cachePath when it could not be resolved). */
  path: string;
  /** Why it was rejected, one line (e.g. `version 470.256.02 is not the driver version 535.261.03`). */
  reason: string;
}

export type VersionSource = 'proc' | 'libraries';

export interface DriverDiscovery {
  /** The root as given, absolute. */
  root: string;
  driverVersion: string | null;
  versionSource: VersionSource | null;
  /** Where library candidates came from: the root's ld.so.cache, or a scan of its library directories. */
  librarySource: 'cache' | 'directories';
  /** The ABIs whose libraries were selected, 64-bit first (e.g. `['x86-64', 'i386']`); [] when unknown. */
  abis: string[];
  gpus: GpuInfo[];
  libraries: DriverLibrary[];
  binaries: DriverBinary[];
  devices: DeviceNode[];
  firmware: FirmwareFile[];
  ipc: IpcPath[];
  rejected: RejectedEntry[];
  warnings: string[];
  /**
   * This machine's CPU as the image check models it (from /proc/cpuinfo; containers run here):
   * `nvidia-volume discover --json` adds it for the inspector. discoverDriver leaves it unset: it
   * reads nothing outside the root, and the CPU is the machine's, not the root's.
   */
  cpu?: HostCpu;
}
