// Builds container image archives for tests from real parts: layer tars written by GNU tar from
// staging directories (whiteouts are the empty `.wh.NAME` files a layer carries), a
// docker-archive (manifest.json + config with the layers' real diff_ids) that the engines load,
// and a private Podman (own storage and config, vfs) for `podman load/save/run`.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';

export type Spec =
  | { file: Buffer | string; mode?: number }
  | { copy: string; mode?: number }
  | { symlink: string }
  | { hardlink: string }
  | { dir: true };

/** Writes `files` (paths relative to the root) into a fresh staging directory. */
export function stage(parent: string, files: Record<string, Spec>): string {
  const dir = mkdtempSync(join(parent, 'stage-'));
  for (const [path, spec] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if ('file' in spec) writeFileSync(target, spec.file, { mode: spec.mode ?? 0o644 });
    else if ('copy' in spec) {
      copyFileSync(realpathSync(spec.copy), target);
      execFileSync('chmod', [(spec.mode ?? 0o755).toString(8), target]);
    } else if ('symlink' in spec) symlinkSync(spec.symlink, target);
    else if ('hardlink' in spec) linkSync(join(dir, spec.hardlink), target);
    else mkdirSync(target, { recursive: true });
  }
  return dir;
}

/** A layer tar of a staging directory, members in sorted order, written by GNU tar. */
export function layerTar(stageDir: string, out: string, format: 'gnu' | 'pax' | 'ustar' = 'pax'): string {
  execFileSync('tar', ['--format', format, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', stageDir, '-cf', out, '.']);
  return out;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export interface ArchiveImage {
  tag: string;
  layers: string[];
  config?: { Env?: string[]; Labels?: Record<string, string>; Entrypoint?: string[]; Cmd?: string[] };
  architecture?: string;
}

/** A docker-archive (the Docker <= 24 layout) holding the images, as `docker load` accepts. */
export function dockerArchive(work: string, out: string, images: ArchiveImage[]): string {
  const dir = mkdtempSync(join(work, 'archive-'));
  const manifest = images.map((image) => {
    const layerPaths: string[] = [];
    const diffIds: string[] = [];
    for (const layer of image.layers) {
      const bytes = readFileSync(layer);
      const id = sha256(bytes);
      // diff_ids name the uncompressed layer.
      let diffId = id;
      try {
        if (bytes[0] === 0x1f && bytes[1] === 0x8b) diffId = sha256(gunzipSync(bytes));
      } catch {
        // a deliberately corrupt layer: any id will do
      }
      mkdirSync(join(dir, id), { recursive: true });
      if (!existsSync(join(dir, id, 'layer.tar'))) writeFileSync(join(dir, id, 'layer.tar'), bytes);
      layerPaths.push(`${id}/layer.tar`);
      diffIds.push(`sha256:${diffId}`);
    }
    const config = Buffer.from(
      JSON.stringify({
        architecture: image.architecture ?? 'amd64',
        os: 'linux',
        created: '2026-01-01T00:00:00Z',
        config: { Env: ['PATH=/usr/bin:/bin'], ...image.config },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: image.layers.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'test' })),
      }),
    );
    const configName = `${sha256(config)}.json`;
    writeFileSync(join(dir, configName), config);
    return { Config: configName, RepoTags: [image.tag], Layers: layerPaths };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  execFileSync('tar', ['-C', dir, '-cf', out, '.']);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

export function which(cmd: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  for (const dir of ['/usr/sbin', '/sbin']) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

export interface Podman {
  work: string;
  /** Runs podman with the private configuration; never throws on a non-zero exit. */
  podman(args: string[], options?: { timeoutMs?: number }): { code: number; stdout: string; stderr: string };
  /** Runs podman in a private mount namespace whose /run/cdi is `specDir` (for --device with CDI). */
  podmanWithCdi(specDir: string, args: string[]): { code: number; stdout: string; stderr: string };
  cleanup(): void;
}

/** Why the private Podman cannot run here, or undefined. */
export function podmanImageSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for a private rootful Podman';
  for (const cmd of ['podman', 'runc', 'unshare', 'mount', 'tar', 'gcc']) if (!which(cmd)) return `'${cmd}' is not installed (node scripts/ensure-test-deps.mjs)`;
  return undefined;
}

/**
 * A private Podman. Its storage lives in a short directory directly under the system temp dir,
 * whatever `parent` is: when this directory's path is long, Podman 4.3's `podman run` waits out
 * its whole 20 s conmon timeout after every container exits (measured on Debian 12: 0.5 s with a
 * 38-character path, 20.5 s with 46, 55 and 63). `parent` is kept for callers and not used;
 * `cleanup()` removes the directory.
 */
export function createPodman(_parent?: string): Podman {
  const work = mkdtempSync(join(tmpdir(), 'img-podman-'));
  const store = join(work, 'store');
  mkdirSync(store);
  const empty = join(work, 'empty');
  mkdirSync(empty);
  const runc = join(work, 'runc');
  writeFileSync(runc, `#!/bin/sh\nexec ${which('runc')} --root ${store}/runc "$@"\n`, { mode: 0o755 });
  const containersConf = join(work, 'containers.conf');
  writeFileSync(
    containersConf,
    [
      '[containers]', 'netns = "none"', 'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"', `events_logfile_path = "${store}/events.log"`,
      `tmp_dir = "${store}/libpod-tmp"`, `volume_path = "${store}/volumes"`, 'runtime = "runc"',
      '[engine.runtimes]', `runc = ["${runc}"]`, '[network]', 'network_backend = "cni"', `network_config_dir = "${store}/networks"`, '',
    ].join('\n'),
  );
  const storageConf = join(work, 'storage.conf');
  writeFileSync(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${store}/root"\nrunroot = "${store}/run"\n`);
  const env = { ...process.env, CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf, TMPDIR: work };
  const result = (r: ReturnType<typeof spawnSync>) => ({ code: r.status ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') + (r.error ? r.error.message : '') });
  return {
    work,
    podman: (args, options = {}) => result(spawnSync('podman', args, { env, encoding: 'utf8', timeout: options.timeoutMs ?? 180_000, maxBuffer: 64 << 20 })),
    podmanWithCdi(specDir, args) {
      const setup =
        'spec=$1; empty=$2; shift 2; mount -t tmpfs -o mode=755 cdi-run /run && mkdir /run/cdi && mount --bind "$spec" /run/cdi && ' +
        '{ [ ! -d /etc/cdi ] || mount --bind "$empty" /etc/cdi; } && exec podman "$@"';
      return result(
        spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setup, 'img-podman', specDir, empty, ...args], {
          env, encoding: 'utf8', timeout: 180_000, maxBuffer: 64 << 20,
        }),
      );
    },
    cleanup: () => rmSync(work, { recursive: true, force: true }),
  };
}
