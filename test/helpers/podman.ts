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

/**
 * Why the Podman tests cannot run here, or undefined when they can. With `hostEngine` false only
 * the harness's own tools are needed (podman and runc come from a chroot).
 */
export function podmanSkipReason(hostEngine = true): string | undefined {
  if (process.platform !== 'linux') return 'Podman CDI checks need Linux';
  if (process.getuid?.() !== 0) return 'Podman CDI checks need root (private mount namespace, mknod, rootful podman)';
  for (const cmd of [...(hostEngine ? ['podman', 'runc'] : []), 'busybox', 'unshare', 'mount', ...(hostEngine ? [] : ['chroot'])]) {
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

export interface PodmanHarnessOptions {
  /**
   * Run the podman of this root directory (a Debian chroot, scripts/fixtures/podman5.sh) instead
   * of the host's: in the private namespace the chroot gets /proc, /sys, /dev, a tmpfs /run, the
   * host's temp directory at the same path (the harness and driver roots live there) and the spec
   * directory at its /etc/cdi; its own runc and netavark-era configuration.
   */
  chroot?: string;
  /** The OCI runtime (default runc): Debian 13's Podman 5 installs crun as its default. */
  runtime?: 'runc' | 'crun';
}

export interface PodmanHarness {
  /** Put spec files here: it is /run/cdi (= /var/run/cdi) for Podman. */
  specDir: string;
  /** The container's root filesystem (busybox); files added here show in the next run. */
  rootfs: string;
  run(options: PodmanRunOptions): Promise<PodmanResult>;
  /** Any podman command (arguments after `podman`), with the same configuration and namespace. */
  podman(args: string[]): Promise<PodmanResult>;
  cleanup(): Promise<void>;
}

/** Sets up the private configuration, runc wrapper and busybox rootfs. */
export async function createPodmanHarness(options: PodmanHarnessOptions = {}): Promise<PodmanHarness> {
  const { chroot, runtime = 'runc' } = options;
  const tmp = realpathSync(tmpdir());
  const work = await mkdtemp(join(tmp, 'cdi-podman-'));
  const store = join(work, 'store');
  const specDir = join(work, 'spec');
  const rootfs = join(work, 'rootfs');
  const emptyEtcCdi = join(work, 'empty-etc-cdi');
  await Promise.all([specDir, store, emptyEtcCdi, ...['bin', 'dev', 'proc', 'sys', 'tmp', 'etc'].map((d) => join(rootfs, d))].map((d) => mkdir(d, { recursive: true })));
  await copyFile(which('busybox')!, join(rootfs, 'bin/busybox'));
  await chmod(join(rootfs, 'bin/busybox'), 0o755);
  for (const applet of APPLETS) await symlink('busybox', join(rootfs, 'bin', applet));

  // The runtime keeps its state under the private store (--root), not in the host's /run.
  const runtimePath = chroot ? (runtime === 'crun' ? '/usr/bin/crun' : '/usr/sbin/runc') : which(runtime);
  const runtimeWrapper = join(work, runtime);
  await writeFile(runtimeWrapper, `#!/bin/sh\nexec ${runtimePath} --root ${store}/${runtime} "$@"\n`, { mode: 0o755 });
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
      `runtime = "${runtime}"`,
      '[engine.runtimes]',
      `${runtime} = ["${runtimeWrapper}"]`,
      '[network]',
      // Podman 5 has no CNI; with --network none it never calls netavark either.
      `network_backend = "${chroot ? 'netavark' : 'cni'}"`,
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
  // The chroot's own /etc/cdi holds the spec; its /run (= /var/run) is empty. The root is bound on
  // itself first: runc makes the container's / a slave mount, which fails (EINVAL) on a chroot
  // whose / is no mount point.
  const chrootSetup =
    'root=$1; spec=$2; tmp=$3; shift 3; ' +
    'mount --bind "$root" "$root" && mount -t proc proc "$root/proc" && mount --rbind /sys "$root/sys" && mount --rbind /dev "$root/dev" && ' +
    'mount -t tmpfs -o mode=755 cdi-run "$root/run" && mkdir -p "$root$tmp" && mount --rbind "$tmp" "$root$tmp" && ' +
    'mount --bind "$spec" "$root/etc/cdi" && ' +
    // crun refuses a hybrid cgroup host (v1 controllers plus a cgroup2 "unified" tree that holds
    // one, as in this sandbox); a booted Debian 13 is pure cgroup2. Hiding the unified tree in this
    // namespace leaves crun the v1 hierarchies, which it supports.
    `${runtime === 'crun' ? '{ ! mountpoint -q "$root/sys/fs/cgroup/unified" || mount -t tmpfs -o mode=755 hide-unified "$root/sys/fs/cgroup/unified"; } && ' : ''}` +
    'exec chroot "$root" podman "$@"';

  const podman = (podmanArgs: string[]): Promise<PodmanResult> => {
    const env = {
      ...process.env,
      ...(chroot ? { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } : {}),
      CONTAINERS_CONF: containersConf,
      CONTAINERS_STORAGE_CONF: storageConf,
      // Podman 5 warns on every command where the host has cgroup v1 (this sandbox does).
      PODMAN_IGNORE_CGROUPSV1_WARNING: '1',
    };
    const setupArgs = chroot ? [chrootSetup, 'cdi-podman5', chroot, specDir, tmp] : [setup, 'cdi-podman', specDir, emptyEtcCdi];
    return new Promise((resolve) => {
      execFile(
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', ...setupArgs, ...podmanArgs],
        { env, timeout: 120_000, maxBuffer: 16 << 20, encoding: 'utf8' },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  };

  return {
    specDir,
    rootfs,
    run(options: PodmanRunOptions): Promise<PodmanResult> {
      return podman([
        ...(options.debug ? ['--log-level=debug'] : []),
        'run', '--rm', '--network', 'none',
        ...options.devices.flatMap((d) => ['--device', d]),
        ...(options.extraArgs ?? []),
        '--rootfs', `${rootfs}:O`,
        'sh', '-c', options.script,
      ]);
    },
    podman,
    cleanup: () => rm(work, { recursive: true, force: true }),
  };
}
