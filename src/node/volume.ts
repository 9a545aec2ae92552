// Driver volumes: `DIR/nvidia_driver/<version>/{bin,lib,lib64}` built from a discovery.
// Built in `.tmp-…` and renamed into place under a fresh generation name (volume-generations.ts),
// so a run killed at any moment leaves either nothing or a complete volume; the manifest, written
// last, lets the next run reuse a complete volume and rebuild anything else. A published
// generation is never replaced: rebuilt content becomes the next generation, and the old one goes
// only when no plugin records a mount of it. Every driver file is opened beneath the root
// (volume-source.ts) and placed from that descriptor (volume-link.ts).
import { mkdir, open, rename, rm, symlink, chmod } from 'node:fs/promises';
import { currentGeneration, generationName, generationsOf, pruneGenerations, type Generation } from './volume-generations.js';
import { join } from 'node:path';
import type { DriverDiscovery } from './discovery-types.js';
import { HostError, hostErrorFrom } from './errors.js';
import { MANIFEST_NAME, describePlaced, manifestText, newManifest, verifyVolume, type ManifestFile } from './volume-manifest.js';
import { placeFile, type PlacementMethod, type PlacementStrategy } from './volume-link.js';
import { openRoot, openSource } from './volume-source.js';
import { planVolume, type VolumeLayout } from './volume-layout.js';
import {
  DEFAULT_VOLUMES_DIR,
  VOLUME_NAME,
  removeStaleWork,
  resolveVolumesDir,
  syncDirectory,
  volumeBaseDir,
  workName,
  errorCode,
} from './volume-fs.js';

export { DEFAULT_VOLUMES_DIR, VOLUME_NAME };

export interface CreateVolumeOptions {
  /** The driver root (default `/`). */
  root?: string;
  /** The volumes directory (default `/var/lib/nvidia-docker/volumes`). */
  dir?: string;
  /** A discovery already made for `root`; discovered now when absent. */
  discovery?: DriverDiscovery;
  /** `copy` never hard-links (for tests and benchmarks); default `auto`. */
  strategy?: PlacementStrategy;
  /** Called when a build starts and after each file is placed (not when a complete volume is reused). */
  onProgress?: (progress: VolumeProgress) => void;
}

/** How far a build is: files placed (of the total) and their bytes so far. */
export interface VolumeProgress {
  files: number;
  totalFiles: number;
  bytes: number;
}

export interface CreatedVolume {
  version: string;
  /** Docker volume name, `nvidia_driver_<version>`. */
  name: string;
  path: string;
  /** The generation directory's name (`535.261.03`, then `535.261.03-2`, … after rebuilds). */
  generation: string;
  /** false when a complete volume of this version was already there and verified. */
  created: boolean;
  files: number;
  links: number;
  methods: Record<PlacementMethod, number>;
  /** Driver files left out (name collisions), one line each. */
  skipped: string[];
  /** Work directories of dead runs that were removed first. */
  cleaned: string[];
  /** Older generations removed because no mount of them is recorded. */
  pruned: string[];
}

export function dockerVolumeName(version: string): string {
  return `${VOLUME_NAME}_${version}`;
}

/** Runs `work` on every item, a few at a time (file system calls overlap; fsyncs especially), keeping order. */
async function inParallel<T, R>(items: readonly T[], work: (item: T) => Promise<R>, limit = 8): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // Every worker settles before the first error is thrown: nothing still writes when the caller cleans up.
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

/** Fills `temp` (a fresh directory of ours) with the layout and writes the manifest last. */
async function buildInto(temp: string, layout: VolumeLayout, strategy: PlacementStrategy, onProgress?: (progress: VolumeProgress) => void): Promise<ManifestFile[]> {
  for (const sub of ['bin', 'lib', 'lib64']) await mkdir(join(temp, sub), { mode: 0o755 });
  const root = await openRoot(layout.root);
  const progress: VolumeProgress = { files: 0, totalFiles: layout.files.length, bytes: 0 };
  onProgress?.({ ...progress });
  let placed: ManifestFile[];
  try {
    placed = await inParallel(layout.files, async (file): Promise<ManifestFile> => {
      const source = await openSource(root, file.inside, file.source);
      try {
        let result;
        try {
          result = await placeFile(source, join(temp, file.path), strategy, file.source);
        } catch (err) {
          const cause = hostErrorFrom(err, file.source);
          throw cause.path === file.source ? cause : new HostError(cause.code, file.source, `cannot place into the volume: ${cause.message}`);
        }
        if (onProgress) {
          progress.files += 1;
          progress.bytes += source.stats.size;
          onProgress({ ...progress });
        }
        return describePlaced(file.path, file.source, result.method, result.placed, source.stats);
      } finally {
        await source.close();
      }
    });
  } finally {
    await root.close();
  }
  for (const link of layout.links) await symlink(link.target, join(temp, link.path));
  const manifest = newManifest(layout.version, placed, layout.links);
  const handle = await open(join(temp, MANIFEST_NAME), 'wx', 0o644);
  try {
    await handle.writeFile(manifestText(manifest));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await chmod(temp, 0o755);
  await syncDirectory(temp);
  return placed;
}

export async function createDriverVolume(options: CreateVolumeOptions = {}): Promise<CreatedVolume> {
  const root = options.root ?? '/';
  // Loaded only when needed: a caller with a discovery in hand (the plugin) skips it.
  const discovery = options.discovery ?? (await import('./discover.js')).discoverDriver({ root });
  const layout = planVolume(discovery);
  const version = layout.version;
  const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR);
  const base = (await volumeBaseDir(realDir, true)) as string;
  const cleaned = await removeStaleWork(base);
  const result = (generation: Generation, created: boolean, files: ManifestFile[], pruned: string[]): CreatedVolume => {
    const methods: Record<PlacementMethod, number> = { link: 0, clone: 0, copy: 0 };
    for (const file of files) methods[file.method] += 1;
    return {
      version, name: dockerVolumeName(version), path: generation.path, generation: generation.name, created,
      files: files.length, links: layout.links.length, methods, skipped: layout.skipped, cleaned, pruned,
    };
  };
  /** The current generation, when it holds exactly what the driver gives now. */
  const upToDate = async (): Promise<{ generation: Generation; files: ManifestFile[] } | null> => {
    const current = await currentGeneration(base, version);
    if (current === null) return null;
    const verdict = await verifyVolume(current.generation.path, version, layout);
    return verdict.complete ? { generation: current.generation, files: verdict.manifest.files } : null;
  };
  const reuse = async (found: { generation: Generation; files: ManifestFile[] }): Promise<CreatedVolume> => {
    const pruned = await pruneGenerations(realDir, base, version, found.generation.name);
    return result(found.generation, false, found.files, pruned);
  };

  const existing = await upToDate();
  if (existing !== null) return reuse(existing);

  const temp = join(base, workName('tmp', version));
  await mkdir(temp, { mode: 0o700 });
  let placed: ManifestFile[];
  let published: Generation | null = null;
  try {
    placed = await buildInto(temp, layout, options.strategy ?? 'auto', options.onProgress);
    // Published beside every existing generation, under the next free number: a published
    // generation is never replaced or moved aside here (containers may have it mounted).
    for (let attempt = 0; attempt < 16 && published === null; attempt++) {
      const theirs = await upToDate(); // a peer run finished first: use its volume, publish nothing
      if (theirs !== null) {
        await rm(temp, { recursive: true, force: true });
        return await reuse(theirs);
      }
      const generations = await generationsOf(base, version);
      const number = generations.length === 0 ? 1 : generations[0]!.number + 1;
      const name = generationName(version, number);
      try {
        await rename(temp, join(base, name));
        published = { name, version, number, path: join(base, name), isDirectory: true };
      } catch (err) {
        // Taken meanwhile (a peer's generation, or anything planted there): try the next number.
        if (!['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR'].includes(errorCode(err))) throw err;
      }
    }
    if (published === null) throw new HostError('EEXIST', base, `could not publish a new generation of ${version} (every name taken)`);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  await syncDirectory(base);
  const pruned = await pruneGenerations(realDir, base, version, published.name);
  return result(published, true, placed, pruned);
}
