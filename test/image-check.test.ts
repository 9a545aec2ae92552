// `nvidia-volume check --image`: the prediction against what really happens. Images are built
// from real parts (this machine's glibc 2.36, Debian 11's libc6 2.31 and Debian's musl, both
// fetched with `apt-get download` and a private apt state; a static busybox; caches written by
// the real ldconfig), loaded into a private Docker 20.10 and Podman, and saved again; the check
// reads those saves. Then each image runs with the driver of a test root: the v1 volume through
// the volume plugin on dockerd, and the CDI spec on Podman and on Docker 26 (Debian 13's engine,
// `--device nvidia.com/gpu=all`). Two images put libraries only in glibc's legacy hwcaps
// subdirectories (`x86_64/`, `haswell/` of an LD_LIBRARY_PATH element, `tls/` of a cached
// directory), one with Debian 11's glibc 2.31 and one with this machine's 2.36; and two runs add
// `-e LD_LIBRARY_PATH=…` as `check --env` does. In the container a gcc-built probe
// whose DT_NEEDED lists every 64-bit driver soname is started under the image's own loader in
// trace mode (LD_TRACE_LOADED_OBJECTS=1, LD_WARN=yes: the file each soname resolved to, and
// version errors), and busybox sha256sum tells whose file it is. Predicted = observed for every
// soname, every image and both injections, failing ones included.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPluginProcess } from './helpers/plugin-process.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { dockerdSkipReason, runCommand, startDockerd, type PrivateDockerd } from './helpers/dockerd.js';
import { createPodman, dockerArchive, layerTar, podmanImageSkipReason, stage, which, type Podman, type Spec } from './helpers/image-build.js';
import { debianDownload } from './helpers/debian-debs.js';
import { describeNeeding } from './helpers/requirements.js';
import { docker26SkipReason, startDocker26 } from './helpers/docker26.js';
import { abiRules } from '../src/core/abi-rules.js';
import { loaderDefaultDirs, searchSubdirs } from '../src/core/image-linker.js';
import { hostIsaLevel, hostLegacyX86 } from '../src/node/host-cpu.js';
import { buildExecutable, buildSharedObject, runLdconfig } from './helpers/so-builder.js';

const repo = resolve(import.meta.dirname, '..');
const nvidiaVolume = join(repo, 'bin/nvidia-volume.js');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'image-check-'));
const pluginName = `nvidia-image-check-${process.pid}`;
const BUSYBOX_APPLETS = ['sh', 'sha256sum', 'cat', 'echo', 'ls', 'test'];

const skipReason = (await dockerdSkipReason()) ?? podmanImageSkipReason() ?? (which('apt-get') ? undefined : 'apt-get is needed to fetch Debian 11 libc6 and musl') ?? (await docker26SkipReason());

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A staging dir with the image's files, its cache written by the real ldconfig -r, as one layer tar. */
function imageLayer(name: string, files: Record<string, Spec>, deb?: string, cache = true): string {
  const dir = stage(work, files);
  if (deb) expect(spawnSync('dpkg-deb', ['-x', deb, dir]).status).toBe(0);
  if (cache) {
    const ldconfig = runLdconfig(['-r', dir]);
    expect(ldconfig.status, ldconfig.stderr.toString()).toBe(0);
  }
  return layerTar(dir, join(work, `${name}.tar`));
}

interface Observed {
  /** soname -> path the loader reports, or null (not found). */
  paths: Map<string, string | null>;
  /** path -> sha256 of the file in the container. */
  hashes: Map<string, string>;
  versionErrors: string[];
  ran: boolean;
  raw: string;
}

const SCRIPT = 'LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes /probe > /tmp/t 2>&1; echo "::rc=$?"; cat /tmp/t; ' +
  'while read n a p rest; do if [ "$a" = "=>" ] && [ -f "$p" ]; then sha256sum "$p"; fi; done < /tmp/t';

function parseObserved(out: string, sonames: string[]): Observed {
  const paths = new Map<string, string | null>();
  const hashes = new Map<string, string>();
  const versionErrors: string[] = [];
  for (const line of out.split('\n')) {
    const t = /^\t(\S+) => (?:not found|(\/\S+) \(0x[0-9a-f]+\))$/.exec(line);
    if (t) paths.set(t[1]!, t[2] ?? null);
    const h = /^([0-9a-f]{64})\s+(\/\S+)$/.exec(line);
    if (h) hashes.set(h[2]!, h[1]!);
    if (/version `[^']+' not found/.test(line)) versionErrors.push(line);
  }
  const ran = sonames.every((s) => paths.has(s));
  return { paths, hashes, versionErrors, ran, raw: out };
}

interface Prediction {
  soname: string;
  arch: string;
  outcome: 'driver' | 'image' | 'missing';
  result: { path: string | null };
}
interface Report {
  ok: boolean;
  image: { glibc: string | null; loader: string | null; musl: string | null };
  injections: { name: string; ok: boolean; predictions: Prediction[] }[];
  findings: { severity: string; code: string; injection: string | null; message: string }[];
}

describeNeeding('prediction = observation (Docker 20.10 + volume plugin, Podman + CDI, Docker 26 + CDI)', skipReason, () => {
  let built: DriverRoot;
  let dockerd: PrivateDockerd;
  let docker26: PrivateDockerd | undefined;
  let podman: Podman;
  let plugin: ChildProcess | null = null;
  let sonames: string[] = [];
  const driverHash = new Map<string, string>(); // soname -> sha256 of the driver's file
  const images: { tag: string; layers: string[]; config?: { Env?: string[]; Labels?: Record<string, string> } }[] = [];
  const specDir = join(work, 'cdi');
  let debs = new Map<string, string>();

  beforeAll(async () => {
    mkdirSync(specDir);
    // Each handle is kept as soon as it exists, so that afterAll stops every engine that started.
    const started = await Promise.allSettled([
      buildDriverRoot({ dir: work, devices: false }).then((b) => (built = b)),
      startDockerd().then((d) => (dockerd = d)),
      startDocker26({ cdiSpecDirs: [specDir] }).then((d) => (docker26 = d)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    // libnvidia-ml really linked against glibc: it needs GLIBC_2.34 (dlopen), as drivers built on new distributions do.
    const nvml = built.libraries.find((l) => l.soname === 'libnvidia-ml.so.1' && l.bits === 64)!;
    writeFileSync(join(work, 'nvml.c'), '#include <dlfcn.h>\nvoid *nvml_probe(void) { return dlopen("none", RTLD_NOW); }\n');
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libnvidia-ml.so.1', '-o', join(built.root, nvml.path), join(work, 'nvml.c')], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const x64 = built.libraries.filter((l) => l.bits === 64);
    sonames = [...new Set(x64.map((l) => l.soname))];
    for (const l of x64) driverHash.set(l.soname, sha(readFileSync(join(built.root, l.path))));
    const probe = buildExecutable({ dir: join(work, 'probe'), file: 'probe', needed: sonames });
    debs = debianDownload(work, 'bullseye', ['libc6', 'musl']);

    const busybox: Record<string, Spec> = { 'bin/busybox': { copy: which('busybox')! }, tmp: { dir: true }, probe: { copy: probe } };
    for (const a of BUSYBOX_APPLETS) busybox[`bin/${a}`] = { symlink: 'busybox' };
    const hostGlibc: Record<string, Spec> = {
      ...busybox,
      'lib64/ld-linux-x86-64.so.2': { copy: '/lib64/ld-linux-x86-64.so.2' },
      'usr/lib/x86_64-linux-gnu/libc.so.6': { copy: '/lib/x86_64-linux-gnu/libc.so.6' },
      lib: { symlink: 'usr/lib' },
      'etc/ld.so.conf': { file: 'include /etc/ld.so.conf.d/*.conf\n' },
      'etc/ld.so.conf.d/x86_64-linux-gnu.conf': { file: '/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n' },
    };
    const fake = (dir: string, file: string, soname: string): Spec => ({ copy: buildSharedObject({ dir: join(work, 'fakes', dir), file, soname }) });
    const base = imageLayer('glibc', hostGlibc);
    images.push({ tag: 'chk:plain', layers: [base] });
    // A CUDA-style image: LD_LIBRARY_PATH for nvidia-docker v1, the v1 label, and the toolkit's stub directory in ld.so.conf.
    images.push({
      tag: 'chk:stub',
      layers: [base, imageLayer('stub', {
        ...hostGlibc,
        'usr/local/cuda/lib64/stubs/libcuda.so': fake('stubs', 'libcuda.so', 'libcuda.so.1'),
        'etc/ld.so.conf.d/cuda-stubs.conf': { file: '/usr/local/cuda/lib64/stubs\n' },
      })],
      config: { Env: ['LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64'], Labels: { 'com.nvidia.volumes.needed': 'nvidia_driver' } },
    });
    // cuda-compat's libcuda (newer than the driver) and another driver's NVML baked in.
    images.push({
      tag: 'chk:compat',
      layers: [base, imageLayer('compat', {
        ...hostGlibc,
        'usr/local/cuda/compat/libcuda.so.999.99.99': fake('compat', 'libcuda.so.999.99.99', 'libcuda.so.1'),
        'usr/local/cuda/compat/libcuda.so.1': { symlink: 'libcuda.so.999.99.99' },
        'etc/ld.so.conf.d/000-cuda-compat.conf': { file: '/usr/local/cuda/compat\n' },
        'usr/lib/x86_64-linux-gnu/libnvidia-ml.so.470.256.02': fake('nvml470', 'libnvidia-ml.so.470.256.02', 'libnvidia-ml.so.1'),
        'usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1': { symlink: 'libnvidia-ml.so.470.256.02' },
      })],
    });
    images.push({ tag: 'chk:debian11', layers: [imageLayer('debian11', { ...busybox, 'etc/ld.so.conf': { file: 'include /etc/ld.so.conf.d/*.conf\n' } }, debs.get('libc6'))] });
    images.push({ tag: 'chk:musl', layers: [imageLayer('musl', { ...busybox }, debs.get('musl'), false)] });
    // Libraries only in glibc's legacy hwcaps subdirectories, which glibc < 2.37 searches: a stub
    // libcuda in x86_64/ of an LD_LIBRARY_PATH element (every x86-64 CPU), another in haswell/
    // (Intel CPUs with AVX2 and friends only), and another driver's NVML in tls/ of a cached
    // directory (ldconfig indexes it with the TLS hwcap bit). With glibc 2.31 and 2.36.
    const legacy: Record<string, Spec> = {
      'opt/app/lib/x86_64/libcuda.so.1': fake('legacy-stub', 'libcuda.so.1', 'libcuda.so.1'),
      'opt/app/lib/haswell/libnvidia-ptxjitcompiler.so.1': fake('legacy-ptx', 'libnvidia-ptxjitcompiler.so.1', 'libnvidia-ptxjitcompiler.so.1'),
      'usr/lib/x86_64-linux-gnu/tls/libnvidia-ml.so.1': fake('legacy-nvml', 'libnvidia-ml.so.1', 'libnvidia-ml.so.1'),
    };
    const legacyEnv = { Env: ['PATH=/usr/bin:/bin', 'LD_LIBRARY_PATH=/opt/app/lib'] };
    images.push({ tag: 'chk:legacy31', layers: [imageLayer('legacy31', { ...busybox, ...legacy, 'etc/ld.so.conf': { file: 'include /etc/ld.so.conf.d/*.conf\n' } }, debs.get('libc6'))], config: legacyEnv });
    images.push({ tag: 'chk:legacy36', layers: [base, imageLayer('legacy36', { ...hostGlibc, ...legacy })], config: legacyEnv });

    const archive = dockerArchive(work, join(work, 'images.tar'), images);
    const loaded = await runCommand('docker', ['load', '-i', archive], { env: dockerd.env, timeoutMs: 180_000 });
    expect(loaded.code, loaded.stderr).toBe(0);
    const loaded26 = await docker26!.docker(['load', '-i', archive], { timeoutMs: 180_000 });
    expect(loaded26.code, loaded26.stderr).toBe(0);
    podman = createPodman(work);
    const pl = podman.podman(['load', '-i', archive]);
    expect(pl.code, pl.stderr).toBe(0);

    // The CDI spec this project writes (Docker 26 reads its spec directory again for each run), and the volume plugin on the private dockerd.
    const cdi = spawnSync(process.execPath, [nvidiaVolume, 'cdi', '--root', built.root, '--output', join(specDir, 'nvidia.json')], { encoding: 'utf8' });
    expect(cdi.status, cdi.stderr).toBe(0);
    plugin = (await startPluginProcess(nvidiaVolume, ['--name', pluginName, '--root', built.root, '--dir', join(work, 'volumes')])).child;
  }, 600_000);

  afterAll(async () => {
    plugin?.kill('SIGTERM');
    await Promise.all([dockerd?.stop(), docker26?.stop()]);
    podman?.cleanup();
    await built?.cleanup();
  });

  function check(image: string, ref?: string, env: string[] = []): { status: number | null; report: Report } {
    const r = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', image, ...(ref ? ['--image-ref', ref] : []), ...env.flatMap((e) => ['-e', e]), '--root', built.root, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.stderr).toBe('');
    return { status: r.status, report: JSON.parse(r.stdout) as Report };
  }

  type Engine = 'volume' | 'cdi' | 'cdi-docker26';
  /** Runs the probe in `tag` with the driver injected `how`, with `env` as `-e` entries. */
  async function observe(tag: string, how: Engine, env: string[] = []): Promise<Observed> {
    const e = env.flatMap((x) => ['-e', x]);
    if (how === 'volume') {
      const r = await dockerd.docker(['run', '--rm', '--network', 'none', ...e, '--volume-driver', pluginName, '-v', `nvidia_driver_${built.version}:/usr/local/nvidia:ro`, tag, '/bin/sh', '-c', SCRIPT], { timeoutMs: 120_000 });
      return parseObserved(r.stdout + r.stderr, sonames);
    }
    if (how === 'cdi-docker26') {
      const r = await docker26!.docker(['run', '--rm', '--network', 'none', ...e, '--device', 'nvidia.com/gpu=all', tag, '/bin/sh', '-c', SCRIPT], { timeoutMs: 120_000 });
      return parseObserved(r.stdout + r.stderr, sonames);
    }
    const r = podman.podmanWithCdi(specDir, ['run', '--rm', '--network', 'none', ...e, '--device', 'nvidia.com/gpu=all', `localhost/${tag}`, '/bin/sh', '-c', SCRIPT]);
    return parseObserved(r.stdout + r.stderr, sonames);
  }

  /** Compares one injection's predictions with the observation, soname by soname. */
  function compare(report: Report, engine: Engine, seen: Observed, tag: string): void {
    const how = engine === 'volume' ? 'volume' : 'cdi';
    const inj = report.injections.find((i) => i.name === how)!;
    expect(inj, `${tag}: no ${how} prediction`).toBeDefined();
    const wrongGlibc = report.findings.some((f) => f.code === 'musl' || f.code === 'no-glibc');
    if (!seen.ran && wrongGlibc) {
      // The probe cannot even start: predicted as an image that cannot load glibc libraries.
      expect(inj.ok, `${tag} ${how}`).toBe(false);
      expect(seen.raw).toMatch(/not found|No such file/);
      return;
    }
    expect(seen.ran || seen.versionErrors.length > 0, `${tag} ${how}: probe output:\n${seen.raw}`).toBe(true);
    for (const p of inj.predictions.filter((x) => x.arch === 'x86-64')) {
      const path = seen.paths.get(p.soname);
      expect(path ?? null, `${tag} ${how} ${p.soname}: path (observed:\n${seen.raw})`).toBe(p.result.path);
      const observedOutcome = path == null ? 'missing' : seen.hashes.get(path) === driverHash.get(p.soname) ? 'driver' : 'image';
      expect(observedOutcome, `${tag} ${how} ${p.soname}: whose file`).toBe(p.outcome);
    }
    // Version errors seen exactly where the check predicts an old glibc.
    // (only libnvidia-ml needs versions: an old-glibc finding shows at run time where it is loaded)
    const oldGlibc = report.findings.some((f) => f.code === 'old-glibc') && inj.predictions.some((p) => p.soname === 'libnvidia-ml.so.1' && p.outcome === 'driver');
    expect(seen.versionErrors.length > 0, `${tag} ${how}: version errors ${seen.versionErrors.join('; ')}`).toBe(oldGlibc);
    const loads = seen.ran && seen.versionErrors.length === 0 && !report.findings.some((f) => f.severity === 'error' && f.injection === null) && inj.predictions.every((p) => p.arch !== 'x86-64' || p.outcome === 'driver');
    expect(inj.ok, `${tag} ${how}: ok`).toBe(loads);
  }

  const summary: string[] = [];
  const reports = new Map<string, Report>();
  const TAGS = ['chk:plain', 'chk:stub', 'chk:compat', 'chk:debian11', 'chk:musl', 'chk:legacy31', 'chk:legacy36'];
  it.each(TAGS)('%s, saved by Docker 20.10 and by Podman (oci-archive), the volume on Docker 20.10, CDI on Podman and Docker 26', async (tag) => {
    // The engines work at the same time where they can: the docker CLIs run as child processes
    // while Podman's commands and the checks (synchronous) run.
    const dsave = join(work, `${tag.replace(':', '-')}.docker.tar`);
    const saving = dockerd.docker(['save', '-o', dsave, tag]);
    const runs = { volume: observe(tag, 'volume'), 'cdi-docker26': observe(tag, 'cdi-docker26') };
    const psave = join(work, `${tag.replace(':', '-')}.oci.tar`);
    expect(podman.podman(['save', '--format', 'oci-archive', '-o', psave, `localhost/${tag}`]).code).toBe(0);
    const podmanRun = await observe(tag, 'cdi');
    expect((await saving).code).toBe(0);
    const fromDocker = check(dsave);
    const fromPodman = check(psave);
    // The two saves of one image give the same prediction.
    expect(fromPodman.report.injections).toEqual(fromDocker.report.injections);
    expect(fromDocker.status).toBe(fromDocker.report.ok ? 0 : 1);
    reports.set(tag, fromDocker.report);
    const seenBy = { volume: await runs.volume, cdi: podmanRun, 'cdi-docker26': await runs['cdi-docker26'] };
    for (const how of ['volume', 'cdi', 'cdi-docker26'] as const) {
      const seen = seenBy[how];
      compare(fromDocker.report, how, seen, tag);
      summary.push(`${tag} ${how}: ${fromDocker.report.injections.find((i) => i.name === (how === 'volume' ? 'volume' : 'cdi'))!.ok ? 'loads' : 'fails'}`);
    }
  }, 300_000);

  it('the scenarios are what they claim: each failure mode shows up', () => {
    expect(summary).toEqual([
      'chk:plain volume: fails', 'chk:plain cdi: loads', 'chk:plain cdi-docker26: loads',
      'chk:stub volume: loads', 'chk:stub cdi: fails', 'chk:stub cdi-docker26: fails',
      'chk:compat volume: fails', 'chk:compat cdi: fails', 'chk:compat cdi-docker26: fails',
      'chk:debian11 volume: fails', 'chk:debian11 cdi: fails', 'chk:debian11 cdi-docker26: fails',
      'chk:musl volume: fails', 'chk:musl cdi: fails', 'chk:musl cdi-docker26: fails',
      'chk:legacy31 volume: fails', 'chk:legacy31 cdi: fails', 'chk:legacy31 cdi-docker26: fails',
      'chk:legacy36 volume: fails', 'chk:legacy36 cdi: fails', 'chk:legacy36 cdi-docker26: fails',
    ]);
  });

  it('legacy hwcaps subdirectories: glibc 2.31 and 2.36 load from x86_64/ and tls/ (and haswell/ exactly on CPUs glibc calls haswell)', () => {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/));
    // glibc's rule (sysdeps/x86/cpu-features.c), read off /proc/cpuinfo independently of the check.
    const haswell = /^vendor_id\s*:\s*GenuineIntel$/m.test(cpuinfo) && !(flags.has('avx512er') && flags.has('avx512pf') && flags.has('avx512cd'))
      && ['avx2', 'fma', 'bmi1', 'bmi2', 'abm', 'movbe', 'popcnt'].every((f) => flags.has(f));
    for (const tag of ['chk:legacy31', 'chk:legacy36']) {
      const cdi = reports.get(tag)!.injections.find((i) => i.name === 'cdi')!;
      const path = (soname: string): string | null => cdi.predictions.find((p) => p.soname === soname && p.arch === 'x86-64')!.result.path;
      expect(path('libcuda.so.1'), tag).toBe('/opt/app/lib/x86_64/libcuda.so.1');
      // The cache entry ldconfig made from tls/ (/lib is a link to usr/lib in the 2.36 image, listed first in its ld.so.conf).
      expect(path('libnvidia-ml.so.1'), tag).toMatch(/^(\/usr)?\/lib\/x86_64-linux-gnu\/tls\/libnvidia-ml\.so\.1$/);
      if (haswell) expect(path('libnvidia-ptxjitcompiler.so.1'), tag).toBe('/opt/app/lib/haswell/libnvidia-ptxjitcompiler.so.1');
      else expect(path('libnvidia-ptxjitcompiler.so.1'), tag).not.toMatch(/haswell/);
    }
  });

  it("the subdirectory order is glibc's own: LD_DEBUG=libs of this machine's ld.so (2.36) and Debian 11's (2.31)", () => {
    const d11 = mkdtempSync(join(work, 'd11-'));
    expect(spawnSync('dpkg-deb', ['-x', debs.get('libc6')!, d11]).status).toBe(0);
    const host = hostLegacyX86();
    const d11ld = join(d11, 'lib/x86_64-linux-gnu/ld-2.31.so');
    // The third run turns AVX2 off with 2.31's tunable: the platform is then AT_PLATFORM (`x86_64`) on every CPU, as on AMD ones.
    for (const [loader, glibc, cpu, tunables] of [
      ['/lib64/ld-linux-x86-64.so.2', '2.36', host, undefined],
      [d11ld, '2.31', host, undefined],
      [d11ld, '2.31', { platform: 'x86_64', hwcaps: host.hwcaps }, 'glibc.cpu.hwcaps=-AVX2_Usable'],
    ] as const) {
      // The loader prints the whole --library-path search list, then (the cache inhibited) the
      // system search list, each directory with its subdirectories, before it finds libc.so.6
      // (2.31 then fails on /bin/true's symbol versions: irrelevant here).
      const r = spawnSync(loader, ['--inhibit-cache', '--library-path', '/nonexistent/llp', '/bin/true'], { encoding: 'utf8', env: { ...process.env, LD_DEBUG: 'libs', ...(tunables ? { GLIBC_TUNABLES: tunables } : {}) } });
      const listed = (what: RegExp): string[] => {
        const m = new RegExp(`search path=(\\S+)\\s+\\((?:${what.source})\\)`).exec(r.stderr);
        expect(m, `${loader}: ${r.stderr}`).not.toBeNull();
        return m![1]!.split(':');
      };
      const subs = searchSubdirs(glibc, abiRules('x86-64', hostIsaLevel(), cpu)!);
      const under = (dirs: string[]): string[] => dirs.flatMap((d) => subs.map((sub) => `${d}/${sub}`.replace(/\/$/, '')));
      // On CPUs whose platform is `x86_64` (as the hwcap), a name can come twice; trying it twice changes nothing.
      const once = (list: string[]): string[] => [...new Set(list)];
      expect(once(under(['/nonexistent/llp'])), loader).toEqual(once(listed(/LD_LIBRARY_PATH|--library-path/)));
      expect(once(under(loaderDefaultDirs(readFileSync(loader))!)), loader).toEqual(once(listed(/system search path/)));
    }
  });

  // `docker run -e` at run time, predicted with `check -e`: the fix for the legacy image (the
  // volume's directory first) on Docker 20.10, and an empty LD_LIBRARY_PATH on Docker 26.
  it.each([
    ['volume', 'LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/opt/app/lib', true],
    ['cdi-docker26', 'LD_LIBRARY_PATH=', false],
  ] as const)('-e at run time (%s, %s): predicted = observed', async (how, env, loads) => {
    const save = join(work, 'chk-legacy36.docker.tar');
    const { status, report } = check(save, undefined, [env]);
    expect(report.image).toMatchObject({ ldLibraryPath: env.slice('LD_LIBRARY_PATH='.length), ldLibraryPathFrom: 'run' });
    const seen = await observe('chk:legacy36', how, [env]);
    compare(report, how, seen, `chk:legacy36 -e ${env}`);
    expect(report.injections.find((i) => i.name === (how === 'volume' ? 'volume' : 'cdi'))!.ok).toBe(loads);
    expect(status).toBe(report.ok ? 0 : 1);
  }, 120_000);

  it('names each problem with its evidence and fix', () => {
    const codes = (tag: string): string[] => reports.get(tag)!.findings.map((f) => `${f.severity}:${f.code}:${f.injection ?? '-'}`);
    expect(codes('chk:plain')).toContain('error:not-searched:volume');
    expect(codes('chk:plain')).toContain('warning:no-32bit:-');
    expect(codes('chk:stub')).toEqual(expect.arrayContaining(['error:stub-library:cdi', 'info:v1-label:volume']));
    expect(codes('chk:compat')).toEqual(expect.arrayContaining(['warning:compat-library:cdi', 'error:other-driver:volume']));
    expect(codes('chk:debian11')).toContain('error:old-glibc:-');
    expect(codes('chk:musl')).toContain('error:musl:-');
    const text = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', join(work, 'chk-stub.docker.tar'), '--root', built.root], { encoding: 'utf8' });
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/error \(cdi\) \[stub-library\]: libcuda\.so\.1 \(x86-64\): the image's \/usr\/local\/cuda\/lib64\/stubs\/libcuda\.so wins/);
    expect(text.stdout).toMatch(/evidence: loads: \/usr\/local\/cuda\/lib64\/stubs\/libcuda\.so\.1 .*via ld\.so\.cache entry libcuda\.so\.1/);
    expect(text.stdout).toMatch(/fix: remove \/usr\/local\/cuda\/lib64\/stubs\/libcuda\.so/);
    // A library found in a legacy hwcaps subdirectory says so; a run-time LD_LIBRARY_PATH says where it came from.
    const legacy = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', join(work, 'chk-legacy31.docker.tar'), '--root', built.root, '--injection', 'cdi'], { encoding: 'utf8' });
    expect(legacy.status).toBe(1);
    expect(legacy.stdout).toMatch(/evidence: \/opt\/app\/lib\/x86_64\/libcuda\.so\.1: found in the legacy hwcaps subdirectory x86_64\/ of \/opt\/app\/lib, which glibc before 2\.37 searches/);
    expect(legacy.stdout).toMatch(/^ {2}LD_LIBRARY_PATH: \/opt\/app\/lib$/m);
    const withEnv = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', join(work, 'chk-legacy31.docker.tar'), '--root', built.root, '--env', 'LD_LIBRARY_PATH=/elsewhere'], { encoding: 'utf8' });
    expect(withEnv.stdout).toMatch(/^ {2}LD_LIBRARY_PATH: \/elsewhere \(from -e at run time\)$/m);
    const usage = spawnSync(process.execPath, [nvidiaVolume, 'check', '--root', built.root], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    // A malformed -e is a usage error: one line naming it (and the usual hint), no stack trace.
    for (const bad of ['=x', 'A B=1', 'LDCACHE_SURELY_UNSET_VARIABLE']) {
      const r = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', join(work, 'chk-stub.docker.tar'), '--root', built.root, '-e', bad], { encoding: 'utf8', env: { ...process.env, LDCACHE_SURELY_UNSET_VARIABLE: undefined } });
      expect(r.status, bad).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^nvidia-volume: --env /);
      expect(lines.slice(1)).toEqual(["Try 'nvidia-volume --help' for more information."]);
    }
  });
});
