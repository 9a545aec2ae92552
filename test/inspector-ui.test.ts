// The inspector's reading aids in real headless Chromium: Compare tells a changed path from a
// second entry that shadows it (order as the real `ldconfig -p` prints it, full paths shown),
// versions inferred from a directory look unlike versions in a file name, the NVIDIA filter says
// how many strays it counts, a damaged second file keeps the report already open, and search
// matches are marked.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { writeCache } from './helpers/cache-writer.js';
import { chromiumSkipReason, chooseFiles as choose, launchChromium, openWatchedPage, renderedRows, type Browser, type Page, type PageWatch } from './helpers/chromium.js';
import { describeNeeding } from './helpers/requirements.js';
import { buildSharedObject, ldconfigPath, makeTempDir, writeCacheWithLdconfig } from './helpers/so-builder.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pagePath = join(repo, 'dist', 'inspector.html');
const pageUrl = pathToFileURL(pagePath).href;
const skipReason =
  chromiumSkipReason() ??
  (ldconfigPath() ? undefined : 'the real ldconfig is not installed') ??
  (existsSync(pagePath) ? undefined : `${pagePath} is missing (run npm run build)`);

/** `ldconfig -p` of a cache: entries grouped by what the loader matches on, paths in the printed (search) order. */
function printedGroups(file: string): Map<string, string[]> {
  const run = spawnSync(ldconfigPath()!, ['-p', '-C', basename(file)], { cwd: dirname(file), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (run.status !== 0) throw new Error(`ldconfig -p -C ${file}: ${run.stderr}`);
  const groups = new Map<string, string[]>();
  for (const match of run.stdout.matchAll(/^\t(.*) \((.*)\) => (.*)$/gm)) {
    const key = `${match[1]} (${match[2]})`;
    groups.set(key, [...(groups.get(key) ?? []), match[3]!]);
  }
  return groups;
}

describeNeeding('inspector reading aids', skipReason, () => {
  const temp = makeTempDir('ldcache-inspector-ui-');
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  let closePage: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    temp.cleanup();
  });
  afterEach(async () => {
    expect(watch?.errors ?? []).toEqual([]);
    expect(watch?.network ?? []).toEqual([]);
    await closePage?.();
  });
  async function open(): Promise<void> {
    const opened = await openWatchedPage(browser);
    ({ page, watch } = opened);
    closePage = () => opened.context.close();
    await page.goto(pageUrl);
  }

  it('tells a changed path from a second entry that shadows it, with every path in full', async () => {
    const near = '/usr/lib/x86_64-linux-gnu';
    const far = '/opt/a-vendor-directory-whose-name-is-far-too-long-for-one-table-cell/with/several/levels/of/lib';
    const build = (root: string, layout: Record<string, string[]>): string => {
      for (const [soname, dirs] of Object.entries(layout)) for (const dir of dirs) buildSharedObject({ dir: join(root, dir), file: soname, soname });
      return writeCacheWithLdconfig({ root, dirs: [near, far], format: 'new' });
    };
    // Each library of A gains a second entry in B in the other directory: whichever order ldconfig
    // gives them, one of the two is shadowed in B and the other has an unused second entry.
    const fileA = build(join(temp.dir, 'a'), { 'libfoo.so.1': [far], 'libbar.so.1': [near], 'libmove.so.1': [near], 'libsame.so.1': [near] });
    const fileB = build(join(temp.dir, 'b'), { 'libfoo.so.1': [near, far], 'libbar.so.1': [near, far], 'libmove.so.1': [far], 'libsame.so.1': [near] });
    const a = printedGroups(fileA);
    const b = printedGroups(fileB);
    // What the loader sees, from ldconfig's own order: the first path of a name is the one it uses.
    const expected = new Map<string, string>();
    for (const [key, pathsA] of a) {
      const pathsB = b.get(key)!;
      if (pathsA.join('\n') === pathsB.join('\n')) continue;
      expected.set(key.split(' ')[0]!, pathsA[0] === pathsB[0] ? 'unused entry' : pathsB.includes(pathsA[0]!) ? 'shadowed in B' : 'path changed');
    }
    expect([...expected.values()].sort()).toEqual(['path changed', 'shadowed in B', 'unused entry']);

    await open();
    await choose(page, [fileA, fileB]);
    const count = async (kind: string) => Number(await page.getAttribute(`[data-testid="compare-${kind}"] b`, 'data-count'));
    expect([await count('changed'), await count('shadowed'), await count('unused')]).toEqual([1, 1, 1]);
    const rows = await renderedRows(page, 'compare-grid');
    expect(new Map(rows.map((row) => [row.cells[1], row.cells[0]]))).toEqual(expected);

    const shadowedName = [...expected].find(([, kind]) => kind === 'shadowed in B')![0];
    const key = [...b.keys()].find((k) => k.startsWith(`${shadowedName} `))!;
    await page.click(`[data-testid="compare-grid"] tbody tr[data-change="shadowed"]`);
    const side = async (which: 'a' | 'b') =>
      page.$$eval(`[data-testid="compare-paths-${which}"] li`, (items) =>
        items.map((li) => ({ text: li.firstChild?.textContent ?? '', used: li.getAttribute('data-used'), clipped: li.scrollWidth > li.clientWidth })),
      );
    const shownB = await side('b');
    // Every path in full, unclipped, in ldconfig's order, the first marked as the one used.
    expect(shownB.map((p) => p.text)).toEqual(b.get(key));
    expect(shownB.map((p) => p.used)).toEqual(['true', 'false']);
    expect(shownB.some((p) => p.clipped)).toBe(false);
    expect(shownB.some((p) => p.text.startsWith(far))).toBe(true);
    expect((await side('a')).map((p) => p.text)).toEqual(a.get(key));
    expect(await page.textContent('[data-testid="compare-details"]')).toContain('a second entry comes first there');
  });

  it('marks inferred versions, counts strays in the NVIDIA filter, and marks search matches', async () => {
    const file = join(temp.dir, 'nvidia.cache');
    const lib = '/usr/lib/x86_64-linux-gnu';
    writeFileSync(
      file,
      writeCache({
        format: 'new',
        sort: true,
        entries: [
          { name: 'libcuda.so.1', path: `${lib}/libcuda.so.535.261.03`, flags: 0x0303 },
          { name: 'libnvidia-ml.so.1', path: `${lib}/libnvidia-ml.so.535.261.03`, flags: 0x0303 },
          { name: 'libnvidia-ptxjitcompiler.so.1', path: '/opt/nvidia/535.261.03/lib/libnvidia-ptxjitcompiler.so.1', flags: 0x0303 },
          { name: 'libnvidia-cfg.so.1', path: `${lib}/libnvidia-cfg.so.1`, flags: 0x0303 },
          { name: 'libnvidia-encode.so.1', path: `${lib}/libnvidia-encode.so.470.256.02`, flags: 0x0303 },
          { name: 'libz.so.1', path: `${lib}/libz.so.1`, flags: 0x0303 },
        ],
      }).bytes,
    );
    await open();
    await choose(page, file);
    // 5 NVIDIA libraries, one of them of another version: the filter says so, and shows all 5.
    expect(await page.textContent('[data-testid="nvidia-filter-label"]')).toBe(' NVIDIA libraries only (5, of which 1 stray)');
    await page.check('#nvidia-filter');
    expect((await renderedRows(page)).map((row) => row.cells[1]).sort()).toEqual(
      ['libcuda.so.1', 'libnvidia-cfg.so.1', 'libnvidia-encode.so.1', 'libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1'],
    );
    await page.uncheck('#nvidia-filter');

    await page.click('#tab-nvidia');
    const tags = new Map(
      (
        await page.$$eval('[data-testid="nvidia-view"] li', (items) =>
          items.map((li) => [li.querySelector('.nvidia-name')!.firstChild!.textContent!, `${li.querySelector('.status-tag')!.textContent} ${li.querySelector('.status-tag')!.getAttribute('data-version-from')}`]),
        )
      ).map(([name, tag]) => [name!, tag!]),
    );
    // In the file name: plain. From /opt/nvidia/535.261.03/ or from the directory's other files: marked.
    expect(tags).toEqual(
      new Map([
        ['libcuda.so.1', '535.261.03 name'],
        ['libnvidia-ml.so.1', '535.261.03 name'],
        ['libnvidia-ptxjitcompiler.so.1', '~535.261.03 inferred'],
        ['libnvidia-cfg.so.1', '~535.261.03 inferred'],
        ['libnvidia-encode.so.1', 'stray 470.256.02 name'],
      ]),
    );
    const style = await page.$eval('[data-version-from="inferred"]', (el) => getComputedStyle(el).fontStyle);
    expect(style).toBe('italic');

    await page.click('#tab-entries');
    await page.fill('#entry-search', 'LIBNVIDIA-');
    await page.waitForFunction(() => document.querySelector('[data-testid="shown-count"]')?.textContent?.includes(' of '));
    const marked = await page.$$eval('[data-testid="entries-grid"] tbody tr', (rows) =>
      rows.map((row) => [...row.querySelectorAll('mark')].map((m) => m.textContent)),
    );
    // Each of the 4 libnvidia- rows: one mark in the name and one in the path, matching in any case.
    expect(marked).toEqual(Array.from({ length: 4 }, () => ['libnvidia-', 'libnvidia-']));
    await page.fill('#entry-search', '');
    await page.waitForFunction(() => !document.querySelector('[data-testid="shown-count"]')?.textContent?.includes(' of '));
    expect(await page.$$eval('[data-testid="entries-grid"] mark', (marks) => marks.length)).toBe(0);
  });

  it('keeps the open report when a second file is damaged', async () => {
    const good = join(temp.dir, 'good.cache');
    const entries = [{ name: 'libgood.so.1', path: '/usr/lib/libgood.so.1', flags: 0x0303 }];
    mkdirSync(temp.dir, { recursive: true });
    writeFileSync(good, writeCache({ format: 'new', entries }).bytes);
    const damaged = join(temp.dir, 'damaged.cache');
    writeFileSync(damaged, writeCache({ format: 'new', entries }).bytes.subarray(0, 60)); // cut inside the entry table

    await open();
    // Two files, the second damaged: A's report, and a line that says why there is no compare.
    await choose(page, [good, damaged]);
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(await page.textContent('#file-names')).toBe('good.cache');
    expect((await renderedRows(page)).map((row) => row.cells[1])).toEqual(['libgood.so.1']);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/^Cannot compare: damaged\.cache: .+ \(at byte \d+\) \(showing good\.cache alone\)$/);

    // A damaged file chosen while a report is open: the report stays.
    await choose(page, damaged);
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(await page.isVisible('#report')).toBe(true);
    expect((await renderedRows(page)).map((row) => row.cells[1])).toEqual(['libgood.so.1']);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/^Cannot read this cache\. damaged\.cache: .+ \(still showing good\.cache\)$/);
  });
});
