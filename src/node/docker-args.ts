// What `nvidia-docker run|create` adds to docker's argv, and where: the driver's device nodes and
// the driver volume, inserted immediately before the image name (as nvidia-docker v1 did). The
// image is found by walking docker's argv: global options, the (`container`) sub-command, then
// run/create options, skipping the value of every option that takes one.
import type { DriverDiscovery } from './discovery-types.js';
import { selectGpus, selectableGpus, parseNvGpu, type GpuRequest } from './gpu-selection.js';
import { requireDriver } from './no-driver.js';
import { hostPath } from './rootfs.js';
import { dockerVolumeName } from './volume.js';

export { gpuRequestFromEnv, parseNvGpu, parseVisibleDevices, selectableGpus, selectGpus, type GpuRequest, type SelectableGpu } from './gpu-selection.js';

export const DEFAULT_PLUGIN_NAME = 'nvidia-docker';
export const VOLUME_TARGET = '/usr/local/nvidia';

export interface DockerInjection {
  /** `--device` values: `/dev/X`, or `ROOT/dev/X:/dev/X` for a driver root other than `/`. */
  devices: string[];
  volumeDriver: string;
  /** `--volume` values. */
  volumes: string[];
}

export interface InjectionOptions {
  /** The GPUs: a request (see gpuRequestFromEnv), or ids in `NV_GPU` syntax; default every GPU. */
  gpus?: GpuRequest | string;
  /** The volume driver's name (default `nvidia-docker`). */
  pluginName?: string;
}

/** Control nodes first (v1's order), then the selected GPUs. */
const CONTROL_ORDER = ['control', 'uvm', 'uvm-tools', 'modeset'] as const;

/**
 * The driver's devices and volume for docker. Request `void` gives nothing (not even the driver),
 * `none` the control nodes and the volume without any GPU. Throws NoDriverError without a driver.
 */
export function driverInjection(discovery: DriverDiscovery, options: InjectionOptions = {}): DockerInjection {
  const request = typeof options.gpus === 'object' ? options.gpus : parseNvGpu(options.gpus);
  const volumeDriver = options.pluginName ?? DEFAULT_PLUGIN_NAME;
  if (request.kind === 'void') return { devices: [], volumeDriver, volumes: [] };
  const version = requireDriver(discovery);
  const device = (path: string): string => (discovery.root === '/' ? path : `${hostPath(discovery.root, path)}:${path}`);
  const devices: string[] = [];
  for (const kind of CONTROL_ORDER) {
    for (const node of discovery.devices.filter((d) => d.kind === kind)) devices.push(device(node.path));
  }
  // Only nodes discovery proved NVIDIA's (discovery.devices) are passed, never a guessed path: a
  // GPU without one is left out of `all` (discovery lists why in `rejected`) and refused by name.
  const proven = new Set(discovery.devices.filter((d) => d.kind === 'gpu').map((d) => d.path));
  for (const gpu of selectGpus(selectableGpus(discovery), request)) {
    if (!proven.has(gpu.devicePath)) {
      if (request.kind === 'all') continue;
      const why = discovery.rejected.find((r) => r.path === gpu.devicePath)?.reason ?? 'no such character device';
      throw new Error(`GPU ${gpu.index}${gpu.busId ? ` (${gpu.busId})` : ''}: ${gpu.devicePath} is not a proven NVIDIA device node (${why}); refusing to pass it`);
    }
    devices.push(device(gpu.devicePath));
  }
  return {
    devices,
    volumeDriver,
    volumes: [`${dockerVolumeName(version)}:${VOLUME_TARGET}:ro`],
  };
}

/** The injection as docker arguments, `--opt=value` forms (none for an empty injection). */
export function injectionArgs(injection: DockerInjection): string[] {
  if (injection.devices.length === 0 && injection.volumes.length === 0) return [];
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

/**
 * Walks options from `start`; returns the index of the first positional argument (or
 * argv.length), and where options end: the first positional, or a `--` before it.
 */
function skipOptions(
  argv: string[],
  start: number,
  booleans: Set<string>,
  shortWithValue: Set<string>,
  onValue: (option: string, value: string | undefined) => void = () => undefined,
): { positional: number; optionsEnd: number } {
  let i = start;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') return { positional: i + 1, optionsEnd: i };
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      if (equals >= 0) onValue(arg.slice(0, equals), arg.slice(equals + 1));
      else if (!booleans.has(arg)) onValue(arg, argv[i + 1]);
      i += equals >= 0 || booleans.has(arg) ? 1 : 2;
      continue;
    }
    // A short cluster: `-it`, `-p80:80`, `-itv /a:/b`. The first option that takes a value ends it.
    let takesNext = false;
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k]!;
      if (letter === '=') break;
      if (shortWithValue.has(letter) && !booleans.has(`-${letter}`)) {
        takesNext = k === arg.length - 1;
        onValue(`-${letter}`, takesNext ? argv[i + 1] : arg.slice(k + 1));
        break;
      }
    }
    i += takesNext ? 2 : 1;
  }
  return { positional: i, optionsEnd: i };
}

export interface DockerCommand {
  /** `run` or `create`. */
  command: 'run' | 'create';
  /** Index of the sub-command (`run`, `create`, or the `container` before them): global options come before it. */
  commandIndex: number;
  /** Index of the image name in argv. */
  imageIndex: number;
  /** Where options may still be added: the image, or the `--` that ends the options before it. */
  insertIndex: number;
  /** The values of `-e`/`--env` options, in order (`NAME=value`, or `NAME` to pass the caller's). */
  env: string[];
  /** The values of `--env-file` options, in order. */
  envFiles: string[];
  /** `--pull` and `--platform`, as given (they decide how docker gets the image). */
  pull: string | undefined;
  platform: string | undefined;
}

/** Finds a `run`/`create` (also `container run|create`) and its image; null for anything else. */
export function findImage(argv: string[]): DockerCommand | null {
  const commandIndex = skipOptions(argv, 0, GLOBAL_BOOLEAN, GLOBAL_SHORT_WITH_VALUE).positional;
  const i = argv[commandIndex] === 'container' ? commandIndex + 1 : commandIndex;
  const command = argv[i];
  if (command !== 'run' && command !== 'create') return null;
  const env: string[] = [];
  const envFiles: string[] = [];
  let pull: string | undefined;
  let platform: string | undefined;
  const { positional: imageIndex, optionsEnd } = skipOptions(argv, i + 1, RUN_BOOLEAN, RUN_SHORT_WITH_VALUE, (option, value) => {
    if (value === undefined) return;
    if (option === '-e' || option === '--env') env.push(value);
    else if (option === '--env-file') envFiles.push(value);
    else if (option === '--pull') pull = value;
    else if (option === '--platform') platform = value;
  });
  if (imageIndex >= argv.length) return null; // `docker run --help` and the like
  return { command, commandIndex, imageIndex, insertIndex: optionsEnd, env, envFiles, pull, platform };
}

/**
 * argv with `inserted` placed immediately before the image, and before a `--` that ends the
 * options (after it docker would take them for the image); unchanged when there is no image.
 */
export function injectBeforeImage(argv: string[], inserted: string[]): string[] {
  const found = findImage(argv);
  if (found === null) return argv;
  return [...argv.slice(0, found.insertIndex), ...inserted, ...argv.slice(found.insertIndex)];
}
