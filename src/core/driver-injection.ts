// The two ways this project injects a host's driver into a container, as the files an image
// check overlays on the image: the CDI spec (`nvidia-volume cdi`: every library at its host path,
// its soname and dev links beside it and in the directory the host's linker finds it in) and the
// v1 driver volume at /usr/local/nvidia (nvidia-docker, the volume plugin). One source for the
// CDI spec builder, `nvidia-volume check` and the inspector, which reads the same facts from a
// host's `nvidia-volume discover --json`. Browser-safe.
import type { LoadedImage } from './image-types.js';
import { checkImage, type CheckReport, type DriverLib, type Injection } from './image-check.js';
import type { LegacyX86 } from './abi-rules.js';
import { rootedPath } from './rooted-path.js';
import { isDriverVersion, planVolumeLayout } from './volume-plan.js';

/** Where the v1 driver volume is mounted in the container. */
export const VOLUME_MOUNT = '/usr/local/nvidia';

/** A driver library as discovery reports it (DriverLibrary, or the same object read from JSON). */
export interface HostLibrary {
  path: string;
  name: string;
  soname: string | null;
  arch: string;
  bits: 32 | 64;
  cachePath: string | null;
  /** The directory (inside the root, resolved) where the host's linker finds it; see `linkerDirs`. */
  linkerDir?: string | null;
  /** GLIBC_x.y versions it needs from glibc (its .gnu.version_r); null when unreadable. */
  glibcNeeds?: string[] | null;
}

/** What the injections need of a discovery. */
export interface HostDriver {
  root: string;
  driverVersion: string | null;
  libraries: readonly HostLibrary[];
  binaries: readonly { name: string; path: string }[];
  /** The CPU containers run on, as discovery read it (the inspector's check uses it). */
  cpu?: HostCpu | null;
}

/** A CPU as the image check models it: its x86-64 ISA level and glibc < 2.37's platform and hwcaps. */
export interface HostCpu extends LegacyX86 {
  isaLevel: number;
}

/** Extra link names that programs open by name (the dev link `libcuda.so` for `dlopen("libcuda.so")`, the glvnd indirect GLX name). */
const EXTRA_LINKS: [sonamePrefix: string, link: string][] = [
  ['libcuda.so.', 'libcuda.so'],
  ['libnvidia-ml.so.', 'libnvidia-ml.so'],
  ['libnvidia-opticalflow.so.', 'libnvidia-opticalflow.so'],
  ['libGLX_nvidia.so.', 'libGLX_indirect.so.0'],
];

/** The directory of an absolute path (`/` for a file at the top). */
export const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

/** An absolute, normalized path with no `.`/`..` segments: anything else never reaches a spec. */
export function isCleanPath(path: string): boolean {
  return path.startsWith('/') && !path.includes('\0') && path.split('/').slice(1).every((s) => s !== '' && s !== '.' && s !== '..');
}

/** The link names a library needs in the container: its soname and the extra dev names. */
function linkNames(lib: HostLibrary): string[] {
  const names: string[] = [];
  if (lib.soname && lib.soname !== lib.name && !lib.soname.includes('/')) names.push(lib.soname);
  for (const [prefix, link] of EXTRA_LINKS) if (lib.soname?.startsWith(prefix)) names.push(link);
  return names;
}

/** The directory the host's linker found a library in (its cache entry's), resolved inside the root. */
function cacheDirOf(lib: HostLibrary, resolveDir: (dir: string) => string): string | null {
  return lib.cachePath && isCleanPath(lib.cachePath) ? resolveDir(dirOf(lib.cachePath)) : null;
}

/**
 * For each library (same order), the directory where the host's linker finds it: its cache
 * entry's directory, resolved inside the root; for libraries found beside others (no cache
 * entry), the directory most of their ABI's cache entries are in; for an ABI with no cache entry
 * at all, `fallback` (the root's default directory of the ABI). This is where CDI mounts sonames.
 */
export function linkerDirs(
  libraries: readonly HostLibrary[],
  resolveDir: (dir: string) => string,
  fallback?: (arch: string, bits: 32 | 64) => string | null,
): (string | null)[] {
  const counts = new Map<string, Map<string, number>>();
  for (const lib of libraries) {
    const dir = cacheDirOf(lib, resolveDir);
    if (!dir) continue;
    const perArch = counts.get(lib.arch) ?? new Map<string, number>();
    perArch.set(dir, (perArch.get(dir) ?? 0) + 1);
    counts.set(lib.arch, perArch);
  }
  const dirs = new Map<string, string>();
  for (const [arch, perArch] of counts) {
    dirs.set(arch, [...perArch].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0]);
  }
  for (const lib of libraries) {
    if (dirs.has(lib.arch) || !fallback) continue;
    const dir = fallback(lib.arch, lib.bits);
    if (dir && isCleanPath(dir)) dirs.set(lib.arch, dir);
  }
  return libraries.map((lib) => cacheDirOf(lib, resolveDir) ?? dirs.get(lib.arch) ?? null);
}

/** Where CDI mounts one library in the container, in claim order: its path, its links beside it, its names in its linker directory. */
export function cdiLibraryPaths(lib: HostLibrary, linkerDir: string | null): string[] {
  const paths = [lib.path];
  const ownDir = dirOf(lib.path);
  for (const name of linkNames(lib)) paths.push(`${ownDir}/${name}`);
  if (linkerDir && linkerDir !== ownDir) {
    const names = new Set([lib.soname && !lib.soname.includes('/') ? lib.soname : lib.name, ...linkNames(lib)]);
    for (const name of names) paths.push(`${linkerDir}/${name}`);
  }
  // libvdpau loads drivers by path from <libdir>/vdpau, not through the linker's search.
  if (linkerDir && lib.soname?.startsWith('libvdpau_')) paths.push(`${linkerDir}/vdpau/${lib.soname}`);
  return paths;
}

/** Each library's linker directory as discovery recorded it, or (for a discovery without them) from its unresolved cache path. */
function recordedLinkerDirs(host: HostDriver): (string | null)[] {
  if (host.libraries.every((l) => l.linkerDir !== undefined)) return host.libraries.map((l) => l.linkerDir ?? null);
  return linkerDirs(host.libraries, (dir) => dir);
}

/** The driver's libraries as the image check takes them, keyed by their file on the host. */
export function driverLibs(host: HostDriver): Map<string, DriverLib> {
  const libs = new Map<string, DriverLib>();
  for (const l of host.libraries) {
    const source = rootedPath(host.root, l.path);
    libs.set(source, { source, name: l.name, soname: l.soname, bits: l.bits, arch: l.arch, glibcNeeds: l.glibcNeeds ?? null });
  }
  return libs;
}

/** The library files the CDI spec this project writes mounts, by container path (the first claim of a path wins, as in the spec). */
export function cdiInjection(host: HostDriver, libs: Map<string, DriverLib> = driverLibs(host)): Injection {
  const dirs = recordedLinkerDirs(host);
  const claimed = new Set<string>();
  const files: Injection['overlay']['files'] = [];
  host.libraries.forEach((lib, i) => {
    const file = libs.get(rootedPath(host.root, lib.path));
    if (!file || !isCleanPath(lib.path)) return;
    for (const containerPath of cdiLibraryPaths(lib, dirs[i]!)) {
      if (!isCleanPath(containerPath) || claimed.has(containerPath)) continue;
      claimed.add(containerPath);
      files.push({ containerPath, file });
    }
  });
  return { name: 'cdi', label: 'CDI spec (nvidia-volume cdi)', overlay: { files, dirMounts: [] } };
}

/** The v1 driver volume mounted at /usr/local/nvidia (nvidia-docker, the plugin); null without a usable driver version. */
export function volumeInjection(host: HostDriver, libs: Map<string, DriverLib> = driverLibs(host)): Injection | null {
  if (!host.driverVersion || !isDriverVersion(host.driverVersion)) return null;
  const layout = planVolumeLayout(host, host.driverVersion);
  const byPath = new Map<string, DriverLib>();
  for (const f of layout.files) {
    const lib = libs.get(f.source);
    if (lib) byPath.set(f.path, lib);
  }
  const files = [...byPath].map(([path, file]) => ({ containerPath: `${VOLUME_MOUNT}/${path}`, file }));
  for (const link of layout.links) {
    const dir = link.path.slice(0, link.path.lastIndexOf('/'));
    const file = byPath.get(`${dir}/${link.target}`);
    if (file) files.push({ containerPath: `${VOLUME_MOUNT}/${link.path}`, file });
  }
  return { name: 'volume', label: `v1 driver volume at ${VOLUME_MOUNT} (nvidia-docker, the volume plugin)`, overlay: { files, dirMounts: [VOLUME_MOUNT] } };
}

export interface DriverCheckOptions {
  /** Which injections (default both; the volume needs a driver version). */
  injections?: readonly ('cdi' | 'volume')[];
  /** x86-64 ISA level (1-4) of the CPU the container runs on. */
  isaLevel: number;
  /** glibc < 2.37's x86-64 platform and hwcaps of that CPU (default: plain `x86_64`). */
  cpu?: LegacyX86;
  /** Run-time `KEY=VALUE` entries (`docker run -e`). */
  runEnv?: string[];
}

/** The image check of a loaded image against a host's driver, with both injections. */
export function checkImageWithDriver(image: LoadedImage, host: HostDriver, options: DriverCheckOptions): CheckReport {
  const libs = driverLibs(host);
  const wanted = options.injections ?? ['cdi', 'volume'];
  const injections: Injection[] = [];
  if (wanted.includes('cdi')) injections.push(cdiInjection(host, libs));
  const volume = wanted.includes('volume') ? volumeInjection(host, libs) : null;
  if (volume) injections.push(volume);
  return checkImage({
    names: image.names,
    config: image.config,
    tree: image.tree,
    driverVersion: host.driverVersion,
    libraries: [...libs.values()],
    injections,
    isaLevel: options.isaLevel,
    cpu: options.cpu,
    runEnv: options.runEnv,
  });
}
