// A private Docker Engine 26.1 (Debian 13's docker.io, docker-cli and containerd 1.7, unpacked by
// scripts/fixtures/docker26.sh into a per-machine cache; runc is Debian 12's) started like
// helpers/dockerd.ts: own data-root, exec-root and socket, vfs storage, no host network changes,
// and the static-busybox image `bb:local`. CDI is on when spec directories are given.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { dockerdSkipReason, startDockerd, type PrivateDockerd } from './dockerd.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
export const DOCKER26_SCRIPT = join(repo, 'scripts/fixtures/docker26.sh');

/** Where the unpacked packages are kept (scripts/fixtures/docker26.sh's default). */
export const docker26Dir = (): string => process.env.LDCACHE_DOCKER26_DIR ?? '/var/cache/ldcache-test/docker26';

/** The unpacked engine's binary directories, downloading it first when this machine has none. Throws with the reason. */
export async function ensureDocker26(): Promise<string[]> {
  const root = join(docker26Dir(), 'root');
  if (!existsSync(join(root, '.complete'))) {
    try {
      await run('sh', [DOCKER26_SCRIPT, docker26Dir()], { timeout: 600_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`cannot get Docker 26 (${DOCKER26_SCRIPT}): ${(e.stderr || e.message).trim()}`);
    }
  }
  return [join(root, 'usr/bin'), join(root, 'usr/sbin')];
}

/** Why Docker 26 cannot run here (root, tools, download), or undefined when it can. Downloads on first use. */
export async function docker26SkipReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'Docker 26 needs Linux';
  const base = await dockerdSkipReason();
  if (base) return base;
  try {
    await ensureDocker26();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

export interface Docker26Options {
  /** CDI spec directories: turns on `features.cdi` and sets `cdi-spec-dirs` to exactly these. */
  cdiSpecDirs?: string[];
  /** More daemon configuration (merged over the CDI settings). */
  config?: Record<string, unknown>;
}

/** Starts a private Docker 26 daemon; `docker()` runs the Docker 26 CLI against it. */
export async function startDocker26(options: Docker26Options = {}): Promise<PrivateDockerd> {
  const binDirs = await ensureDocker26();
  const config: Record<string, unknown> = {
    ...(options.cdiSpecDirs ? { features: { cdi: true }, 'cdi-spec-dirs': options.cdiSpecDirs } : {}),
    ...options.config,
  };
  const engine = await startDockerd({ binDirs, config });
  const version = await engine.docker(['version', '--format', '{{.Client.Version}} {{.Server.Version}}']);
  if (!/^26\.\S* 26\./.test(version.stdout)) {
    await engine.stop();
    throw new Error(`expected Docker 26 client and server, got: ${version.stdout.trim()} ${version.stderr.trim()}`);
  }
  return engine;
}
