// Podman 5 (Debian 13's podman, crun and runc) for end-to-end CDI checks: a trixie minbase chroot made
// by scripts/fixtures/podman5.sh and kept per machine, run through the Podman harness
// (helpers/podman.ts) in a private mount namespace, so the host's mounts and configuration are
// untouched. Podman 5 needs glibc 2.38+, hence the whole chroot (Debian 12 has 2.36).
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { podmanSkipReason } from './podman.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
export const PODMAN5_SCRIPT = join(repo, 'scripts/fixtures/podman5.sh');

/** Where the chroot is kept (scripts/fixtures/podman5.sh's default). */
export const podman5Dir = (): string => process.env.LDCACHE_PODMAN5_DIR ?? '/var/cache/ldcache-test/podman5';

/** The chroot's root directory, building it first when this machine has none. Throws with the reason. */
export async function ensurePodman5(): Promise<string> {
  // The script returns at once when the chroot is there with its package list, else (re)makes it.
  try {
    const { stdout } = await run('sh', [PODMAN5_SCRIPT, podman5Dir()], { timeout: 900_000 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`cannot build the Podman 5 chroot (${PODMAN5_SCRIPT}): ${(e.stderr || e.message).trim()}`);
  }
}

/** Why Podman 5 cannot run here (root, tools, the chroot), or undefined when it can. Builds the chroot on first use. */
export async function podman5SkipReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'Podman 5 checks need Linux';
  if (process.getuid?.() !== 0) return 'Podman 5 checks need root (chroot, private mount namespace, mknod)';
  // The host-side tools the harness uses; podman, crun and runc come from the chroot.
  const base = podmanSkipReason(false);
  if (base) return base;
  try {
    await ensurePodman5();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}
