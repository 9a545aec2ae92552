// An image's own ENV, read from the engine the docker command talks to (same global options:
// -H, --context…). As nvidia-docker v1 did, an image that is not there yet is pulled first, so the
// answer does not depend on whether it was pulled before; `--pull never` is respected.
import { spawn } from 'node:child_process';
import type { DockerCommand } from './docker-args.js';

function runDocker(docker: string[], args: string[], output: 'capture' | 'to-stderr'): Promise<{ code: number; stdout: string; stderr: string }> {
  const [program, ...programArgs] = docker;
  return new Promise((resolve) => {
    // Pull progress goes to our stderr: the container's stdout stays the container's.
    const child = spawn(program!, [...programArgs, ...args], { stdio: output === 'capture' ? ['ignore', 'pipe', 'pipe'] : ['ignore', 2, 2] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function inspectEnv(docker: string[], globals: string[], image: string): Promise<{ env: string[] } | { missing: boolean }> {
  const result = await runDocker(docker, [...globals, 'image', 'inspect', '--format', '{{json .Config.Env}}', image], 'capture');
  if (result.code !== 0) return { missing: /no such (image|object)/i.test(result.stderr) };
  try {
    const env: unknown = JSON.parse(result.stdout);
    return { env: Array.isArray(env) ? env.filter((e): e is string => typeof e === 'string') : [] };
  } catch {
    return { missing: false };
  }
}

/**
 * The image's Env, or null when the engine cannot say (no engine, a failed pull, `--pull never`
 * on a missing image): docker run then reports that itself.
 */
export async function dockerImageEnv(docker: string[], argv: string[], found: DockerCommand): Promise<string[] | null> {
  const globals = argv.slice(0, found.commandIndex);
  const image = argv[found.imageIndex]!;
  const pull = (): Promise<{ code: number }> =>
    runDocker(docker, [...globals, 'pull', ...(found.platform !== undefined ? ['--platform', found.platform] : []), image], 'to-stderr');
  if (found.pull === 'always' && (await pull()).code !== 0) return null;
  let inspected = await inspectEnv(docker, globals, image);
  if ('missing' in inspected && inspected.missing && found.pull !== 'never') {
    if ((await pull()).code !== 0) return null;
    inspected = await inspectEnv(docker, globals, image);
  }
  return 'env' in inspected ? inspected.env : null;
}
