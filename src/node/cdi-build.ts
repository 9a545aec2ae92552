// Builds a CDI spec from a driver discovery. Pure: no file system access, so it is testable on a
// constructed discovery; the caller passes what needs the file system (`resolveDir`).
//
// Soname links without hooks: a createContainer hook needs a program on the host at run time
// (nvidia-ctk ships nvidia-cdi-hook for that). Instead every link a container needs is a second
// read-only bind mount of the real file at the link's path: `libcuda.so.1` beside
// `libcuda.so.535.261.03`, and again in the directory the host's ld.so.cache named (e.g.
// /usr/lib/x86_64-linux-gnu), which is a default search directory of the dynamic linker on the
// distributions that use it, so programs find the libraries without a container ldconfig.
// Where each library is mounted is the core's (src/core/driver-injection.ts), which the image
// check shares.
import type { CdiContainerEdits, CdiDevice, CdiDeviceNode, CdiMount, CdiSpec } from '../core/cdi-types.js';
import { cdiDeviceNameError, cdiKindError, compareCdiVersions, formatCdiProblems, isKnownCdiVersion, validateCdiSpec } from '../core/cdi-validate.js';
import { cdiLibraryPaths, isCleanPath, linkerDirs } from '../core/driver-injection.js';
import type { DeviceKind, DriverDiscovery, GpuInfo } from './discovery-types.js';
import { requireDriver } from './no-driver.js';
import { hostPath } from './rootfs.js';

export const DEFAULT_CDI_KIND = 'nvidia.com/gpu';
/** Podman 4.3 (Debian 12) knows cdiVersion up to 0.5.0: never emit more unless asked. */
export const MAX_DEFAULT_CDI_VERSION = '0.5.0';

export const READ_ONLY_BIND = ['ro', 'nosuid', 'nodev', 'bind'];
/** Sockets: read-only is fine for connect(2); nothing there is executed. */
const SOCKET_BIND = ['ro', 'nosuid', 'nodev', 'noexec', 'bind'];
/** The MPS pipe directory: clients create and write pipes there. */
const PIPE_DIR_BIND = ['nosuid', 'nodev', 'noexec', 'bind'];

/** Nodes every container with any of the GPUs needs. MIG capability nodes (`caps`) are left out: they grant MIG administration. */
const CONTROL_KINDS: ReadonlySet<DeviceKind> = new Set<DeviceKind>(['control', 'modeset', 'uvm', 'uvm-tools']);

export class CdiSpecError extends Error {
  override readonly name = 'CdiSpecError';
}

export interface BuildCdiOptions {
  /** `vendor/class` (default nvidia.com/gpu). */
  kind?: string;
  /** Declare this cdiVersion instead of the lowest one that covers the content. */
  cdiVersion?: string;
  /**
   * Resolves a directory inside the root to its real path inside the root (e.g. `/lib/x86_64-linux-gnu`
   * to `/usr/lib/x86_64-linux-gnu` on merged /usr); identity when not given.
   */
  resolveDir?: (dir: string) => string;
  /** A default linker directory for an ABI none of whose libraries has a cache entry (no ld.so.cache). */
  defaultLinkerDir?: (arch: string, bits: 32 | 64) => string | null;
  /**
   * Where the engine that reads the spec sees the root (default: the discovery's root). Set it when
   * discovering through another view of the same files, e.g. the host's / mounted at /host in a
   * container: discover with root /host, write host paths with hostRoot /.
   */
  hostRoot?: string;
}

export interface BuiltCdiSpec {
  spec: CdiSpec;
  /** What was left out and why, one line each. */
  warnings: string[];
}


/** Collects mounts, one per container path: the first claim wins. */
class MountSet {
  readonly mounts: CdiMount[] = [];
  private readonly claimed = new Set<string>();
  constructor(private readonly root: string, private readonly warnings: string[]) {}

  add(containerPath: string, inRootPath: string, options: string[]): void {
    if (!isCleanPath(containerPath) || !isCleanPath(inRootPath)) {
      const warning = `skipped ${isCleanPath(inRootPath) ? containerPath : inRootPath}: not a clean absolute path`;
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
      return;
    }
    if (this.claimed.has(containerPath)) return;
    this.claimed.add(containerPath);
    this.mounts.push({ hostPath: hostPath(this.root, inRootPath), containerPath, options: [...options] });
  }
}

function deviceNode(root: string, path: string): CdiDeviceNode {
  const host = hostPath(root, path);
  return host === path ? { path } : { path, hostPath: host };
}

/** GPUs in NVML's default order (PCI bus id), which is what a GPU index means. */
function orderedGpus(gpus: GpuInfo[]): GpuInfo[] {
  return [...gpus].sort((a, b) => (a.busId.toLowerCase() < b.busId.toLowerCase() ? -1 : a.busId.toLowerCase() > b.busId.toLowerCase() ? 1 : 0));
}

function sharedEdits(discovery: DriverDiscovery, root: string, options: BuildCdiOptions, warnings: string[]): CdiContainerEdits {
  const mounts = new MountSet(root, warnings);
  const dirs = linkerDirs(discovery.libraries, options.resolveDir ?? ((dir: string) => dir), options.defaultLinkerDir);
  discovery.libraries.forEach((lib, i) => {
    for (const containerPath of cdiLibraryPaths(lib, dirs[i]!)) mounts.add(containerPath, lib.path, READ_ONLY_BIND);
  });
  for (const bin of discovery.binaries) mounts.add(bin.linkPath, bin.path, READ_ONLY_BIND);
  for (const fw of discovery.firmware) mounts.add(fw.path, fw.path, READ_ONLY_BIND);
  for (const ipc of discovery.ipc) mounts.add(ipc.containerPath ?? ipc.path, ipc.path, ipc.kind === 'mps' ? PIPE_DIR_BIND : SOCKET_BIND);

  const nodes = discovery.devices.filter((d) => CONTROL_KINDS.has(d.kind) && isCleanPath(d.path)).map((d) => deviceNode(root, d.path));
  const edits: CdiContainerEdits = {
    // Tells a legacy nvidia-container-runtime hook, if installed, not to inject a second time.
    env: ['NVIDIA_VISIBLE_DEVICES=void'],
  };
  if (nodes.length > 0) edits.deviceNodes = nodes;
  if (mounts.mounts.length > 0) edits.mounts = mounts.mounts;
  return edits;
}

function gpuDevices(discovery: DriverDiscovery, root: string, warnings: string[]): { devices: CdiDevice[]; allNodes: CdiDeviceNode[] } {
  const devices: CdiDevice[] = [];
  const allNodes: CdiDeviceNode[] = [];
  const claimed = new Set<string>();
  orderedGpus(discovery.gpus).forEach((gpu, index) => {
    if (!gpu.devicePath || !isCleanPath(gpu.devicePath)) {
      const node = gpu.minor === null ? 'no device minor' : `no node /dev/nvidia${gpu.minor}`;
      warnings.push(`GPU ${index} (${gpu.busId}) left out: ${node}`);
      return;
    }
    const node = deviceNode(root, gpu.devicePath);
    // Two GPUs claiming one minor (a damaged /proc): one node in 'all'.
    if (!claimed.has(gpu.devicePath)) allNodes.push(node);
    claimed.add(gpu.devicePath);
    devices.push({ name: String(index), containerEdits: { deviceNodes: [{ ...node }] } });
    if (gpu.uuid && cdiDeviceNameError(gpu.uuid) === null) {
      devices.push({ name: gpu.uuid, containerEdits: { deviceNodes: [{ ...node }] } });
    } else if (gpu.uuid) {
      warnings.push(`GPU ${index} (${gpu.busId}): UUID '${gpu.uuid}' is not a valid CDI device name`);
    }
  });
  // GPU nodes that no /proc entry describes: reachable through `all` only.
  for (const dev of discovery.devices) {
    if (dev.kind !== 'gpu' || claimed.has(dev.path) || !isCleanPath(dev.path)) continue;
    warnings.push(`${dev.path}: no GPU information for this node; only in device 'all'`);
    allNodes.push(deviceNode(root, dev.path));
  }
  return { devices, allNodes };
}

const hasEdits = (edits: CdiContainerEdits): boolean =>
  Boolean(edits.env?.length || edits.deviceNodes?.length || edits.mounts?.length || edits.hooks?.length);

/** A CDI spec: one device per GPU by index and by UUID, plus `all`; the driver's files and control nodes for any of them. */
export function buildCdiSpec(discovery: DriverDiscovery, options: BuildCdiOptions = {}): BuiltCdiSpec {
  const kind = options.kind ?? DEFAULT_CDI_KIND;
  const kindError = cdiKindError(kind);
  if (kindError) throw new CdiSpecError(kindError);
  const warnings: string[] = [];
  // A spec without the driver's libraries would only hide the real problem until a container runs.
  requireDriver(discovery);

  const hostRoot = options.hostRoot ?? discovery.root;
  if (!hostRoot.startsWith('/')) throw new CdiSpecError(`host root '${hostRoot}' must be an absolute path`);
  const shared = sharedEdits(discovery, hostRoot, options, warnings);
  const { devices, allNodes } = gpuDevices(discovery, hostRoot, warnings);
  let topEdits: CdiContainerEdits | undefined = shared;
  if (allNodes.length > 0) {
    devices.push({ name: 'all', containerEdits: { deviceNodes: allNodes.map((n) => ({ ...n })) } });
  } else {
    // A device needs edits of its own: with no GPU node, `all` carries the shared ones.
    warnings.push('no GPU device nodes found: device "all" has the driver files and control nodes only');
    devices.push({ name: 'all', containerEdits: shared });
    topEdits = undefined;
  }

  const spec: CdiSpec = { cdiVersion: '', kind, devices };
  if (topEdits && hasEdits(topEdits)) spec.containerEdits = topEdits;
  spec.cdiVersion = chooseVersion(spec, options.cdiVersion);
  return { spec, warnings };
}

function chooseVersion(spec: CdiSpec, asked: string | undefined): string {
  const { requiredVersion } = validateCdiSpec({ ...spec, cdiVersion: undefined });
  if (asked !== undefined) {
    if (!isKnownCdiVersion(asked)) throw new CdiSpecError(`unknown cdiVersion '${asked}'`);
    if (compareCdiVersions(asked, requiredVersion) < 0) {
      throw new CdiSpecError(`cdiVersion ${asked} is too old for this spec: it needs ${requiredVersion}`);
    }
    return asked;
  }
  if (compareCdiVersions(requiredVersion, MAX_DEFAULT_CDI_VERSION) > 0) {
    throw new CdiSpecError(
      `this spec needs cdiVersion ${requiredVersion}, newer than ${MAX_DEFAULT_CDI_VERSION} (Podman 4.3 rejects it); ask for it explicitly`,
    );
  }
  return requiredVersion;
}

/** Throws a CdiSpecError listing the problems when `spec` does not validate. */
export function assertValidCdiSpec(spec: unknown): void {
  const { problems } = validateCdiSpec(spec);
  if (problems.length > 0) {
    const lines = formatCdiProblems(problems);
    throw new CdiSpecError(`invalid CDI spec: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? ` (and ${lines.length - 3} more)` : ''}`);
  }
}
