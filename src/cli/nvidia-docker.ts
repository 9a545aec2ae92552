#!/usr/bin/env node
// `nvidia-docker [--root DIR] [--plugin-name NAME] DOCKER-ARGS...`: docker with the NVIDIA driver.
// For `run`/`create` (also `container run|create`) it inserts the driver's device nodes and the
// driver volume immediately before the image name; every other command goes to docker untouched.
// docker runs as a child with the same stdio and environment (DOCKER_HOST included), and the
// wrapper ends as docker ended: same exit code, or the same signal.
import { spawn } from 'node:child_process';
import { CliError, runCli, UsageError } from './run-cli.js';
import {
  DEFAULT_PLUGIN_NAME,
  driverInjection,
  findImage,
  gpuRequestFromEnv,
  injectBeforeImage,
  injectionArgs,
  parseVisibleDevices,
  type DockerCommand,
  type GpuRequest,
} from '../node/docker-args.js';
import { imageEnv as envValueOf } from '../core/image-linker.js';
import { commandLineValue } from '../node/container-env.js';
import { dockerImageEnv, ImageEnvError } from '../node/docker-image-env.js';
import { discoverDriver } from '../node/discover.js';

const help = `Usage: nvidia-docker [--root DIR] [--plugin-name NAME] DOCKER-COMMAND [ARGS...]

Runs docker. For 'run' and 'create' it adds, before the image name, --device for the NVIDIA
control nodes and GPUs and the driver volume (--volume-driver=NAME
--volume=nvidia_driver_<version>:/usr/local/nvidia:ro).

GPUs (the first that is set wins):
  NV_GPU=IDS                       ids separated by commas or spaces, or all, none, void
  run -e NVIDIA_VISIBLE_DEVICES=IDS  as nvidia-container-runtime reads it: comma-separated
                                   ids, or all, none (the driver, no GPU), void or empty
                                   (nothing injected: docker runs unchanged); also from
                                   run --env-file FILE (-e wins, as in docker)
  NVIDIA_VISIBLE_DEVICES=IDS       the same, from the environment
  the image's ENV NVIDIA_VISIBLE_DEVICES  the same (the image is pulled first when it is
                                   not there, unless --pull never)
  (none of them)                   every GPU
  An id is an index (0, 1, … in PCI bus order), a UUID or its prefix (GPU-4cf8…), or a
  PCI bus id (0000:3b:00.0).

Environment:
  NV_DOCKER   the docker command (default: docker)
  NV_DOCKER_INSPECT_TIMEOUT  seconds the engine has to answer 'image inspect' (default 30);
              no answer in time, or one that is not an Env list, is an error

Options (before the docker command):
  --root DIR           driver root (default /); devices are passed as ROOT/dev/X:/dev/X
  --plugin-name NAME   volume plugin name (default ${DEFAULT_PLUGIN_NAME})
`;

/** Takes the wrapper's own options off the front of argv. */
function wrapperOptions(argv: string[]): { root: string; pluginName: string; rest: string[] } {
  let root = '/';
  let pluginName = DEFAULT_PLUGIN_NAME;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag !== '--root' && flag !== '--plugin-name') break;
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`option '${flag}' needs a value`);
    if (flag === '--root') root = value;
    else pluginName = value;
  }
  return { root, pluginName, rest: argv.slice(i) };
}

/** Signals a terminal sends to the whole process group reach docker directly: only forward the others. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
const GROUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];

function runDocker(command: string[], args: string[]): Promise<number> {
  const [program, ...programArgs] = command;
  return new Promise((resolve, reject) => {
    const child = spawn(program!, [...programArgs, ...args], { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    const ignore = (): void => undefined;
    for (const signal of FORWARDED) process.on(signal, forward);
    for (const signal of GROUP_SIGNALS) process.on(signal, ignore);
    const detach = (): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
      for (const signal of GROUP_SIGNALS) process.off(signal, ignore);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      detach();
      reject(err.code === 'ENOENT' ? new CliError(`${program}: command not found (set NV_DOCKER to the docker command)`, 127) : err);
    });
    child.once('exit', (code, signal) => {
      detach();
      if (signal !== null) {
        // End the way docker ended, so that callers see the same signal.
        process.kill(process.pid, signal);
        return;
      }
      resolve(code ?? 1);
    });
  });
}

const VISIBLE_DEVICES = 'NVIDIA_VISIBLE_DEVICES';

/**
 * NV_GPU first, then the container's NVIDIA_VISIBLE_DEVICES as the command line sets it
 * (`--env-file`, `-e`), then the environment's, then the image's own ENV (asked of the engine
 * only when nothing else decided), else every GPU.
 */
async function gpuRequest(argv: string[], found: DockerCommand, docker: string[]): Promise<GpuRequest> {
  if ((process.env.NV_GPU ?? '').trim() !== '') return gpuRequestFromEnv(process.env);
  let fromCommandLine;
  try {
    fromCommandLine = commandLineValue(found, VISIBLE_DEVICES, process.env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (fromCommandLine?.kind === 'set') return parseVisibleDevices(fromCommandLine.value, `${VISIBLE_DEVICES} (${fromCommandLine.source})`);
  if (fromCommandLine?.kind === 'removed' || process.env[VISIBLE_DEVICES] !== undefined) return gpuRequestFromEnv(process.env);
  let imageEnv;
  try {
    imageEnv = await dockerImageEnv(docker, argv, found);
  } catch (err) {
    if (err instanceof ImageEnvError) throw new CliError(err.message);
    throw err;
  }
  const fromImage = envValueOf(imageEnv ?? [], VISIBLE_DEVICES);
  if (fromImage !== null) return parseVisibleDevices(fromImage, `${VISIBLE_DEVICES} (image ${argv[found.imageIndex]})`);
  return gpuRequestFromEnv(process.env);
}

runCli('nvidia-docker', async () => {
  const argv = process.argv.slice(2);
  if (argv[0] === '--help' && argv.length === 1) {
    process.stdout.write(help);
    return 0;
  }
  const { root, pluginName, rest } = wrapperOptions(argv);
  const docker = (process.env.NV_DOCKER ?? '').trim().split(/\s+/).filter(Boolean);
  const command = docker.length > 0 ? docker : ['docker'];
  const found = findImage(rest);
  if (found === null) return runDocker(command, rest);
  const request = await gpuRequest(rest, found, command);
  if (request.kind === 'void') return runDocker(command, rest);
  const discovery = discoverDriver({ root });
  const injected = injectionArgs(driverInjection(discovery, { gpus: request, pluginName }));
  return runDocker(command, injectBeforeImage(rest, injected));
});
