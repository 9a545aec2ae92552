// The manifest is the last file written into a volume before it is renamed into place. It lists
// every file (size, inode, how it was placed, the driver file it came from) and every link, so a
// later run can tell a complete, current volume from a damaged or outdated one without trusting
// the directory's mere existence (v1 did, and served broken volumes forever).
import type { Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { lstatOrNull, readSmallFile } from './volume-fs.js';
import type { VolumeLayout } from './volume-layout.js';
import { UNSAFE_MODE_BITS, type PlacementMethod } from './volume-link.js';

export const MANIFEST_NAME = '.nvidia-volume.json';
const FORMAT = 1;

export interface ManifestFile {
  path: string;
  source: string;
  method: PlacementMethod;
  size: number;
  mode: number;
  /** Inode of the file in the volume (the driver's inode when hard-linked). */
  ino: number;
  /** The driver file as it was when placed: a change means the driver was reinstalled. */
  sourceIno: number;
  sourceMtimeMs: number;
}

export interface Manifest {
  format: number;
  version: string;
  createdAt: string;
  files: ManifestFile[];
  links: Array<{ path: string; target: string }>;
}

/** A volume path is `bin|lib|lib64/<name>`: nothing in a manifest can point elsewhere. */
const VOLUME_PATH = /^(bin|lib|lib64)\/(?!\.\.?$)[^/\0]{1,255}$/;

export function manifestText(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 1)}\n`;
}

function isManifest(value: unknown): value is Manifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<Manifest>;
  return (
    m.format === FORMAT &&
    typeof m.version === 'string' &&
    typeof m.createdAt === 'string' &&
    Array.isArray(m.files) &&
    Array.isArray(m.links) &&
    m.files.every(
      (f) =>
        typeof f === 'object' && f !== null && typeof f.path === 'string' && VOLUME_PATH.test(f.path) &&
        typeof f.source === 'string' && typeof f.size === 'number' && typeof f.ino === 'number' &&
        typeof f.sourceIno === 'number' && typeof f.sourceMtimeMs === 'number' && typeof f.mode === 'number',
    ) &&
    m.links.every((l) => typeof l === 'object' && l !== null && typeof l.path === 'string' && VOLUME_PATH.test(l.path) && typeof l.target === 'string')
  );
}

export function newManifest(version: string, files: ManifestFile[], links: Array<{ path: string; target: string }>): Manifest {
  return { format: FORMAT, version, createdAt: new Date().toISOString(), files, links };
}

/** Reads the manifest of a version directory; null when absent or unreadable as one. */
export async function readManifest(versionDir: string): Promise<Manifest | null> {
  let text: string | null;
  try {
    text = await readSmallFile(join(versionDir, MANIFEST_NAME));
  } catch {
    return null;
  }
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isManifest(value) ? value : null;
  } catch {
    return null;
  }
}

export type Verdict = { complete: true; manifest: Manifest } | { complete: false; reason: string };

/**
 * Checks a version directory against its manifest: every file present with its size and inode,
 * every link with its target. With `layout`, also that the volume holds exactly what the driver
 * would give now and that no driver file was replaced since.
 */
export async function verifyVolume(versionDir: string, version: string, layout?: VolumeLayout): Promise<Verdict> {
  const dirInfo = await lstatOrNull(versionDir);
  if (dirInfo === null) return { complete: false, reason: 'absent' };
  if (!dirInfo.isDirectory()) return { complete: false, reason: 'not a directory' };
  const manifest = await readManifest(versionDir);
  if (manifest === null) return { complete: false, reason: `no valid ${MANIFEST_NAME}` };
  if (manifest.version !== version) return { complete: false, reason: `manifest is for version ${manifest.version}` };

  for (const file of manifest.files) {
    const info = await lstatOrNull(join(versionDir, file.path));
    if (info === null || !info.isFile()) return { complete: false, reason: `${file.path} is missing` };
    if (info.size !== file.size || info.ino !== file.ino) return { complete: false, reason: `${file.path} changed` };
    // A hard-linked driver file chmod-ed since (u+s, o+w) shows that mode in the volume: rebuild (as a copy).
    if ((info.mode & UNSAFE_MODE_BITS) !== 0) return { complete: false, reason: `${file.path} has mode ${(info.mode & 0o7777).toString(8)} now (setuid, setgid or writable by others)` };
  }
  for (const link of manifest.links) {
    let target: string;
    try {
      target = await readlink(join(versionDir, link.path));
    } catch {
      return { complete: false, reason: `link ${link.path} is missing` };
    }
    if (target !== link.target) return { complete: false, reason: `link ${link.path} points elsewhere` };
  }
  if (layout === undefined) return { complete: true, manifest };

  const planned = new Map(layout.files.map((f) => [f.path, f.source]));
  if (planned.size !== manifest.files.length || manifest.files.some((f) => planned.get(f.path) !== f.source)) {
    return { complete: false, reason: 'the driver files differ from the volume' };
  }
  const plannedLinks = new Map(layout.links.map((l) => [l.path, l.target]));
  if (plannedLinks.size !== manifest.links.length || manifest.links.some((l) => plannedLinks.get(l.path) !== l.target)) {
    return { complete: false, reason: 'the driver links differ from the volume' };
  }
  for (const file of manifest.files) {
    const source = await lstatOrNull(file.source);
    if (source === null || source.ino !== file.sourceIno || source.mtimeMs !== file.sourceMtimeMs) {
      return { complete: false, reason: `${file.source} was replaced since the volume was built` };
    }
  }
  return { complete: true, manifest };
}

/** Describes a placed file for the manifest, from the placed file's and the opened driver file's stat. */
export function describePlaced(path: string, source: string, method: PlacementMethod, placed: Stats, sourceStats: Stats): ManifestFile {
  return {
    path,
    source,
    method,
    size: placed.size,
    mode: placed.mode & 0o7777,
    ino: placed.ino,
    sourceIno: sourceStats.ino,
    sourceMtimeMs: sourceStats.mtimeMs,
  };
}
