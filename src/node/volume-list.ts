// Listing and removing driver volumes. The known versions are the version directories on disk
// (as v1; each version's generations together, see volume-generations.ts), checked against their manifests; a volume some container holds (per the plugins'
// mount state in DIR) is not removed.
import { rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mountedGenerations, mountedVolumes } from './plugin-state.js';
import { DEFAULT_VOLUMES_DIR, resolveVolumesDir, volumeBaseDir, workName } from './volume-fs.js';
import { allGenerations, currentGeneration, generationsOf } from './volume-generations.js';
import { withVolumesLock } from './volume-lock.js';
import { isDriverVersion } from './volume-layout.js';
import { VolumeMountedError } from './volume-errors.js';
import { verifyVolume } from './volume-manifest.js';
import { dockerVolumeName } from './volume.js';
import { compareVersions } from '../core/nvidia-libraries.js';

export interface VolumeInfo {
  version: string;
  /** Docker volume name, `nvidia_driver_<version>`. */
  name: string;
  /** The current generation's directory (what Mount hands out); the newest one when none is complete. */
  path: string;
  complete: boolean;
  /** Why the volume is not complete. */
  problem: string | null;
  files: number;
  createdAt: string | null;
  /** Mounts currently recorded by plugins, every generation together. */
  mounts: number;
  /** Older generations still on disk (held by a mount until it is released), newest first. */
  older: Array<{ path: string; mounts: number }>;
}

export async function listDriverVolumes(options: { dir?: string } = {}): Promise<VolumeInfo[]> {
  const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR, false); // listing creates nothing
  if (realDir === null) return [];
  const base = await volumeBaseDir(realDir, false);
  if (base === null) return [];
  const [mounts, held] = await Promise.all([mountedVolumes(realDir), mountedGenerations(realDir)]);
  const byVersion = await allGenerations(base);
  const volumes: VolumeInfo[] = [];
  for (const version of [...byVersion.keys()].sort(compareVersions)) {
    const generations = byVersion.get(version)!.filter((g) => g.isDirectory);
    if (generations.length === 0) continue;
    const current = await currentGeneration(base, version);
    const shown = current?.generation ?? generations[0]!;
    const verdict = current !== null ? null : await verifyVolume(shown.path, version);
    const name = dockerVolumeName(version);
    volumes.push({
      version,
      name,
      path: shown.path,
      complete: current !== null,
      problem: verdict !== null && !verdict.complete ? verdict.reason : null,
      files: current?.manifest.files.length ?? 0,
      createdAt: current?.manifest.createdAt ?? null,
      mounts: mounts.get(name) ?? 0,
      older: generations.filter((g) => g.name !== shown.name).map((g) => ({ path: g.path, mounts: held.get(g.name) ?? 0 })),
    });
  }
  return volumes;
}

export interface RemoveVolumeOptions {
  dir?: string;
  version: string;
  /** Remove even when a plugin records mounts (the containers keep the files they opened). */
  force?: boolean;
}

/** Removes every generation of one version's volume; false when there was none. Refused while mounted. */
export async function removeDriverVolume(options: RemoveVolumeOptions): Promise<boolean> {
  const { version } = options;
  if (!isDriverVersion(version)) throw new Error(`invalid volume version '${version}': expected digits and dots`);
  const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR, false);
  if (realDir === null) return false;
  const base = await volumeBaseDir(realDir, false);
  if (base === null) return false;
  return removeGenerations(realDir, base, version, options.force === true);
}

/** Moves every generation of `version` aside under the volumes lock (refused while mounted unless `force`), then deletes them. */
export async function removeGenerations(realDir: string, base: string, version: string, force: boolean): Promise<boolean> {
  const name = dockerVolumeName(version);
  const doomed = await withVolumesLock(realDir, async () => {
    const mounts = (await mountedVolumes(realDir)).get(name) ?? 0;
    if (mounts > 0 && !force) {
      throw new VolumeMountedError(join(base, version), name, mounts);
    }
    const aside: string[] = [];
    for (const generation of await generationsOf(base, version)) {
      if (!generation.isDirectory) {
        await unlink(generation.path).catch(() => undefined);
        continue;
      }
      const path = join(base, workName('old', version));
      await rename(generation.path, path);
      aside.push(path);
    }
    return aside;
  });
  for (const path of doomed) await rm(path, { recursive: true, force: true });
  return doomed.length > 0;
}
