// Listing and removing driver volumes. The known versions are the version directories on disk
// (as v1), each checked against its manifest; a volume some container holds (per the plugins'
// mount state in DIR) is not removed.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mountedVolumes } from './plugin-state.js';
import { DEFAULT_VOLUMES_DIR, lstatOrNull, removeDirectory, resolveVolumesDir, volumeBaseDir } from './volume-fs.js';
import { isDriverVersion } from './volume-layout.js';
import { VolumeMountedError } from './volume-errors.js';
import { verifyVolume } from './volume-manifest.js';
import { dockerVolumeName } from './volume.js';
import { compareVersions } from '../core/nvidia-libraries.js';

export interface VolumeInfo {
  version: string;
  /** Docker volume name, `nvidia_driver_<version>`. */
  name: string;
  path: string;
  complete: boolean;
  /** Why the volume is not complete. */
  problem: string | null;
  files: number;
  createdAt: string | null;
  /** Mounts currently recorded by plugins. */
  mounts: number;
}

export async function listDriverVolumes(options: { dir?: string } = {}): Promise<VolumeInfo[]> {
  const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR, false); // listing creates nothing
  if (realDir === null) return [];
  const base = await volumeBaseDir(realDir, false);
  if (base === null) return [];
  const mounts = await mountedVolumes(realDir);
  const volumes: VolumeInfo[] = [];
  for (const version of (await readdir(base)).filter(isDriverVersion).sort(compareVersions)) {
    const path = join(base, version);
    const info = await lstatOrNull(path);
    if (info === null || !info.isDirectory()) continue;
    const verdict = await verifyVolume(path, version);
    const name = dockerVolumeName(version);
    volumes.push({
      version,
      name,
      path,
      complete: verdict.complete,
      problem: verdict.complete ? null : verdict.reason,
      files: verdict.complete ? verdict.manifest.files.length : 0,
      createdAt: verdict.complete ? verdict.manifest.createdAt : null,
      mounts: mounts.get(name) ?? 0,
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

/** Removes one version's volume; false when there was none. Refused while mounted. */
export async function removeDriverVolume(options: RemoveVolumeOptions): Promise<boolean> {
  const { version } = options;
  if (!isDriverVersion(version)) throw new Error(`invalid volume version '${version}': expected digits and dots`);
  const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR, false);
  if (realDir === null) return false;
  const base = await volumeBaseDir(realDir, false);
  if (base === null) return false;
  const mounts = (await mountedVolumes(realDir)).get(dockerVolumeName(version)) ?? 0;
  if (mounts > 0 && options.force !== true) {
    throw new VolumeMountedError(join(base, version), dockerVolumeName(version), mounts);
  }
  return removeDirectory(base, version, version);
}
