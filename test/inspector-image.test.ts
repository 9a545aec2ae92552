// The inspector with a saved image (headless Chromium): the image read in the page in one pass
// from the File's stream() (gzip layers and a gzip-compressed archive through
// DecompressionStream; the manifest after the layers, as Docker 20.10 writes it; a 48 MiB
// padding layer), the image's cache shown like any cache (the count `ldconfig -p` prints for
// it), and the Image tab: with no host, the stub libcuda that wins; with a host's
// `nvidia-volume discover --json` beside it, the report of `nvidia-volume check --json` for the
// same image and root, both injections and every finding (old-glibc on a Debian 11 image, judged
// against readelf -V of the driver's library). The page's Blob reads are counted from outside
// the page's code (a wrapped Blob.prototype). No request leaves the page.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumSkipReason, chooseFiles, launchChromium, openWatchedPage, type Browser, type Page } from './helpers/chromium.js';
import { debianDownload } from './helpers/debian-debs.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { dockerArchive, layerTar, stage, which } from './helpers/image-build.js';
import { describeNeeding } from './helpers/requirements.js';
import { buildSharedObject, ldconfigPrint, runLdconfig } from './helpers/so-builder.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pagePath = join(repo, 'dist', 'inspector.html');
const nvidiaVolume = join(repo, 'bin/nvidia-volume.js');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'inspector-image-'));

const skipReason = chromiumSkipReason() ?? (existsSync(pagePath) ? undefined : 'dist/inspector.html is missing (npm run build)') ??
  (which('apt-get') && which('dpkg-deb') && which('readelf') ? undefined : 'apt-get, dpkg-deb and readelf are needed (Debian 11 libc6, the driver library\'s version needs)');

/** Records every Blob read the page makes (method and the blob's size), before any page script runs. */
async function countBlobReads(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const calls: { method: string; size: number }[] = [];
    (window as unknown as { blobReads: typeof calls }).blobReads = calls;
    for (const method of ['slice', 'stream', 'arrayBuffer', 'text', 'bytes'] as const) {
      const original = (Blob.prototype as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>)[method];
      if (!original) continue;
      (Blob.prototype as unknown as Record<string, unknown>)[method] = function (this: Blob, ...args: unknown[]) {
        calls.push({ method, size: this.size });
        return original.apply(this, args);
      };
    }
  });
}

const blobReads = (page: Page): Promise<{ method: string; size: number }[]> => page.evaluate(() => (window as unknown as { blobReads: { method: string; size: number }[] }).blobReads);

/** A docker-archive with its members in the given order (names as `tar -tf` lists them). */
function reorderedArchive(from: string, out: string, order: (names: string[]) => string[]): string {
  const dir = mkdtempSync(join(work, 'reorder-'));
  expect(spawnSync('tar', ['-C', dir, '-xf', from]).status).toBe(0);
  const names = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((n) => statSync(join(dir, n)).isFile());
  expect(spawnSync('tar', ['-C', dir, '--no-recursion', '-cf', out, ...order(names)]).status).toBe(0);
  return out;
}

interface Report {
  ok: boolean;
  image: { glibc: string | null };
  injections: { name: string; predictions: { soname: string; arch: string; outcome: string; result: { path: string | null; via: string | null } }[] }[];
  findings: { severity: string; code: string; injection: string | null; message: string }[];
}

describeNeeding('inspector: saved images', skipReason, () => {
  let browser: Browser;
  let built: DriverRoot;
  let archive = '';
  let root = '';
  let bigArchive = '';
  let bigGz = '';
  let hostJson = '';
  let glibc31 = '';
  beforeAll(async () => {
    [browser, built] = await Promise.all([launchChromium(), buildDriverRoot({ dir: work, devices: false, i386: false })]);
    // An image: host glibc, a CUDA stub libcuda.so.1 in the cache; a second layer whites out a file.
    const stub = buildSharedObject({ dir: join(work, 'stub'), file: 'libcuda.so', soname: 'libcuda.so.1' });
    root = stage(work, {
      'lib64/ld-linux-x86-64.so.2': { copy: '/lib64/ld-linux-x86-64.so.2' },
      'usr/lib/x86_64-linux-gnu/libc.so.6': { copy: '/lib/x86_64-linux-gnu/libc.so.6' },
      lib: { symlink: 'usr/lib' },
      'usr/local/cuda/lib64/stubs/libcuda.so': { copy: stub },
      'etc/ld.so.conf': { file: '/usr/local/cuda/lib64/stubs\n/usr/lib/x86_64-linux-gnu\n' },
      'opt/junk': { file: 'x' },
    });
    expect(runLdconfig(['-r', root]).status).toBe(0);
    const l1 = layerTar(root, join(work, 'l1.tar'));
    spawnSync('gzip', [l1]);
    const l2 = layerTar(stage(work, { 'opt/.wh.junk': { file: '' } }), join(work, 'l2.tar'));
    archive = dockerArchive(work, join(work, 'cuda-stub.tar'), [{ tag: 'stub:1', layers: [`${l1}.gz`, l2] }]);

    // The driver's libnvidia-ml really linked against glibc: it needs GLIBC_2.34 (dlopen moved into libc).
    const nvml = built.libraries.find((l) => l.soname === 'libnvidia-ml.so.1' && l.bits === 64)!;
    writeFileSync(join(work, 'nvml.c'), '#include <dlfcn.h>\nvoid *nvml_probe(void) { return dlopen("none", RTLD_NOW); }\n');
    const cc = spawnSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libnvidia-ml.so.1', '-o', join(built.root, nvml.path), join(work, 'nvml.c')], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const discover = spawnSync(process.execPath, [nvidiaVolume, 'discover', '--root', built.root, '--json'], { encoding: 'utf8' });
    expect(discover.status, discover.stderr).toBe(0);
    hostJson = join(work, 'host.json');
    writeFileSync(hostJson, discover.stdout);

    // A Debian 11 image (glibc 2.31, bullseye's own libc6 package), a 48 MiB padding layer of
    // random bytes (not compressible) between its gzip layers, saved with manifest.json last.
    const libc6 = debianDownload(work, 'bullseye', ['libc6']).get('libc6')!;
    glibc31 = /libc6_(\d+\.\d+)/.exec(libc6)![1]!;
    const deb11 = stage(work, { 'etc/ld.so.conf': { file: 'include /etc/ld.so.conf.d/*.conf\n' } });
    expect(spawnSync('dpkg-deb', ['-x', libc6, deb11]).status).toBe(0);
    expect(runLdconfig(['-r', deb11]).status).toBe(0);
    const base = layerTar(deb11, join(work, 'deb11.tar'));
    expect(spawnSync('gzip', [base]).status).toBe(0);
    const pad = stage(work, { 'opt/padding.bin': { file: randomBytes(48 << 20) } });
    const padding = layerTar(pad, join(work, 'padding.tar'));
    const top = layerTar(stage(work, { 'etc/motd': { file: 'gpu\n' } }), join(work, 'top.tar'));
    expect(spawnSync('gzip', [top]).status).toBe(0);
    const saved = dockerArchive(work, join(work, 'deb11-saved.tar'), [{ tag: 'deb11:gpu', layers: [`${base}.gz`, padding, `${top}.gz`] }]);
    bigArchive = reorderedArchive(saved, join(work, 'deb11-image.tar'), (names) => [...names.filter((n) => n !== 'manifest.json').sort((a, b) => Number(a.endsWith('.json')) - Number(b.endsWith('.json'))), 'manifest.json']);
    bigGz = `${bigArchive}.gz`;
    writeFileSync(bigGz, spawnSync('gzip', ['-1', '-c', bigArchive], { maxBuffer: 1 << 30 }).stdout);
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await built?.cleanup();
  });

  it('shows the image cache and a stub libcuda that wins, with no request leaving the page', async () => {
    const { context, page, watch } = await openWatchedPage(browser);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, archive);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    const expectedCount = /^(\d+) libs found/.exec(ldconfigPrint(join(root, 'etc/ld.so.cache')).stdout.toString())![1];
    expect(await page.textContent('[data-testid="summary"]')).toBe(`${expectedCount} libs found in cache`);
    expect(await page.isVisible('#panel-image')).toBe(true);
    const codes = await page.$$eval('[data-testid="image-findings"] > li', (items) => items.map((i) => `${i.getAttribute('data-severity')}:${i.getAttribute('data-code')}`));
    expect(codes).toContain('error:stub-library');
    expect(await page.textContent('[data-testid="image-verdict"]')).toBe('The driver will NOT load.');
    const rows = await page.$$eval('[data-testid="image-predictions"][data-injection="cdi"] tbody tr', (trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent, tr.getAttribute('data-outcome')]));
    expect(rows).toContainEqual(['libcuda.so.1 [x86-64]', '/usr/local/cuda/lib64/stubs/libcuda.so.1', 'image']);
    expect(watch.errors).toEqual([]);
    expect(watch.network).toEqual([]);
    await context.close();
  });

  it('a large archive, manifest last, is read through one File.stream(); with the host JSON the report is the CLI\'s, both injections and old-glibc', async () => {
    // The archive as built: the manifest after every layer (tar's own listing), the padding layer big.
    const listing = spawnSync('tar', ['-tvf', bigArchive], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(listing.at(-1)).toMatch(/ manifest\.json$/);
    expect(Math.max(...listing.map((l) => Number(l.split(/\s+/)[2])))).toBeGreaterThan(48 << 20);
    const size = statSync(bigArchive).size;

    const cli = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', bigArchive, '--root', built.root, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(1);
    const expected = JSON.parse(cli.stdout) as Report;
    expect(expected.injections.map((i) => i.name)).toEqual(['cdi', 'volume']);

    const { context, page, watch } = await openWatchedPage(browser);
    await countBlobReads(page);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, [bigArchive, hostJson]);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    // The archive: one stream(), never sliced or read whole.
    expect((await blobReads(page)).filter((c) => c.size === size)).toEqual([{ method: 'stream', size }]);

    const shown = JSON.parse((await page.textContent('[data-testid="image-report-json"]'))!) as Report;
    expect(shown).toEqual(expected);
    // What the page renders is that report: each injection's table, each finding.
    for (const inj of expected.injections) {
      const rows = await page.$$eval(`[data-testid="image-predictions"][data-injection="${inj.name}"] tbody tr`, (trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent, tr.getAttribute('data-outcome')]));
      expect(rows).toEqual(inj.predictions.map((p) => [`${p.soname} [${p.arch}]`, p.result.path ?? 'not found', p.outcome]));
    }
    const codes = await page.$$eval('[data-testid="image-findings"] > li', (items) => items.map((i) => `${i.getAttribute('data-severity')}:${i.getAttribute('data-code')}`));
    expect(codes).toEqual(expected.findings.map((f) => `${f.severity}:${f.code}`));

    // old-glibc, judged independently: the versions readelf -V says the library needs, above bullseye's 2.31.
    expect(glibc31).toBe('2.31');
    expect(shown.image.glibc).toBe(glibc31);
    const nvml = built.libraries.find((l) => l.soname === 'libnvidia-ml.so.1' && l.bits === 64)!;
    const readelf = spawnSync('readelf', ['-V', '-W', join(built.root, nvml.path)], { encoding: 'utf8' }).stdout;
    const needs = readelf.slice(readelf.indexOf('.gnu.version_r')).match(/Name: GLIBC_[0-9.]+/g)!.map((n) => n.slice(6));
    const newer = [...new Set(needs)].filter((v) => { const [a, b] = v.slice(6).split('.').map(Number); return a! > 2 || (a === 2 && b! > 31); });
    expect(newer).toContain('GLIBC_2.34');
    const oldGlibc = shown.findings.filter((f) => f.code === 'old-glibc');
    expect(oldGlibc).toHaveLength(1);
    const said = /^(\S+) needs (.*); the image's glibc is 2\.31$/.exec(oldGlibc[0]!.message)!;
    expect(said[1]).toBe(nvml.name);
    expect(said[2]!.split(', ').sort()).toEqual(newer.sort());
    expect(watch.errors).toEqual([]);
    expect(watch.network).toEqual([]);
    await context.close();
  });

  it('the same archive gzip-compressed as a whole: the CLI and the page read it in one pass, same report', async () => {
    const cliPlain = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', bigArchive, '--root', built.root, '--json'], { encoding: 'utf8' });
    const cliGz = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', bigGz, '--root', built.root, '--json'], { encoding: 'utf8' });
    expect(cliGz.status, cliGz.stderr).toBe(1);
    const expected = JSON.parse(cliPlain.stdout) as Report;
    expect(JSON.parse(cliGz.stdout)).toEqual(expected);
    const { context, page, watch } = await openWatchedPage(browser);
    await countBlobReads(page);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, [bigGz, hostJson]);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    const size = statSync(bigGz).size;
    expect((await blobReads(page)).filter((c) => c.size === size)).toEqual([{ method: 'stream', size }]);
    expect(JSON.parse((await page.textContent('[data-testid="image-report-json"]'))!)).toEqual(expected);
    expect(watch.errors).toEqual([]);
    expect(watch.network).toEqual([]);
    await context.close();
  });

  it('with a host\'s ld.so.cache beside the image instead: the CLI\'s prediction for every driver soname the cache lists', async () => {
    const cli = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', archive, '--root', built.root, '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(1);
    const expected = JSON.parse(cli.stdout) as Report;
    const hostCache = join(built.root, 'etc/ld.so.cache');
    // Independent evidence of what the cache lists: ldconfig's own print of it.
    const listed = new Set([...ldconfigPrint(hostCache).stdout.toString().matchAll(/^\t(\S+) \(/gm)].map((m) => m[1]!));
    const { context, page, watch } = await openWatchedPage(browser);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, [archive, hostCache]);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    const shown = JSON.parse((await page.textContent('[data-testid="image-report-json"]'))!) as Report & { driverVersion: string | null };
    expect(shown.driverVersion).toBe(built.version);
    expect(shown.injections.map((i) => i.name)).toEqual(expected.injections.map((i) => i.name));
    for (const inj of expected.injections) {
      const fromCache = shown.injections.find((i) => i.name === inj.name)!.predictions;
      // Each driver soname the cache lists is predicted as the CLI predicts it (same file found, same outcome)…
      const cliListed = inj.predictions.filter((p) => listed.has(p.soname));
      expect(cliListed.map((p) => p.soname)).toContain('libcuda.so.1');
      const key = (p: Report['injections'][number]['predictions'][number]) => `${p.soname} [${p.arch}]`;
      expect(new Map(fromCache.map((p) => [key(p), [p.outcome, p.result.path]]))).toEqual(new Map(cliListed.map((p) => [key(p), [p.outcome, p.result.path]])));
    }
    // …and the image's stub still wins; what needs the files (GLIBC_ versions) is not claimed.
    expect(shown.findings.map((f) => f.code)).toContain('stub-library');
    expect(shown.findings.map((f) => f.code)).not.toContain('old-glibc');
    expect(await page.textContent('#panel-image')).toContain('ld.so.cache: the driver\'s entries only');
    expect(watch.errors).toEqual([]);
    expect(watch.network).toEqual([]);
    await context.close();
  });

  it('a damaged image is one line, and the page keeps working', async () => {
    const cut = join(work, 'cut.tar');
    writeFileSync(cut, readFileSync(archive).subarray(0, 3000));
    const { context, page } = await openWatchedPage(browser);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, cut);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/cut\.tar: /);
    // A compressed archive cut short: one line too.
    const cutGz = join(work, 'cut.tar.gz');
    writeFileSync(cutGz, readFileSync(bigGz).subarray(0, 1 << 20));
    await chooseFiles(page, cutGz);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/^Cannot read this image\. cut\.tar\.gz: [^\n]+$/);
    await chooseFiles(page, archive);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    await context.close();
  });
});
