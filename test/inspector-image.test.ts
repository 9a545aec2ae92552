// The inspector with a saved image (headless Chromium): the image's cache read in the page from
// the archive (gzip layer through DecompressionStream, a whiteout), shown like any cache (the
// count `ldconfig -p` prints for it), and the Image tab's findings: with no host, the stub libcuda
// that wins; with a host's discovery JSON beside it, the same outcome per soname as
// `nvidia-volume check --injection cdi`. No request leaves the page.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumSkipReason, chooseFiles, launchChromium, openWatchedPage, type Browser } from './helpers/chromium.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { dockerArchive, layerTar, stage } from './helpers/image-build.js';
import { describeNeeding } from './helpers/requirements.js';
import { buildSharedObject, ldconfigPrint, runLdconfig } from './helpers/so-builder.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pagePath = join(repo, 'dist', 'inspector.html');
const nvidiaVolume = join(repo, 'bin/nvidia-volume.js');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'inspector-image-'));

describeNeeding('inspector: saved images', chromiumSkipReason() ?? (existsSync(pagePath) ? undefined : 'dist/inspector.html is missing (npm run build)'), () => {
  let browser: Browser;
  let built: DriverRoot;
  let archive = '';
  let root = '';
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
  }, 300_000);
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
    const rows = await page.$$eval('[data-testid="image-predictions"] tbody tr', (trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.children[1]!.textContent, tr.getAttribute('data-outcome')]));
    expect(rows).toContainEqual(['libcuda.so.1 [x86-64]', '/usr/local/cuda/lib64/stubs/libcuda.so.1', 'image']);
    expect(watch.errors).toEqual([]);
    expect(watch.network).toEqual([]);
    await context.close();
  });

  it('with a host discovery JSON beside it: the CLI\'s CDI outcome for every soname', async () => {
    const discover = spawnSync(process.execPath, [nvidiaVolume, 'discover', '--root', built.root, '--json'], { encoding: 'utf8' });
    expect(discover.status, discover.stderr).toBe(0);
    const hostJson = join(work, 'host.json');
    writeFileSync(hostJson, discover.stdout);
    const cli = spawnSync(process.execPath, [nvidiaVolume, 'check', '--image', archive, '--root', built.root, '--injection', 'cdi', '--json'], { encoding: 'utf8' });
    const report = JSON.parse(cli.stdout) as { injections: { predictions: { soname: string; arch: string; outcome: string }[] }[] };
    const expected = report.injections[0]!.predictions.map((p) => [`${p.soname} [${p.arch}]`, p.outcome]).sort();
    expect(expected.length).toBeGreaterThan(10);
    const { context, page, watch } = await openWatchedPage(browser);
    await page.goto(pathToFileURL(pagePath).href);
    await chooseFiles(page, [archive, hostJson]);
    const rows = await page.$$eval('[data-testid="image-predictions"] tbody tr', (trs) => trs.map((tr) => [tr.children[0]!.textContent, tr.getAttribute('data-outcome')]));
    expect(rows.sort()).toEqual(expected);
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
    await chooseFiles(page, archive);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    await context.close();
  });
});
