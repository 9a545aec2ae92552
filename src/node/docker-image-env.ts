// An image's own ENV, read from the engine the docker command talks to (same global options:
// -H, --context…). As nvidia-docker v1 did, an image that is not there yet is pulled first, so the
// answer does not depend on whether it was pulled before; `--pull never` is respected.
import { spawn } from 'node:child_process';
import type { DockerCommand } from './docker-args.js';

/** The engine answered `image inspect` in a way the wrapper cannot use: it stops rather than guess the GPUs. */
export class ImageEnvError extends Error {}

/** What an answer to `image inspect` may take: an Env is a few KiB. */
const MAX_INSPECT_OUTPUT = 4 << 20;

/** Seconds the engine has to answer `image inspect` (NV_DOCKER_INSPECT_TIMEOUT, default 30). */
function inspectTimeout(): number {
  const raw = process.env.NV_DOCKER_INSPECT_TIMEOUT;
  const seconds = raw === undefined || raw.trim() === '' ? 30 : Number(raw);
  if (!(Number.isFinite(seconds) && seconds > 0)) throw new ImageEnvError(`NV_DOCKER_INSPECT_TIMEOUT must be a number of seconds above 0 (got '${raw}')`);
  return seconds;
}

interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Why the child was stopped: it ran past the timeout, or wrote more than allowed. */
  stopped?: 'timeout' | 'output';
}

function runDocker(docker: string[], args: string[], output: 'capture' | 'to-stderr', timeoutSeconds?: number): Promise<DockerResult> {
  const [program, ...programArgs] = docker;
  return new Promise((resolve) => {
    // Pull progress goes to our stderr: the container's stdout stays the container's.
    const child = spawn(program!, [...programArgs, ...args], { stdio: output === 'capture' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2] });
    let stdout = '';
    let stderr = '';
    let stopped: DockerResult['stopped'];
    const stop = (why: NonNullable<DockerResult['stopped']>): void => {
      if (stopped) return;
      stopped = why;
      child.kill('SIGKILL');
      // A child of its own may still hold the pipes open: stop waiting for them.
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const timer = timeoutSeconds === undefined ? null : setTimeout(() => stop('timeout'), timeoutSeconds * 1000);
    child.stdout?.on('data', (c: Buffer) => {
      if (stdout.length + c.length > MAX_INSPECT_OUTPUT) stop('output');
      else stdout += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < MAX_INSPECT_OUTPUT) stderr += c.toString();
    });
    const done = (result: DockerResult): void => {
      if (timer) clearTimeout(timer);
      resolve(stopped ? { ...result, stopped } : result);
    };
    child.once('error', (err) => done({ code: 127, stdout, stderr: err.message }));
    child.once('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

async function inspectEnv(docker: string[], globals: string[], image: string): Promise<{ env: string[] } | { missing: boolean }> {
  const timeout = inspectTimeout();
  // `--`: an image name that starts with '-' is never taken for an option of inspect.
  const words = [...globals, 'image', 'inspect', '--format', '{{json .Config.Env}}', '--', image];
  const result = await runDocker(docker, words, 'capture', timeout);
  const asked = `'${[...docker, ...words].join(' ')}'`;
  const override = 'set NV_GPU or -e NVIDIA_VISIBLE_DEVICES to choose the GPUs without asking';
  if (result.stopped === 'timeout') throw new ImageEnvError(`${asked} gave no answer in ${timeout} s (NV_DOCKER_INSPECT_TIMEOUT); ${override}`);
  if (result.stopped === 'output') throw new ImageEnvError(`${asked} answered more than ${MAX_INSPECT_OUTPUT >> 20} MiB; ${override}`);
  if (result.code !== 0) return { missing: /no such (image|object)/i.test(result.stderr) };
  let env: unknown;
  try {
    env = JSON.parse(result.stdout);
  } catch {
    env = undefined;
  }
  // null: an image without Env. Anything else is not an answer to the question asked.
  if (env !== null && !(Array.isArray(env) && env.every((e) => typeof e === 'string'))) {
    const shown = result.stdout.trim().slice(0, 60).replace(/[\0-\x1f\x7f]/g, '?');
    throw new ImageEnvError(`${asked} answered what is not an environment list ('${shown}'${result.stdout.trim().length > 60 ? '…' : ''}); ${override}`);
  }
  return { env: (env as string[] | null) ?? [] };
}

/**
 * The image's Env, or null when the engine cannot say (no engine, a failed pull, `--pull never`
 * on a missing image): docker run then reports that itself. An engine that does not answer
 * `image inspect` in time, or answers what is not an Env list, is an ImageEnvError: guessing
 * would give every GPU to an image that may say NVIDIA_VISIBLE_DEVICES=none.
 */
export async function dockerImageEnv(docker: string[], argv: string[], found: DockerCommand): Promise<string[] | null> {
  const globals = argv.slice(0, found.commandIndex);
  const image = argv[found.imageIndex]!;
  const pull = (): Promise<{ code: number }> =>
    runDocker(docker, [...globals, 'pull', ...(found.platform !== undefined ? ['--platform', found.platform] : []), '--', image], 'to-stderr');
  if (found.pull === 'always' && (await pull()).code !== 0) return null;
  let inspected = await inspectEnv(docker, globals, image);
  if ('missing' in inspected && inspected.missing && found.pull !== 'never') {
    if ((await pull()).code !== 0) return null;
    inspected = await inspectEnv(docker, globals, image);
  }
  return 'env' in inspected ? inspected.env : null;
}
