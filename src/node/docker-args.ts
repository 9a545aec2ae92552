// What `nvidia-docker run|create` adds to docker's argv, and where: the driver's device nodes and
// the driver volume, inserted immediately before the image name (as nvidia-docker v1 did). The
// image is found by walking docker's argv: global options, the (`container`) sub-command, then
// run/create options, skipping the value of every option that takes one.
import type { DriverDiscovery } from './discovery-types.js';
import { hostPath } from './rootfs.js';
import { dockerVolumeName } from './volume.js';

export const DEFAULT_PLUGIN_NAME = 'nvidia-docker';
export const VOLUME_TARGET = '/usr/local/nvidia';

/** A GPU that can be handed to a container. */
export interface SelectableGpu {
  index: number;
  uuid: string | null;
  /** Device path inside the root, `/dev/nvidia<minor>`. */
  devicePath: string;
}

export interface DockerInjection {
  /** `--device` values: `/dev/X`, or `ROOT/dev/X:/dev/X` for a driver root other than `/`. */
  devices: string[];
  volumeDriver: string;
  /** `--volume` values. */
  volumes: string[];
}

/** GPUs in discovery order (PCI bus order), each with its node; index = position, as NVML numbers them. */
export function selectableGpus(discovery: DriverDiscovery): SelectableGpu[] {
  const withNodes = discovery.gpus.filter((gpu) => gpu.devicePath !== null || gpu.minor !== null);
  if (withNodes.length > 0) {
    return withNodes.map((gpu, index) => ({ index, uuid: gpu.uuid, devicePath: gpu.devicePath ?? `/dev/nvidia${gpu.minor}` }));
  }
  // No /proc/driver/nvidia/gpus: fall back to the GPU nodes themselves, by minor.
  return discovery.devices
    .filter((device) => device.kind === 'gpu')
    .sort((a, b) => a.minor - b.minor)
    .map((device, index) => ({ index, uuid: null, devicePath: device.path }));
}

/**
 * Applies `NV_GPU`: ids separated by commas or spaces, each an index or a UUID prefix
 * (`GPU-4cf8`); unset or empty selects every GPU. Unknown or ambiguous ids throw `invalid device: X`.
 */
export function selectGpus(gpus: SelectableGpu[], spec: string | undefined): SelectableGpu[] {
  const ids = (spec ?? '').split(/[\s,]+/).filter((id) => id !== '');
  if (ids.length === 0) return gpus;
  const chosen: SelectableGpu[] = [];
  for (const id of ids) {
    const matches = /^[0-9]+$/.test(id)
      ? gpus.filter((g) => g.index === Number(id))
      : id.startsWith('GPU-')
        ? gpus.filter((g) => g.uuid !== null && g.uuid.startsWith(id))
        : [];
    // A prefix shared by several GPUs must not silently pick one of them.
    if (matches.length > 1) throw new Error(`invalid device: ${id} (matches ${matches.length} GPUs)`);
    const gpu = matches[0];
    if (gpu === undefined) throw new Error(`invalid device: ${id}`);
    if (!chosen.includes(gpu)) chosen.push(gpu);
  }
  return chosen;
}

export interface InjectionOptions {
  /** `NV_GPU`. */
  gpus?: string;
  /** The volume driver's name (default `nvidia-docker`). */
  pluginName?: string;
}

/** Control nodes first (v1's order), then the selected GPUs. */
const CONTROL_ORDER = ['control', 'uvm', 'uvm-tools', 'modeset'] as const;

export function driverInjection(discovery: DriverDiscovery, options: InjectionOptions = {}): DockerInjection {
  const version = discovery.driverVersion;
  if (version === null) throw new Error(`${discovery.root}: no NVIDIA driver version found`);
  const device = (path: string): string => (discovery.root === '/' ? path : `${hostPath(discovery.root, path)}:${path}`);
  const devices: string[] = [];
  for (const kind of CONTROL_ORDER) {
    for (const node of discovery.devices.filter((d) => d.kind === kind)) devices.push(device(node.path));
  }
  for (const gpu of selectGpus(selectableGpus(discovery), options.gpus)) devices.push(device(gpu.devicePath));
  return {
    devices,
    volumeDriver: options.pluginName ?? DEFAULT_PLUGIN_NAME,
    volumes: [`${dockerVolumeName(version)}:${VOLUME_TARGET}:ro`],
  };
}

/** The injection as docker arguments, `--opt=value` forms. */
export function injectionArgs(injection: DockerInjection): string[] {
  return [
    ...injection.devices.map((d) => `--device=${d}`),
    `--volume-driver=${injection.volumeDriver}`,
    ...injection.volumes.map((v) => `--volume=${v}`),
  ];
}

// Options that take no value; every other option takes one (unless written `--opt=value`), so a
// new docker option is skipped correctly as long as it takes a value, as most do.
const GLOBAL_BOOLEAN = new Set(['-D', '--debug', '--tls', '--tlsverify', '-v', '--version', '-h', '--help']);
const RUN_BOOLEAN = new Set([
  '-d', '--detach', '-i', '--interactive', '-t', '--tty', '--rm', '--init', '--privileged', '-P', '--publish-all',
  '--read-only', '--sig-proxy', '--oom-kill-disable', '--no-healthcheck', '--disable-content-trust', '--help',
  '-q', '--quiet', '--use-api-socket', '--no-stdin',
]);
/** Short options of run/create that take a value (for clusters like `-itp 80:80`). */
const RUN_SHORT_WITH_VALUE = new Set(['a', 'c', 'e', 'h', 'l', 'm', 'p', 'u', 'v', 'w']);
const GLOBAL_SHORT_WITH_VALUE = new Set(['H', 'c', 'l']);

/** Walks options from `start`; returns the index of the first positional argument, or argv.length. */
function skipOptions(argv: string[], start: number, booleans: Set<string>, shortWithValue: Set<string>): number {
  let i = start;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') return i + 1;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (arg.startsWith('--')) {
      i += arg.includes('=') || booleans.has(arg) ? 1 : 2;
      continue;
    }
    // A short cluster: `-it`, `-p80:80`, `-itv /a:/b`. The first option that takes a value ends it.
    let takesNext = false;
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k]!;
      if (letter === '=') break;
      if (shortWithValue.has(letter) && !booleans.has(`-${letter}`)) {
        takesNext = k === arg.length - 1;
        break;
      }
    }
    i += takesNext ? 2 : 1;
  }
  return i;
}

export interface DockerCommand {
  /** `run` or `create`. */
  command: 'run' | 'create';
  /** Index of the image name in argv. */
  imageIndex: number;
}

/** Finds a `run`/`create` (also `container run|create`) and its image; null for anything else. */
export function findImage(argv: string[]): DockerCommand | null {
  let i = skipOptions(argv, 0, GLOBAL_BOOLEAN, GLOBAL_SHORT_WITH_VALUE);
  if (argv[i] === 'container') i += 1;
  const command = argv[i];
  if (command !== 'run' && command !== 'create') return null;
  const imageIndex = skipOptions(argv, i + 1, RUN_BOOLEAN, RUN_SHORT_WITH_VALUE);
  if (imageIndex >= argv.length) return null; // `docker run --help` and the like
  return { command, imageIndex };
}

/** argv with `inserted` placed immediately before the image; unchanged when there is no image. */
export function injectBeforeImage(argv: string[], inserted: string[]): string[] {
  const found = findImage(argv);
  if (found === null) return argv;
  return [...argv.slice(0, found.imageIndex), ...inserted, ...argv.slice(found.imageIndex)];
}
