// The findings panel of an image: what the image's linker would load for the driver's sonames.
// With a host's discovery JSON (`nvidia-volume discover --json`) loaded beside the image, its
// libraries are injected as `nvidia-volume check` injects them (the core's CDI and v1-volume
// builders, with each library's linker directory and needed GLIBC_ versions from the JSON), so
// the report is the CLI's; without one, a Debian/Ubuntu host is assumed (libcuda.so.1 and
// libnvidia-ml.so.1 in /usr/lib/x86_64-linux-gnu, CDI only), which still shows every library of
// the image that would win over an injected driver.
import { checkImageWithDriver, type HostCpu, type HostDriver, type HostLibrary } from '../core/driver-injection.js';
import { PLAIN_X86 } from '../core/abi-rules.js';
import type { LoadedImage } from '../core/image-types.js';
import type { CheckReport } from '../core/image-check.js';
import { h } from './dom.js';

/**
 * The CPU assumed when the host JSON does not say (the page cannot read a CPU): x86-64-v3 (every
 * AVX2 machine) and, for glibc < 2.37's legacy subdirectories, the plain `x86_64` platform.
 */
export const ASSUMED_CPU: HostCpu = { isaLevel: 3, ...PLAIN_X86 };

export type DiscoveryJson = HostDriver & { libraries: HostLibrary[]; binaries: { name: string; path: string }[] };

export function isDiscoveryJson(value: unknown): value is DiscoveryJson {
  if (typeof value !== 'object' || value === null || !('driverVersion' in value)) return false;
  const v = value as Partial<DiscoveryJson>;
  return typeof v.root === 'string' && Array.isArray(v.libraries) && Array.isArray(v.binaries) &&
    v.libraries.every((l) => typeof l === 'object' && l !== null && typeof l.path === 'string' && typeof l.name === 'string' && typeof l.arch === 'string' && (l.bits === 32 || l.bits === 64));
}

const ASSUMED_HOST: HostDriver = {
  root: '/',
  driverVersion: null,
  libraries: ['libcuda.so.1', 'libnvidia-ml.so.1'].map((soname) => ({
    path: `/usr/lib/x86_64-linux-gnu/${soname}`, name: soname, soname, bits: 64 as const, arch: 'x86-64',
    cachePath: `/usr/lib/x86_64-linux-gnu/${soname}`, linkerDir: '/usr/lib/x86_64-linux-gnu', glibcNeeds: null,
  })),
  binaries: [],
};

export function imageReport(image: LoadedImage, host: DiscoveryJson | null): CheckReport {
  const cpu = host?.cpu ?? ASSUMED_CPU;
  return checkImageWithDriver(image, host ?? ASSUMED_HOST, { isaLevel: cpu.isaLevel, cpu: { platform: cpu.platform, hwcaps: cpu.hwcaps } });
}

/** What the page says about the CPU it checked for. */
export function cpuText(host: DiscoveryJson | null): string {
  const cpu = host?.cpu ?? ASSUMED_CPU;
  const what = `x86-64-v${cpu.isaLevel}, platform ${cpu.platform} (hwcaps ${cpu.hwcaps.join(' ')})`;
  return host?.cpu ? `the host's CPU: ${what}` : `CPU assumed (the host file does not say): ${what}`;
}

export function renderImageFindings(target: HTMLElement, report: CheckReport, hostName: string | null, host: DiscoveryJson | null): void {
  const img = report.image;
  target.replaceChildren(
    h('div', { class: 'image-facts', 'data-testid': 'image-facts' },
      h('p', {}, h('strong', {}, `Image ${img.names.join(', ') || '(untagged)'}`), ` · ${img.os ?? '?'}/${img.architecture ?? '?'} · `,
        img.loader ? `glibc ${img.glibc ?? '?'} (${img.loader})` : img.musl ? `musl (${img.musl})` : 'no glibc dynamic linker'),
      h('p', { class: 'muted' }, `LD_LIBRARY_PATH: ${img.ldLibraryPath ?? '(not set)'} · default directories: ${img.defaultDirs.join(' ')}`),
      h('p', { class: 'muted' }, hostName ? `Driver ${report.driverVersion ?? '?'} from ${hostName}; ${cpuText(host)}` : 'No host loaded: assuming the driver is injected into /usr/lib/x86_64-linux-gnu (load a host\'s nvidia-volume discover --json beside the image for its own driver).'),
      h('p', { 'data-testid': 'image-verdict' }, h('strong', {}, report.ok ? 'The driver will load.' : 'The driver will NOT load.')),
    ),
    ...report.injections.flatMap((inj) => [
      h('h3', {}, `${inj.label}: ${inj.ok ? 'the driver loads' : 'the driver does NOT load'}`),
      h('table', { class: 'findings-table', 'data-testid': 'image-predictions', 'data-injection': inj.name },
        h('thead', {}, h('tr', {}, h('th', {}, 'soname'), h('th', {}, 'loads'), h('th', {}, 'found by'), h('th', {}, ''))),
        h('tbody', {}, ...inj.predictions.map((p) =>
          h('tr', { 'data-outcome': p.outcome }, h('td', { class: 'mono' }, `${p.soname} [${p.arch}]`), h('td', { class: 'mono' }, p.result.path ?? 'not found'), h('td', {}, p.result.via ?? ''), h('td', {}, p.outcome === 'driver' ? 'driver' : p.outcome === 'missing' ? 'MISSING' : 'WRONG FILE')))),
      ),
    ]),
    h('ul', { class: 'findings', 'data-testid': 'image-findings' }, ...report.findings.map((f) =>
      h('li', { 'data-severity': f.severity, 'data-code': f.code },
        h('strong', {}, `${f.severity} [${f.code}]`), ' ', f.message,
        h('ul', {}, ...f.evidence.map((e) => h('li', { class: 'mono' }, e)), h('li', {}, h('em', {}, 'fix: '), f.fix))))),
    h('details', { class: 'report-json' },
      h('summary', {}, 'The report as JSON (what nvidia-volume check --json prints)'),
      h('pre', { class: 'mono', 'data-testid': 'image-report-json' }, JSON.stringify(report, null, 2))),
  );
}
