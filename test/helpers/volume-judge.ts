// An independent judge of a driver volume: the volume directory is compared with the driver
// root's own files (what test/helpers/driver-root.ts recorded building), by inode for hard
// links and by bytes and mode for copies, never through the package's own manifest check.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriverRoot } from './driver-root.js';

export type VolumeVerdict = { state: 'absent' } | { state: 'complete'; linked: number; copied: number } | { state: 'incomplete'; problems: string[] };

const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(file)).digest('hex');

async function lstatOrNull(path: string): Promise<import('node:fs').Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Judges `volume` (`DIR/nvidia_driver/VERSION`) against `built`: every driver library (lib64/ or
 * lib/) and binary (bin/) is a regular file that is the root's own inode or a copy with the same
 * bytes and mode; each soname, `libcuda.so` and `libGLX_indirect.so.0` is a relative link to its
 * file; no other name is in bin/, lib64/ or lib/.
 */
export async function judgeVolume(volume: string, built: DriverRoot): Promise<VolumeVerdict> {
  if ((await lstatOrNull(volume)) === null) return { state: 'absent' };
  const problems: string[] = [];
  const expected = new Map<string, Set<string>>([['bin', new Set()], ['lib64', new Set()], ['lib', new Set()]]);
  let linked = 0;
  let copied = 0;
  const checkFile = async (dir: string, name: string, source: string): Promise<void> => {
    expected.get(dir)!.add(name);
    const placed = join(volume, dir, name);
    const info = await lstatOrNull(placed);
    if (info === null) return void problems.push(`${dir}/${name} is missing`);
    if (!info.isFile()) return void problems.push(`${dir}/${name} is not a regular file`);
    const original = await stat(join(built.root, source));
    if (info.ino === original.ino && info.dev === original.dev) {
      linked += 1;
      return;
    }
    if ((info.mode & 0o777) !== (original.mode & 0o777)) problems.push(`${dir}/${name} has mode ${(info.mode & 0o777).toString(8)}, the root's file ${(original.mode & 0o777).toString(8)}`);
    if (info.size !== original.size || (await sha(placed)) !== (await sha(join(built.root, source)))) problems.push(`${dir}/${name} differs from ${source}`);
    copied += 1;
  };
  const checkLink = async (dir: string, name: string, target: string): Promise<void> => {
    if (name === target) return;
    expected.get(dir)!.add(name);
    const path = join(volume, dir, name);
    const info = await lstatOrNull(path);
    if (info === null) return void problems.push(`link ${dir}/${name} is missing`);
    if (!info.isSymbolicLink() || (await readlink(path)) !== target) problems.push(`${dir}/${name} is not a link to ${target}`);
  };
  for (const lib of built.libraries) await checkFile(lib.bits === 64 ? 'lib64' : 'lib', lib.name, lib.path);
  for (const bin of built.binaries) await checkFile('bin', bin.name, bin.path);
  for (const lib of built.libraries) await checkLink(lib.bits === 64 ? 'lib64' : 'lib', lib.soname, lib.name);
  for (const [soname, extra] of [['libcuda.so.1', 'libcuda.so'], ['libGLX_nvidia.so.0', 'libGLX_indirect.so.0']] as const) {
    for (const bits of [64, 32] as const) {
      const lib = built.libraries.find((l) => l.soname === soname && l.bits === bits);
      if (lib) await checkLink(bits === 64 ? 'lib64' : 'lib', extra, lib.name);
    }
  }
  for (const [dir, names] of expected) {
    const present = (await lstatOrNull(join(volume, dir))) === null ? [] : await readdir(join(volume, dir));
    for (const name of present) if (!names.has(name)) problems.push(`${dir}/${name} is not a driver file of the root`);
  }
  return problems.length === 0 ? { state: 'complete', linked, copied } : { state: 'incomplete', problems };
}
