// `nvidia-volume docker-args [--root DIR]`: the docker run arguments nvidia-docker would insert
// (devices, volume driver, volume), for scripts: `docker run $(nvidia-volume docker-args) IMAGE`.
import { parseCliArgs, writeOut } from '../run-cli.js';
import { discoverDriver } from '../../node/discover.js';
import { DEFAULT_PLUGIN_NAME, driverInjection, gpuRequestFromEnv, injectionArgs } from '../../node/docker-args.js';

const help = `Usage: nvidia-volume docker-args [--root DIR] [--name PLUGIN] [--json]

Prints the arguments that give a container the driver: --device for the control nodes and the
GPUs, then --volume-driver and --volume for the driver volume.

GPUs: NV_GPU (ids separated by commas or spaces), else NVIDIA_VISIBLE_DEVICES as
nvidia-container-runtime reads it (comma-separated; empty means void), else every GPU. An id is
an index, a UUID or its prefix (GPU-4cf8…), or a PCI bus id; or the words all, none (the driver
without GPUs) and void (nothing: prints an empty line, or empty lists with --json).

Options:
  --root DIR      driver root (default /); devices become ROOT/dev/X:/dev/X
  --name PLUGIN   volume plugin name (default ${DEFAULT_PLUGIN_NAME})
  --json          print {"VolumeDriver","Volumes","Devices"} as the REST API does
`;

/** Quotes an argument for a POSIX shell only when it needs it. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: { root: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    await writeOut(help);
    return 0;
  }
  const request = gpuRequestFromEnv(process.env);
  // void: nothing at all, so no driver is needed either.
  const discovery = request.kind === 'void' ? null : discoverDriver({ root: values.root ?? '/' });
  const injection = discovery === null ? { volumeDriver: '', volumes: [], devices: [] } : driverInjection(discovery, { gpus: request, pluginName: values.name });
  if (values.json) {
    await writeOut(`${JSON.stringify({ VolumeDriver: injection.volumeDriver, Volumes: injection.volumes, Devices: injection.devices })}\n`);
  } else {
    await writeOut(`${injectionArgs(injection).map(shellWord).join(' ')}\n`);
  }
  return 0;
}
