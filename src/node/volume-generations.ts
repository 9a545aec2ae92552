// Generations of a driver volume. Docker knows one volume, `nvidia_driver_<version>`; on disk it
// is one or more generations: `nvidia_driver/<version>` (the first) and `<version>-<n>` (n ≥ 2),
// each complete and never changed once published. Content rebuilt after a driver file changed
// (a reinstall of the same version) is published as the next generation beside the old one; the
// highest complete generation is the current one (what Mount hands out); an older generation goes
// only when no mount of it is recorded (under the volumes lock), so a container keeps the files it
// mounted until it unmounts them.
import { readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { mountedGenerations } from './plugin-state.js';
import { lstatOrNull, workName } from './volume-fs.js';
import { withVolumesLock } from './volume-lock.js';
import { readManifest, verifyVolume, type Manifest } from './volume-manifest.js';

export interface Generation {
  /** The directory name under `nvidia_driver/`: `535.261.03` or `535.261.03-2`. */
  name: string;
  version: string;
  number: number;
  path: string;
  /** Only real directories can be generations; anything else with such a name is junk. */
  isDirectory: boolean;
}

const GENERATION = /^([0-9]{1,9}(?:\.[0-9]{1,9}){1,5})(?:-([2-9]|[1-9][0-9]{1,8}))?$/;

export function parseGeneration(name: string): { version: string; number: number } | null {
  const match = GENERATION.exec(name);
  return match === null ? null : { version: match[1]!, number: match[2] === undefined ? 1 : Number(match[2]) };
}

export function generationName(version: string, number: number): string {
  return number === 1 ? version : `${version}-${number}`;
}

/** Every generation of every version in `base`, highest number first within a version. */
export async function allGenerations(base: string): Promise<Map<string, Generation[]>> {
  const byVersion = new Map<string, Generation[]>();
  for (const name of await readdir(base)) {
    const parsed = parseGeneration(name);
    if (parsed === null) continue;
    const path = join(base, name);
    const info = await lstatOrNull(path);
    if (info === null) continue;
    const list = byVersion.get(parsed.version) ?? [];
    list.push({ name, version: parsed.version, number: parsed.number, path, isDirectory: info.isDirectory() });
    byVersion.set(parsed.version, list);
  }
  for (const list of byVersion.values()) list.sort((a, b) => b.number - a.number);
  return byVersion;
}

export async function generationsOf(base: string, version: string): Promise<Generation[]> {
  return (await allGenerations(base)).get(version) ?? [];
}

/**
 * The current generation: the highest one that verifies (every file and link as its manifest
 * says). With `quick`, the highest one with a readable manifest of this version (for Get/List).
 */
export async function currentGeneration(
  base: string,
  version: string,
  quick = false,
): Promise<{ generation: Generation; manifest: Manifest } | null> {
  for (const generation of await generationsOf(base, version)) {
    if (!generation.isDirectory) continue;
    if (quick) {
      const manifest = await readManifest(generation.path);
      if (manifest !== null && manifest.version === version) return { generation, manifest };
      continue;
    }
    const verdict = await verifyVolume(generation.path, version);
    if (verdict.complete) return { generation, manifest: verdict.manifest };
  }
  return null;
}

/**
 * Removes the generations of `version` other than `keep` (the current one) that no plugin
 * records as mounted. Judged and moved aside under the volumes lock; deleted after it.
 * Returns the names removed.
 */
export async function pruneGenerations(realDir: string, base: string, version: string, keep: string | null): Promise<string[]> {
  const doomed: string[] = [];
  const removed = await withVolumesLock(realDir, async () => {
    let mounted: Map<string, number>;
    try {
      mounted = await mountedGenerations(realDir);
    } catch {
      return []; // a mount state that cannot be read: delete nothing (a later run prunes)
    }
    const names: string[] = [];
    for (const generation of await generationsOf(base, version)) {
      if (generation.name === keep || (mounted.get(generation.name) ?? 0) > 0) continue;
      if (!generation.isDirectory) {
        await unlink(generation.path).catch(() => undefined); // a planted link or file: never followed
      } else {
        const aside = join(base, workName('old', version));
        await rename(generation.path, aside);
        doomed.push(aside);
      }
      names.push(generation.name);
    }
    return names;
  });
  for (const path of doomed) await rm(path, { recursive: true, force: true });
  return removed;
}
