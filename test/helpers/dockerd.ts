// A private Docker engine for tests (docker-volume-plugin.md section 6): its own data-root,
// exec-root, pidfile and socket under a temp dir, no host network or sysctl changes, vfs storage,
// and a static-busybox image `bb:local` made with `docker import`. Plugin sockets still go to the
// shared /run/docker/plugins: tests use unique plugin names.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const IMAGE = 'bb:local';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PrivateDockerd {
  /** `unix:///…/docker.sock`: pass as DOCKER_HOST. */
  host: string;
  /** process.env with DOCKER_HOST set to this daemon. */
  env: NodeJS.ProcessEnv;
  log: string;
  docker(args: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandResult>;
  stop(): Promise<void>;
}

async function which(cmd: string): Promise<string | null> {
  try {
    return (await run('sh', ['-c', `command -v ${cmd}`])).stdout.trim() || null;
  } catch {
    return ['/usr/sbin', '/sbin'].map((d) => join(d, cmd)).find((p) => existsSync(p)) ?? null;
  }
}

/** Why a private dockerd cannot run here, or undefined when it can. */
export async function dockerdSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to run dockerd';
  for (const cmd of ['dockerd', 'docker', 'busybox', 'tar']) {
    if ((await which(cmd)) === null) return `${cmd} is not installed (run node scripts/ensure-test-deps.mjs)`;
  }
  return undefined;
}

/** Runs a command, never throwing on a non-zero exit. */
export function runCommand(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: Buffer } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input);
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface DockerdOptions {
  /** Directories searched first for dockerd, containerd, its shims and the docker CLI (another engine's unpacked binaries). */
  binDirs?: string[];
  /** The daemon's JSON configuration (`--config-file`), e.g. `{ features: { cdi: true } }`. */
  config?: Record<string, unknown>;
}

export async function startDockerd(options: DockerdOptions = {}): Promise<PrivateDockerd> {
  // Short paths: unix socket paths are limited to 108 bytes.
  const top = await mkdtemp('/tmp/dkd-');
  const sock = join(top, 'docker.sock');
  const pidfile = join(top, 'dockerd.pid');
  const log = join(top, 'dockerd.log');
  const host = `unix://${sock}`;
  const path = [...(options.binDirs ?? []), process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', '/usr/sbin', '/sbin'].join(':');
  const env = { ...process.env, PATH: path, DOCKER_HOST: host };
  for (const d of ['data', 'exec']) await mkdir(join(top, d));
  const configArgs: string[] = [];
  if (options.config) {
    await writeFile(join(top, 'daemon.json'), JSON.stringify(options.config));
    configArgs.push('--config-file', join(top, 'daemon.json'));
  }

  const logFd = openSync(log, 'a');
  const daemon = spawn(
    'dockerd',
    [
      ...configArgs,
      '--data-root', join(top, 'data'), '--exec-root', join(top, 'exec'), '-H', host, '--pidfile', pidfile,
      '--iptables=false', '--ip6tables=false', '--ip-forward=false', '--bridge=none', '--storage-driver=vfs',
    ],
    { stdio: ['ignore', logFd, logFd], detached: true, env },
  );
  daemon.unref();
  const docker = (args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> =>
    runCommand('docker', args, { env: { ...env, ...options.env }, timeoutMs: options.timeoutMs });

  const stop = async (): Promise<void> => {
    const pid = daemon.pid;
    if (pid !== undefined && pidAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      while (pidAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    await rm(top, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    await waitFor(async () => {
      if (daemon.exitCode !== null) throw new Error(`dockerd exited: ${(await readFile(log, 'utf8')).slice(-2000)}`);
      // Docker 26's `info` exits 0 without a daemon: the server's version must be there.
      const info = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
      return info.code === 0 && info.stdout.trim() !== '';
    }, 60_000, 'dockerd');

    // A tiny image from the static busybox, without any registry.
    const bb = join(top, 'bbroot');
    for (const d of ['bin', 'mnt', 'usr/local/nvidia', 'tmp', 'proc', 'sys', 'dev', 'etc']) await mkdir(join(bb, d), { recursive: true });
    await cp((await which('busybox'))!, join(bb, 'bin/busybox'));
    for (const applet of ['sh', 'ls', 'cat', 'echo', 'true', 'test', 'find', 'readlink', 'stat', 'sleep', 'grep', 'env', 'sha256sum']) await symlink('busybox', join(bb, 'bin', applet));
    const tarBytes = await run('tar', ['-C', bb, '-c', '.'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    const imported = await runCommand('docker', ['import', '-', IMAGE], { env, input: tarBytes.stdout as unknown as Buffer });
    if (imported.code !== 0) throw new Error(`docker import failed: ${imported.stderr}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, env, log, docker, stop };
}
