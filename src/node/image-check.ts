// `nvidia-volume check --image`: the host's (or a root's) driver as discovery finds it, the two
// ways this project injects it (the CDI spec it writes; the v1 volume at /usr/local/nvidia), and
// the core's prediction of what the image's linker loads with each.
import { readFileSync } from 'node:fs';
import { checkImage, type CheckReport, type DriverLib, type Injection } from '../core/image-check.js';
import { PLAIN_X86, type LegacyX86 } from '../core/image-linker.js';
import type { LoadedImage } from '../core/image-archive.js';
import { buildCdiSpec } from './cdi-build.js';
import { defaultLinkerDir } from './cdi-linker-dirs.js';
import type { DriverDiscovery, DriverLibrary } from './discovery-types.js';
import { readElfVersionsInRoot } from './elf-versions-file.js';
import { hostPath, RootFs } from './rootfs.js';
import { planVolume } from './volume-layout.js';

export const VOLUME_MOUNT = '/usr/local/nvidia';

/** The first CPU's vendor and flags from /proc/cpuinfo, or null when it cannot be read. */
function cpuinfoOf(cpuinfo: string): { vendor: string; flags: Set<string> } | null {
  try {
    const lines = readFileSync(cpuinfo, 'utf8').split('\n');
    const field = (name: string): string => lines.find((l) => l.startsWith(name))?.split(':')[1]?.trim() ?? '';
    return { vendor: field('vendor_id'), flags: new Set(field('flags').split(/\s+/)) };
  } catch {
    return null;
  }
}

/**
 * The platform and hwcaps a glibc 2.26-2.36 loader derives on this machine's CPU
 * (sysdeps/x86/cpu-features.c): only Intel CPUs get `xeon_phi` (AVX-512 CD, ER, PF), `avx512_1`
 * (AVX-512 CD, BW, DQ, VL without ER) and `haswell` (AVX2, FMA, BMI1, BMI2, LZCNT, MOVBE, POPCNT);
 * every other CPU keeps AT_PLATFORM, `x86_64`. Linux clears the AVX flags it cannot save, as
 * glibc's "usable" checks do.
 */
export function hostLegacyX86(cpuinfo = '/proc/cpuinfo'): LegacyX86 {
  const info = cpuinfoOf(cpuinfo);
  if (!info || info.vendor !== 'GenuineIntel') return PLAIN_X86;
  const all = (names: string[]): boolean => names.every((n) => info.flags.has(n));
  const hwcaps = ['x86_64'];
  let platform: string | null = null;
  if (all(['avx512f', 'avx512cd'])) {
    if (info.flags.has('avx512er')) {
      if (info.flags.has('avx512pf')) platform = 'xeon_phi';
    } else if (all(['avx512bw', 'avx512dq', 'avx512vl'])) hwcaps.push('avx512_1');
  }
  // lzcnt shows as `abm` in /proc/cpuinfo.
  if (platform === null && all(['avx2', 'fma', 'bmi1', 'bmi2', 'abm', 'movbe', 'popcnt'])) platform = 'haswell';
  return { platform: platform ?? 'x86_64', hwcaps };
}

/** The x86-64 ISA level (1-4) of this machine's CPU, from /proc/cpuinfo's flags, as glibc defines the levels. */
export function hostIsaLevel(cpuinfo = '/proc/cpuinfo'): number {
  const flags = cpuinfoOf(cpuinfo)?.flags;
  if (!flags) return 1;
  const all = (names: string[]): boolean => names.every((n) => flags.has(n));
  if (!all(['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'])) return 1;
  if (!all(['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'])) return 2;
  if (!all(['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'])) return 3;
  return 4;
}

function driverLib(discovery: DriverDiscovery, fs: RootFs, lib: DriverLibrary): DriverLib {
  const source = hostPath(discovery.root, lib.path);
  let glibcNeeds: string[] | null = null;
  try {
    glibcNeeds = readElfVersionsInRoot(fs, lib.path).needed.filter((n) => n.file.startsWith('libc.so') || n.file.startsWith('libm.so') || n.file.startsWith('libpthread') || n.file.startsWith('libdl')).map((n) => n.version);
  } catch {
    glibcNeeds = null;
  }
  return { source, name: lib.name, soname: lib.soname, bits: lib.bits, arch: lib.arch, glibcNeeds };
}

/** The files the CDI spec this project writes mounts, by container path. */
export function cdiInjection(discovery: DriverDiscovery, libs: Map<string, DriverLib>): Injection {
  const fs = new RootFs(discovery.root);
  const { spec } = buildCdiSpec(discovery, {
    resolveDir: (dir) => fs.tryResolve(dir)?.path ?? dir,
    defaultLinkerDir: (arch, bits) => defaultLinkerDir(fs, arch, bits),
  });
  const mounts = [...(spec.containerEdits?.mounts ?? []), ...spec.devices.flatMap((d) => d.containerEdits.mounts ?? [])];
  const files = mounts.flatMap((m) => {
    const file = libs.get(m.hostPath);
    return file ? [{ containerPath: m.containerPath, file }] : [];
  });
  return { name: 'cdi', label: 'CDI spec (nvidia-volume cdi)', overlay: { files, dirMounts: [] } };
}

/** The v1 driver volume mounted at /usr/local/nvidia (nvidia-docker, the plugin). */
export function volumeInjection(discovery: DriverDiscovery, libs: Map<string, DriverLib>): Injection {
  const layout = planVolume(discovery);
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

export interface CheckOptions {
  injections?: ('cdi' | 'volume')[];
  isaLevel?: number;
  /** glibc < 2.37's x86-64 platform and hwcaps (default: this machine's). */
  cpu?: LegacyX86;
  /** Run-time `KEY=VALUE` entries (`docker run -e`). */
  runEnv?: string[];
}

export function checkLoadedImage(image: LoadedImage, discovery: DriverDiscovery, options: CheckOptions = {}): CheckReport {
  const libs = new Map<string, DriverLib>();
  const fs = new RootFs(discovery.root);
  for (const lib of discovery.libraries) libs.set(hostPath(discovery.root, lib.path), driverLib(discovery, fs, lib));
  const wanted = options.injections ?? ['cdi', 'volume'];
  const injections: Injection[] = [];
  if (wanted.includes('cdi')) injections.push(cdiInjection(discovery, libs));
  if (wanted.includes('volume') && discovery.driverVersion) injections.push(volumeInjection(discovery, libs));
  return checkImage({
    names: image.names,
    config: image.config,
    tree: image.tree,
    driverVersion: discovery.driverVersion,
    libraries: [...libs.values()],
    injections,
    isaLevel: options.isaLevel ?? hostIsaLevel(),
    cpu: options.cpu ?? hostLegacyX86(),
    runEnv: options.runEnv,
  });
}
