// "Will this image see the driver?": for each driver soname and each way of injecting the
// driver, which file the image's dynamic linker loads, and every problem found on the way, each
// with its severity, evidence and fix. Browser-safe: the caller supplies the image tree and
// config, the driver's libraries and what each injection mounts.
import type { ImageConfig } from './image-types.js';
import type { ImageTree } from './image-tree.js';
import { abiRules, type LegacyX86 } from './abi-rules.js';
import { ContainerView, type MountedFile, type Overlay } from './container-view.js';
import { findLibrary, imageEnv, linkerFacts, type LinkerFacts, type LinkResult } from './image-linker.js';
import { compareVersions, libraryStem, versionInName } from './nvidia-libraries.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable identifier: `stub-libcuda`, `compat-libcuda`, `other-driver`, `not-found`, `musl`, `old-glibc`, … */
  code: string;
  /** Which injection it concerns (`cdi`, `volume`), or null for the image itself. */
  injection: string | null;
  message: string;
  evidence: string[];
  fix: string;
}

export interface DriverLib extends MountedFile {
  /** GLIBC_x.y versions the library needs from libc (its .gnu.version_r), when known. */
  glibcNeeds: string[] | null;
}

export interface Injection {
  /** `cdi` or `volume`. */
  name: string;
  label: string;
  overlay: Overlay;
  /** Environment the injection adds (the image's own comes first; these override). */
  env?: string[];
}

export interface SonamePrediction {
  soname: string;
  arch: string;
  /** The driver's file for it. */
  expected: string;
  result: LinkResult;
  /** `driver` (the injected file), `image` (a file of the image), `missing`. */
  outcome: 'driver' | 'image' | 'missing';
}

export interface InjectionReport {
  name: string;
  label: string;
  predictions: SonamePrediction[];
  ok: boolean;
}

export interface CheckReport {
  image: { names: string[]; architecture: string | null; os: string | null; glibc: string | null; loader: string | null; musl: string | null; defaultDirs: string[]; ldLibraryPath: string | null; ldLibraryPathFrom: 'image' | 'run' | null; runEnv: string[] };
  driverVersion: string | null;
  injections: InjectionReport[];
  findings: Finding[];
  /** True when, for every injection checked, every primary-ABI driver library loads. */
  ok: boolean;
}

export interface CheckInput {
  names: string[];
  config: ImageConfig;
  tree: ImageTree;
  driverVersion: string | null;
  libraries: DriverLib[];
  injections: Injection[];
  /** x86-64 ISA level of the CPU the container runs on (1-4). */
  isaLevel: number;
  /** The x86-64 platform and hwcaps glibc < 2.37 derives from that CPU (default: plain `x86_64`). */
  cpu?: LegacyX86;
  /** `KEY=VALUE` entries given at run time (`docker run -e`): each replaces the image config's KEY. */
  runEnv?: string[];
}

const GOARCH: Record<string, string> = { amd64: 'x86-64', '386': 'i386', arm64: 'aarch64' };

function classify(path: string, driverVersion: string | null): { code: string; what: string } {
  const version = versionInName(path.slice(path.lastIndexOf('/') + 1));
  if (/\/stubs?\//.test(path)) return { code: 'stub-library', what: 'a CUDA toolkit stub' };
  if (/\/compat\//.test(path) || /cuda-compat/.test(path)) return { code: 'compat-library', what: `a CUDA forward-compatibility copy${version ? ` (version ${version})` : ''}` };
  if (version && driverVersion && version !== driverVersion) return { code: 'other-driver', what: `another driver's copy (version ${version}, the host runs ${driverVersion})` };
  return { code: 'image-library', what: `a copy baked into the image${version ? ` (version ${version})` : ''}` };
}

function fixFor(result: LinkResult, facts: LinkerFacts): string {
  if (result.via === 'LD_LIBRARY_PATH') return `remove ${result.path} from the image, or take ${result.detail} out of LD_LIBRARY_PATH (${facts.llpRaw !== null && facts.llpRaw.length > 200 ? `${facts.llpRaw.slice(0, 200)}…` : facts.llpRaw})`;
  if (result.via === 'ld.so.cache') return `remove ${result.realPath} from the image and run ldconfig in it (or drop its directory from ld.so.conf and run ldconfig)`;
  return `remove ${result.realPath} from the image`;
}

function describeResult(r: LinkResult): string {
  if (r.path === null) return 'not found';
  return `${r.path}${r.realPath !== r.path ? ` (-> ${r.realPath})` : ''} via ${r.via}${r.via === 'ld.so.cache' ? ` entry ${r.detail}` : ` ${r.detail}`}`;
}

export function checkImage(input: CheckInput): CheckReport {
  const findings: Finding[] = [];
  const add = (f: Finding): void => {
    if (!findings.some((o) => o.code === f.code && o.message === f.message && o.injection === f.injection)) findings.push(f);
  };
  const imageArch = GOARCH[input.config.architecture ?? ''] ?? input.config.architecture ?? null;
  const libs = input.libraries.filter((l) => l.soname);
  const archs = [...new Set(libs.map((l) => l.arch))];
  const primary = imageArch && archs.includes(imageArch) ? imageArch : (libs.find((l) => l.bits === 64)?.arch ?? archs[0] ?? 'x86-64');
  const primaryRules = abiRules(primary, input.isaLevel, input.cpu);
  // The run-time entries come last: imageEnv takes the last KEY=, as the engine's replacement leaves it.
  const runEnv = input.runEnv ?? [];
  const baseEnv = [...input.config.env, ...runEnv];

  if (imageArch && libs.length > 0 && !archs.includes(imageArch)) {
    add({ severity: 'error', code: 'architecture', injection: null, message: `the image is ${input.config.architecture}, the driver's libraries are ${archs.join(', ')}`, evidence: [`image config architecture: ${input.config.architecture}`], fix: 'run an image built for the host\'s architecture' });
  }

  const primaryFacts = primaryRules ? linkerFacts(input.tree, baseEnv, primaryRules) : null;
  if (primaryFacts && !primaryFacts.loader) {
    if (primaryFacts.musl) {
      add({ severity: 'error', code: 'musl', injection: null, message: `a musl image (${primaryFacts.musl}): NVIDIA's driver libraries are built for glibc and cannot be loaded by musl's linker`, evidence: [`${primaryFacts.musl} exists, ${primaryRules!.interpreter} does not`], fix: 'use a glibc-based image (Debian, Ubuntu, UBI, …) for GPU work, or add glibc to it (e.g. a glibc compatibility layer is not enough for the driver)' });
    } else {
      add({ severity: 'error', code: 'no-glibc', injection: null, message: `no glibc dynamic linker in the image (${primaryRules!.interpreter}): dynamically linked GPU programs cannot run`, evidence: [`${primaryRules!.interpreter}: not found`], fix: 'use an image with glibc (a distroless "base"/"cc" or a distribution image, not "static")' });
    }
  }
  if (primaryFacts && primaryFacts.llpDropped > 0) {
    add({ severity: 'warning', code: 'long-ld-library-path', injection: null, message: `LD_LIBRARY_PATH lists ${primaryFacts.llp.length + primaryFacts.llpDropped} distinct directories; only the first ${primaryFacts.llp.length} are checked`, evidence: [`LD_LIBRARY_PATH: ${primaryFacts.llp.length + primaryFacts.llpDropped} distinct directories`], fix: 'shorten LD_LIBRARY_PATH' });
  }
  if (primaryFacts?.cacheUnread) {
    add({ severity: 'warning', code: 'unread-cache', injection: null, message: `the image's /etc/ld.so.cache leads to ${primaryFacts.cacheUnread}, which this check does not read (only files named ld.so.cache are kept from the layers); the loader does read it, so what it finds through the cache is not predicted`, evidence: [`/etc/ld.so.cache -> ${primaryFacts.cacheUnread}`], fix: 'make /etc/ld.so.cache a regular file (run ldconfig in the image) to have it checked' });
  }
  if (primaryFacts?.cacheProblem) {
    add({ severity: 'warning', code: 'bad-cache', injection: null, message: `the image's /etc/ld.so.cache cannot be read (${primaryFacts.cacheProblem}); the loader ignores it`, evidence: ['/etc/ld.so.cache'], fix: 'run ldconfig in the image' });
  }
  // glibc versions the driver's libraries need.
  if (primaryFacts?.glibc) {
    for (const lib of libs) {
      if (lib.arch !== primary || !lib.glibcNeeds) continue;
      const missing = lib.glibcNeeds.filter((v) => /^GLIBC_\d+\.\d+/.test(v) && compareVersions(v.slice(6), primaryFacts.glibc!) > 0);
      if (missing.length > 0) {
        add({ severity: 'error', code: 'old-glibc', injection: null, message: `${lib.name} needs ${missing.join(', ')}; the image's glibc is ${primaryFacts.glibc}`, evidence: [`${lib.source}: .gnu.version_r needs ${missing.join(', ')} from libc.so.6`, `${primaryFacts.libc}: glibc ${primaryFacts.glibc}`], fix: `use an image with glibc ${missing.map((m) => m.slice(6)).sort(compareVersions).at(-1)} or newer, or a driver built for older glibc` });
      }
    }
  }
  const volumeLabel = input.config.labels['com.nvidia.volumes.needed'];
  if (volumeLabel !== undefined) {
    add({ severity: 'info', code: 'v1-label', injection: 'volume', message: `the image asks for nvidia-docker v1's driver volume (label com.nvidia.volumes.needed=${volumeLabel})`, evidence: [`label com.nvidia.volumes.needed=${volumeLabel}`], fix: 'nothing to do: nvidia-docker (this project) mounts the volume at /usr/local/nvidia; CDI ignores the label' });
  }

  const reports: InjectionReport[] = [];
  for (const injection of input.injections) {
    const view = new ContainerView(input.tree, injection.overlay);
    const env = [...baseEnv, ...(injection.env ?? [])];
    const predictions: SonamePrediction[] = [];
    let ok = true;
    const seen = new Set<string>();
    for (const arch of archs) {
      const rules = abiRules(arch, input.isaLevel, input.cpu);
      if (!rules) continue;
      const facts = arch === primary && !injection.env ? primaryFacts! : linkerFacts(input.tree, env, rules);
      const isPrimary = arch === primary;
      if (!isPrimary && !facts.loader) {
        add({ severity: 'warning', code: 'no-32bit', injection: null, message: `${arch} driver libraries would be injected, but the image has no ${arch} dynamic linker (${rules.interpreter}): only ${primary} programs can use the driver`, evidence: [`${rules.interpreter}: not found`, `${libs.filter((l) => l.arch === arch).length} ${arch} driver libraries`], fix: `install the ${arch} C library in the image (Debian: dpkg --add-architecture i386 && apt-get install libc6:i386) if 32-bit programs need the GPU` });
      }
      for (const lib of libs) {
        if (lib.arch !== arch || seen.has(`${arch}:${lib.soname}`)) continue;
        seen.add(`${arch}:${lib.soname}`);
        // Where the injection put this library (the soname mount, else the file).
        const placed = injection.overlay.files.filter((f) => f.file.source === lib.source).map((f) => f.containerPath);
        const result = findLibrary(view, facts, rules, lib.soname!);
        const outcome: SonamePrediction['outcome'] = result.path === null ? 'missing' : result.mounted && result.mounted.source === lib.source ? 'driver' : 'image';
        predictions.push({ soname: lib.soname!, arch, expected: placed[0] ?? lib.source, result, outcome });
        const evidence = [`loads: ${describeResult(result)}`, ...result.notes];
        if (placed.length > 0) evidence.push(`${injection.name === 'cdi' ? 'CDI mounts' : 'the volume has'} the driver's file at ${placed.join(', ')}`);
        const severity: Severity = isPrimary ? 'error' : 'warning';
        if (!facts.loader) continue; // reported once above (musl, no glibc, no 32-bit loader)
        if (outcome === 'image') {
          const { code, what } = classify(result.realPath ?? result.path!, input.driverVersion);
          const stem = libraryStem(lib.soname!) ?? lib.soname!;
          const effect = code === 'stub-library' && stem === 'libcuda'
            ? ' (CUDA fails with "CUDA driver is a stub library" / CUDA_ERROR_STUB_LIBRARY)'
            : code === 'compat-library' ? ' (works only on data-center GPUs with a supported driver branch; else error 803/804)'
            : stem === 'libnvidia-ml' ? ' (NVML fails with "Driver/library version mismatch")' : '';
          const compatNewer = code === 'compat-library' && input.driverVersion && versionInName(result.realPath ?? '') && compareVersions(versionInName(result.realPath ?? '')!, input.driverVersion) > 0;
          add({
            severity: code === 'compat-library' && compatNewer ? 'warning' : severity,
            code,
            injection: injection.name,
            message: `${lib.soname} (${arch}): the image's ${result.realPath} wins over the injected driver: ${what}${effect}`,
            evidence,
            fix: fixFor(result, facts),
          });
          if (isPrimary) ok = false; // whatever its severity, the driver's own file is not what loads
        } else if (outcome === 'missing') {
          const dirs = [...new Set(placed.map((p) => p.slice(0, p.lastIndexOf('/'))))];
          add({
            severity,
            code: 'not-searched',
            injection: injection.name,
            message: `${lib.soname} (${arch}): the image's linker never finds it: ${dirs.join(', ') || 'its directory'} is not on LD_LIBRARY_PATH, in the image's ld.so.cache or among its default directories (${facts.defaultDirs.join(', ')})`,
            evidence,
            fix: `set LD_LIBRARY_PATH=${dirs.join(':')} in the image (or at run time), or run ldconfig in the container after the driver is mounted`,
          });
          if (isPrimary) ok = false;
        }
      }
    }
    reports.push({ name: injection.name, label: injection.label, predictions, ok: ok && !findings.some((f) => f.severity === 'error' && f.injection === null) });
  }
  const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  return {
    image: {
      names: input.names,
      architecture: input.config.architecture,
      os: input.config.os,
      glibc: primaryFacts?.glibc ?? null,
      loader: primaryFacts?.loader ?? null,
      musl: primaryFacts?.musl ?? null,
      defaultDirs: primaryFacts?.defaultDirs ?? [],
      ldLibraryPath: imageEnv(baseEnv, 'LD_LIBRARY_PATH'),
      ldLibraryPathFrom: imageEnv(runEnv, 'LD_LIBRARY_PATH') !== null ? 'run' : imageEnv(input.config.env, 'LD_LIBRARY_PATH') !== null ? 'image' : null,
      runEnv,
    },
    driverVersion: input.driverVersion,
    injections: reports,
    findings,
    ok: reports.length > 0 && reports.every((r) => r.ok),
  };
}
