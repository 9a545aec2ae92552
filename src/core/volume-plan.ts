// What a driver volume holds, computed from a discovery without touching the disk:
// `bin/` (programs), `lib64/` (64-bit libraries), `lib/` (32-bit libraries), plus the soname
// links the dynamic linker and build tools look for. nvidia-docker v1's layout, with duplicate
// names resolved instead of failing the whole volume (its issue #186). Browser-safe: the volume
// code and the image check (CLI and inspector) share it.
import { rootedPath } from './rooted-path.js';

/** A file of the volume: `path` is relative to the version directory. */
export interface VolumeFile {
  path: string;
  /** The driver's file on this machine (root + path inside the root). */
  source: string;
  /** The same file's resolved path inside the root (`/usr/lib/…`): what `create` opens beneath the root. */
  inside: string;
}

/** A relative symlink of the volume, in the same directory as its target. */
export interface VolumeLink {
  path: string;
  target: string;
}

export interface VolumeLayout {
  version: string;
  /** The driver root (as discovery resolved it). */
  root: string;
  files: VolumeFile[];
  links: VolumeLink[];
  /** Entries left out, one line each (e.g. two different files with one name). */
  skipped: string[];
}

/** What the plan needs of a discovery. */
export interface VolumeSource {
  root: string;
  libraries: readonly { path: string; name: string; soname: string | null; bits: 32 | 64 }[];
  binaries: readonly { name: string; path: string }[];
}

/** Driver versions are digits and dots (`375.26`, `535.104.05`); nothing else may name a directory. */
export const VERSION_PATTERN = /^[0-9]{1,9}(\.[0-9]{1,9}){1,5}$/;

export function isDriverVersion(text: string): boolean {
  return VERSION_PATTERN.test(text);
}

/** A plain file name: no separator, not `.`/`..`, no NUL. */
function isPlainName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !/[/\0]/.test(name);
}

/** The volume of driver `version` (the caller has checked that the discovery holds a driver). */
export function planVolumeLayout(discovery: VolumeSource, version: string): VolumeLayout {
  if (!isDriverVersion(version)) throw new Error(`${discovery.root}: driver version '${version}' is not digits and dots`);

  const files: VolumeFile[] = [];
  const links: VolumeLink[] = [];
  const skipped: string[] = [];
  // Every name taken in each directory, files and links alike, so that nothing collides.
  const taken = new Map<string, string>();

  const addFile = (dir: string, name: string, inside: string): boolean => {
    const source = rootedPath(discovery.root, inside);
    if (!isPlainName(name)) {
      skipped.push(`${source}: unusable file name '${name}'`);
      return false;
    }
    const path = `${dir}/${name}`;
    const earlier = taken.get(path);
    if (earlier !== undefined) {
      if (earlier !== source) skipped.push(`${source}: ${path} already comes from ${earlier}`);
      return false;
    }
    taken.set(path, source);
    files.push({ path, source, inside });
    return true;
  };
  const addLink = (dir: string, name: string, target: string): void => {
    if (!isPlainName(name) || name === target) return;
    const path = `${dir}/${name}`;
    if (taken.has(path)) return; // a real file or an earlier link wins
    taken.set(path, target);
    links.push({ path, target });
  };

  for (const binary of discovery.binaries) {
    addFile('bin', binary.name, binary.path);
  }
  // Files first, links after: a link never shadows a file that a later library brings.
  const libraryDir = (bits: number): string => (bits === 64 ? 'lib64' : 'lib');
  for (const library of discovery.libraries) {
    addFile(libraryDir(library.bits), library.name, library.path);
  }
  for (const library of discovery.libraries) {
    const dir = libraryDir(library.bits);
    // Only the library that won its name gets links (a skipped duplicate does not).
    if (taken.get(`${dir}/${library.name}`) !== rootedPath(discovery.root, library.path)) continue;
    const soname = library.soname ?? library.name;
    if (soname !== library.name) addLink(dir, soname, library.name);
    // The development name (`-lcuda`) and the GLX indirect-rendering entry point, as v1 made them.
    if (soname.startsWith('libcuda.so')) addLink(dir, 'libcuda.so', library.name);
    if (soname.startsWith('libGLX_nvidia.so')) addLink(dir, 'libGLX_indirect.so.0', library.name);
  }

  files.sort((a, b) => a.path.localeCompare(b.path));
  links.sort((a, b) => a.path.localeCompare(b.path));
  return { version, root: discovery.root, files, links, skipped };
}
