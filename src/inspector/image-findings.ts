// The findings panel of an image: what the image's linker would load for the driver's sonames.
// With a host's discovery JSON (`nvidia-volume discover --json`) loaded beside the image, its
// libraries are mounted as the CDI spec mounts them (at their paths, plus the soname in the
// directory the host's cache named); without one, a Debian/Ubuntu host is assumed (libcuda.so.1 and
// libnvidia-ml.so.1 in /usr/lib/x86_64-linux-gnu), which still shows every library of the image
// that would win over an injected driver.
import type { LoadedImage } from '../core/image-archive.js';
import { checkImage, type CheckReport, type DriverLib, type Injection } from '../core/image-check.js';
import { h } from './dom.js';

interface DiscoveryJson {
  driverVersion: string | null;
  libraries: { path: string; name: string; soname: string | null; arch: string; bits: 32 | 64; cachePath: string | null }[];
}

export function isDiscoveryJson(value: unknown): value is DiscoveryJson {
  return typeof value === 'object' && value !== null && Array.isArray((value as DiscoveryJson).libraries) && 'driverVersion' in value;
}

const dirOf = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';

function injection(libs: DriverLib[], cachePaths: Map<string, string | null>): Injection {
  const files: Injection['overlay']['files'] = [];
  // As the CDI spec does: libraries found beside others (no cache entry) get their soname in the
  // directory most of their ABI's cache entries are in.
  const counts = new Map<string, Map<string, number>>();
  for (const lib of libs) {
    const cachePath = cachePaths.get(lib.source);
    if (!cachePath) continue;
    const perArch = counts.get(lib.arch) ?? new Map<string, number>();
    perArch.set(dirOf(cachePath), (perArch.get(dirOf(cachePath)) ?? 0) + 1);
    counts.set(lib.arch, perArch);
  }
  const archDir = (arch: string): string | undefined => [...(counts.get(arch) ?? [])].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  for (const lib of libs) {
    files.push({ containerPath: lib.source, file: lib });
    if (lib.soname && lib.soname !== lib.name) files.push({ containerPath: `${dirOf(lib.source)}/${lib.soname}`, file: lib });
    const cachePath = cachePaths.get(lib.source);
    const linkerDir = cachePath ? dirOf(cachePath) : archDir(lib.arch);
    if (lib.soname && linkerDir && linkerDir !== dirOf(lib.source)) files.push({ containerPath: `${linkerDir}/${lib.soname}`, file: lib });
  }
  return { name: 'cdi', label: 'CDI (files at their host paths, sonames in the host linker directory)', overlay: { files, dirMounts: [] } };
}

export function imageReport(image: LoadedImage, host: DiscoveryJson | null): CheckReport {
  let libs: DriverLib[];
  const cachePaths = new Map<string, string | null>();
  if (host) {
    libs = host.libraries.map((l) => ({ source: l.path, name: l.name, soname: l.soname, bits: l.bits, arch: l.arch, glibcNeeds: null }));
    for (const l of host.libraries) cachePaths.set(l.path, l.cachePath);
  } else {
    libs = ['libcuda.so.1', 'libnvidia-ml.so.1'].map((soname) => ({ source: `/usr/lib/x86_64-linux-gnu/${soname}`, name: soname, soname, bits: 64 as const, arch: 'x86-64', glibcNeeds: null }));
  }
  return checkImage({ names: image.names, config: image.config, tree: image.tree, driverVersion: host?.driverVersion ?? null, libraries: libs, injections: [injection(libs, cachePaths)], isaLevel: 3 });
}

export function renderImageFindings(target: HTMLElement, report: CheckReport, hostName: string | null): void {
  const img = report.image;
  const inj = report.injections[0];
  target.replaceChildren(
    h('div', { class: 'image-facts', 'data-testid': 'image-facts' },
      h('p', {}, h('strong', {}, `Image ${img.names.join(', ') || '(untagged)'}`), ` · ${img.os ?? '?'}/${img.architecture ?? '?'} · `,
        img.loader ? `glibc ${img.glibc ?? '?'} (${img.loader})` : img.musl ? `musl (${img.musl})` : 'no glibc dynamic linker'),
      h('p', { class: 'muted' }, `LD_LIBRARY_PATH: ${img.ldLibraryPath ?? '(not set)'} · default directories: ${img.defaultDirs.join(' ')}`),
      h('p', { class: 'muted' }, hostName ? `Driver ${report.driverVersion ?? '?'} from ${hostName}` : 'No host loaded: assuming the driver is injected into /usr/lib/x86_64-linux-gnu (load a host\'s nvidia-volume discover --json beside the image for its own driver).'),
      h('p', { 'data-testid': 'image-verdict' }, h('strong', {}, report.ok ? 'The driver will load.' : 'The driver will NOT load.')),
    ),
    h('table', { class: 'findings-table', 'data-testid': 'image-predictions' },
      h('thead', {}, h('tr', {}, h('th', {}, 'soname'), h('th', {}, 'loads'), h('th', {}, 'found by'), h('th', {}, ''))),
      h('tbody', {}, ...(inj?.predictions ?? []).map((p) =>
        h('tr', { 'data-outcome': p.outcome }, h('td', { class: 'mono' }, `${p.soname} [${p.arch}]`), h('td', { class: 'mono' }, p.result.path ?? 'not found'), h('td', {}, p.result.via ?? ''), h('td', {}, p.outcome === 'driver' ? 'driver' : p.outcome === 'missing' ? 'MISSING' : 'WRONG FILE')))),
    ),
    h('ul', { class: 'findings', 'data-testid': 'image-findings' }, ...report.findings.map((f) =>
      h('li', { 'data-severity': f.severity, 'data-code': f.code },
        h('strong', {}, `${f.severity} [${f.code}]`), ' ', f.message,
        h('ul', {}, ...f.evidence.map((e) => h('li', { class: 'mono' }, e)), h('li', {}, h('em', {}, 'fix: '), f.fix))))),
  );
}
