// Which GPUs a container gets, as people type it: `NV_GPU` (nvidia-docker v1 and v2) and
// `NVIDIA_VISIBLE_DEVICES` (nvidia-container-runtime). Ids are indexes (PCI bus order, as NVML
// numbers GPUs), UUIDs or UUID prefixes (`GPU-4cf8`), or PCI bus ids (`0000:3b:00.0`); the words
// `all`, `none` (the driver without any GPU) and `void` (nothing injected at all) as the runtime
// reads them. An id that names no GPU fails with the GPUs that exist.
import type { DriverDiscovery } from './discovery-types.js';

/** A GPU that can be handed to a container. */
export interface SelectableGpu {
  index: number;
  uuid: string | null;
  /** PCI bus id (`0000:3b:00.0`) when /proc/driver/nvidia/gpus lists the GPU. */
  busId: string | null;
  /** Device path inside the root, `/dev/nvidia<minor>`. */
  devicePath: string;
}

/** What was asked for, and where (`NV_GPU`, `NVIDIA_VISIBLE_DEVICES`, …) for messages. */
export type GpuRequest = { source: string } & (
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'void' }
  | { kind: 'list'; ids: string[] }
);

/** GPUs in discovery order (PCI bus order), each with its node; index = position, as NVML numbers them. */
export function selectableGpus(discovery: DriverDiscovery): SelectableGpu[] {
  const withNodes = discovery.gpus.filter((gpu) => gpu.devicePath !== null || gpu.minor !== null);
  if (withNodes.length > 0) {
    return withNodes.map((gpu, index) => ({ index, uuid: gpu.uuid, busId: gpu.busId, devicePath: gpu.devicePath ?? `/dev/nvidia${gpu.minor}` }));
  }
  // No /proc/driver/nvidia/gpus: fall back to the GPU nodes themselves, by minor.
  return discovery.devices
    .filter((device) => device.kind === 'gpu')
    .sort((a, b) => a.minor - b.minor)
    .map((device, index) => ({ index, uuid: null, busId: null, devicePath: device.path }));
}

/** A request from a list of ids; the words win as the runtime lets them (`void` over `none` over `all`). */
function fromIds(ids: string[], source: string, empty: 'all' | 'void'): GpuRequest {
  const words = new Set(ids.map((id) => id.toLowerCase()));
  if (ids.length === 0) return { source, kind: empty };
  if (words.has('void')) return { source, kind: 'void' };
  if (words.has('none')) return { source, kind: 'none' };
  if (words.has('all')) return { source, kind: 'all' };
  return { source, kind: 'list', ids };
}

/** `NV_GPU` syntax: ids separated by commas or spaces; blank selects every GPU (v1). */
export function parseNvGpu(value: string | undefined, source = 'NV_GPU'): GpuRequest {
  return fromIds((value ?? '').split(/[\s,]+/).filter((id) => id !== ''), source, 'all');
}

/**
 * `NVIDIA_VISIBLE_DEVICES` as nvidia-container-runtime reads it: comma-separated ids, trimmed;
 * set but empty (or only commas) means `void`, as for the runtime.
 */
export function parseVisibleDevices(value: string, source = 'NVIDIA_VISIBLE_DEVICES'): GpuRequest {
  return fromIds(value.split(',').map((id) => id.trim()).filter((id) => id !== ''), source, 'void');
}

/**
 * The request of a host environment: `NV_GPU` when set and not blank, else
 * `NVIDIA_VISIBLE_DEVICES` when set (even empty), else every GPU.
 */
export function gpuRequestFromEnv(env: NodeJS.ProcessEnv): GpuRequest {
  if ((env.NV_GPU ?? '').trim() !== '') return parseNvGpu(env.NV_GPU);
  if (env.NVIDIA_VISIBLE_DEVICES !== undefined) return parseVisibleDevices(env.NVIDIA_VISIBLE_DEVICES);
  return { source: 'default', kind: 'all' };
}

/** `0 (GPU-…)`, `1 (GPU-…)`: what a user may type. */
function validIds(gpus: readonly SelectableGpu[]): string {
  if (gpus.length === 0) return 'this root has no GPU node; use none or void';
  return `valid: ${gpus.map((g) => (g.uuid ? `${g.index} (${g.uuid})` : String(g.index))).join(', ')}, or all, none, void`;
}

function matching(gpus: readonly SelectableGpu[], id: string): SelectableGpu[] {
  if (/^[0-9]+$/.test(id)) return gpus.filter((g) => g.index === Number(id));
  const lower = id.toLowerCase();
  if (lower.startsWith('gpu-')) return gpus.filter((g) => g.uuid !== null && g.uuid.toLowerCase().startsWith(lower));
  if (/^([0-9a-f]{4,8}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f]$/.test(lower)) {
    // A bus id with or without its domain (nvidia-smi prints 00000000:3B:00.0).
    const bus = lower.replace(/^[0-9a-f]+:(?=[0-9a-f]{2}:)/, '');
    return gpus.filter((g) => g.busId !== null && g.busId.toLowerCase().replace(/^[0-9a-f]+:(?=[0-9a-f]{2}:)/, '') === bus);
  }
  return [];
}

/** The GPUs a request selects, in the order asked; an id that names no GPU, or several, throws. */
export function selectGpus(gpus: SelectableGpu[], request: GpuRequest | string | undefined): SelectableGpu[] {
  const asked = typeof request === 'object' ? request : parseNvGpu(request);
  if (asked.kind === 'all') return gpus;
  if (asked.kind !== 'list') return [];
  const chosen: SelectableGpu[] = [];
  for (const id of asked.ids) {
    if (/^MIG-/i.test(id) || /^[0-9]+:[0-9]+$/.test(id)) throw new Error(`${asked.source}: '${id}' is a MIG device, which is not supported`);
    const matches = matching(gpus, id);
    // A prefix shared by several GPUs must not silently pick one of them.
    if (matches.length > 1) throw new Error(`${asked.source}: '${id}' matches ${matches.length} GPUs (${matches.map((g) => g.index).join(', ')}); give more of the UUID`);
    const gpu = matches[0];
    if (gpu === undefined) throw new Error(`${asked.source}: unknown GPU '${id}' (${validIds(gpus)})`);
    if (!chosen.includes(gpu)) chosen.push(gpu);
  }
  return chosen;
}
