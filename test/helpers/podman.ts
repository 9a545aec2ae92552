// A private Podman (Debian 12's 4.3) for end-to-end CDI checks, as root, touching nothing outside
// its temp directories (recipe: /work/shared/spec/cdi-podman.md): its own containers.conf and
// storage.conf, vfs storage and runc state in a temp dir, a static busybox rootfs used through an
// overlay (`--rootfs DIR:O`), and each run in a private mount namespace whose /run is a tmpfs with
// the harness's spec directory bound at /run/cdi (Podman 4.3 reads only /etc/cdi and /var/run/cdi).
import { execFile, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const APPLETS = ['sh', 'ls', 'cat', 'grep', 'readlink', 'touch', 'echo', 'env', 'head', 'wc', 'cmp', 'stat', 'test', 'cut', 'od', 'find', 'sort', 'true', 'sha256sum'];

function which(cmd: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

/**
 * Copies this machine's glibc dynamic loader and libc into `rootfs` (x86-64 Debian paths), so that
 * dynamically linked test programs run in the container. No ld.so.cache is written: the loader
 * then finds libraries only in its default directories. Returns false where they are not found.
 */
export async function addGlibc(rootfs: string): Promise<boolean> {
  const loader = '/lib64/ld-linux-x86-64.so.2';
  const libc = '/lib/x86_64-linux-gnu/libc.so.6';
  if (!existsSync(loader) || !existsSync(libc)) return false;
  await mkdir(join(rootfs, 'lib64'), { recursive: true });
  await mkdir(join(rootfs, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
  await copyFile(realpathSync(loader), join(rootfs, 'lib64/ld-linux-x86-64.so.2'));
  await copyFile(realpathSync(libc), join(rootfs, 'usr/lib/x86_64-linux-gnu/libc.so.6'));
  return true;
}

/** Why the Podman tests cannot run here, or undefined when they can. */
export function podmanSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Podman CDI checks need Linux';
  if (process.getuid?.() !== 0) return 'Podman CDI checks need root (private mount namespace, mknod, rootful podman)';
  for (const cmd of ['podman', 'runc', 'busybox', 'unshare', 'mount']) {
    if (!which(cmd)) return `Podman CDI checks need '${cmd}' (node scripts/ensure-test-deps.mjs installs it)`;
  }
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs probe /mnt'], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot make a private mount namespace here: ${(probe.stderr || probe.error?.message || '').trim()}`;
  return undefined;
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PodmanRunOptions {
  /** Fully qualified CDI devices, e.g. `nvidia.com/gpu=all`. */
  devices: string[];
  /** Shell script run by busybox sh in the container. */
  script: string;
  /** Run podman with --log-level=debug (it explains CDI failures only then). */
  debug?: boolean;
  /** Extra `podman run` arguments (before the image). */
  extraArgs?: string[];
}

export interface PodmanHarness {
  /** Put spec files here: it is /run/cdi (= /var/run/cdi) for Podman. */
  specDir: string;
  /** The container's root filesystem (busybox); files added here show in the next run. */
  rootfs: string;
  run(options: PodmanRunOptions): Promise<PodmanResult>;
  cleanup(): Promise<void>;
}

/** Sets up the private configuration, runc wrapper and busybox rootfs. */
export async function createPodmanHarness(): Promise<PodmanHarness> {
  const work = await mkdtemp(join(tmpdir(), 'cdi-podman-'));
  const store = join(work, 'store');
  const specDir = join(work, 'spec');
  const rootfs = join(work, 'rootfs');
  const emptyEtcCdi = join(work, 'empty-etc-cdi');
  await Promise.all([specDir, store, emptyEtcCdi, ...['bin', 'dev', 'proc', 'sys', 'tmp', 'etc'].map((d) => join(rootfs, d))].map((d) => mkdir(d, { recursive: true })));
  await copyFile(which('busybox')!, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of APPLETS) await symlink('busybox', join(rootfs, 'bin', applet));

  const runc = join(work, 'runc');
  await writeFile(runc, `#!/bin/sh\nexec ${which('runc')} --root ${store}/runc "$@"\n`, { mode: 0o755 });
  const containersConf = join(work, 'containers.conf');
  await writeFile(
    containersConf,
    [
      '[containers]',
      'netns = "none"',
      // No CAP_SYS_RESOURCE in this kind of sandbox: the default ulimits would fail.
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${store}/events.log"`,
      `tmp_dir = "${store}/libpod-tmp"`,
      `volume_path = "${store}/volumes"`,
      'runtime = "runc"',
      '[engine.runtimes]',
      `runc = ["${runc}"]`,
      '[network]',
      'network_backend = "cni"',
      `network_config_dir = "${store}/networks"`,
      '',
    ].join('\n'),
  );
  const storageConf = join(work, 'storage.conf');
  await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${store}/root"\nrunroot = "${store}/run"\n`);

  // In the private namespace: a throwaway /run with our spec dir at /run/cdi, and an empty /etc/cdi
  // over the host's (when it has one) so that only the spec under test is seen.
  const setup =
    'spec=$1; empty=$2; shift 2; ' +
    'mount -t tmpfs -o mode=755 cdi-run /run && mkdir /run/cdi && mount --bind "$spec" /run/cdi && ' +
    '{ [ ! -d /etc/cdi ] || mount --bind "$empty" /etc/cdi; } && exec podman "$@"';

  return {
    specDir,
    rootfs,
    run(options: PodmanRunOptions): Promise<PodmanResult> {
      const podmanArgs = [
        ...(options.debug ? ['--log-level=debug'] : []),
        'run', '--rm', '--network', 'none',
        ...options.devices.flatMap((d) => ['--device', d]),
        ...(options.extraArgs ?? []),
        '--rootfs', `${rootfs}:O`,
        'sh', '-c', options.script,
      ];
      const env = { ...process.env, CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf };
      return new Promise((resolve) => {
        execFile(
          'unshare',
          ['--mount', '--propagation', 'private', 'sh', '-c', setup, 'cdi-podman', specDir, emptyEtcCdi, ...podmanArgs],
          { env, timeout: 120_000, maxBuffer: 16 << 20, encoding: 'utf8' },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}
