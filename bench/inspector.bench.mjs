// The browser inspector at 200,000 entries, in headless Chromium: time from choosing the file to
// the summary and first rows shown, against a straightforward JavaScript parser (DataView +
// TextDecoder, bench/baseline-parser.mjs) run in the same page on the same file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { Bench } from 'tinybench';
import { loadTestHelper } from './test-helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pagePath = join(here, '..', 'dist', 'inspector.html');
const chromiumPath = process.env.LDCACHE_CHROMIUM ?? '/usr/bin/chromium';
const ENTRIES = Number(process.env.LDCACHE_BENCH_ENTRIES ?? 200_000);

if (!existsSync(chromiumPath) || !existsSync(pagePath)) {
  console.log(`inspector bench skipped: ${existsSync(chromiumPath) ? pagePath : chromiumPath} is missing`);
  process.exit(0);
}

/** A new-format cache (glibc 2.33+ layout, little-endian) with `count` entries over 200 directories, from the test writer. */
async function writeNewFormatCache(count) {
  const { writeCache } = await loadTestHelper('cache-writer');
  const entries = [];
  for (let i = 0; i < count; i++) {
    const name = `libbench${count - i}.so.${i % 5}`;
    entries.push({ name, path: `/usr/lib/x86_64-linux-gnu/pkg${i % 200}/${name}`, flags: i % 9 === 0 ? 0x0003 : 0x0303 });
  }
  return writeCache({ format: 'new', entries, strings: 'sequential', generator: 'ldcache bench writer stable release version 2.36' }).bytes;
}

const work = mkdtempSync(join(tmpdir(), 'ldcache-inspector-bench-'));
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const cacheFile = join(work, 'bench.cache');
  writeFileSync(cacheFile, await writeNewFormatCache(ENTRIES));
  const size = readFileSync(cacheFile).length;

  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(pathToFileURL(pagePath).href);

  // The baseline parser, defined in the page (DevTools evaluation: not subject to the page's CSP).
  const baselineSource = readFileSync(join(here, 'baseline-parser.mjs'), 'utf8').replace(/^export /gm, '');
  await page.evaluate(`(() => { ${baselineSource}\n globalThis.__parseBaseline = parseBaseline; })()`);
  // A second file input the page does not listen to, holding the same file for the baseline.
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    input.hidden = true;
    document.body.append(input);
  });
  await page.setInputFiles('#bench-file', cacheFile);

  const inPage = { parsed: [], ready: [], painted: [] };
  const bench = new Bench({ name: `inspector, ${ENTRIES.toLocaleString('en-US')} entries (${(size / 1e6).toFixed(1)} MB)`, iterations: 8, time: 0, warmupIterations: 2 });
  bench.add('inspector: choose file -> summary + first rows (wall)', async () => {
    await page.evaluate(() => { document.body.dataset.state = 'loading'; });
    await page.setInputFiles('#file-input', cacheFile);
    await page.waitForFunction(() => document.body.dataset.state === 'ready' && performance.getEntriesByName('ldcache:painted').length === 1, undefined, { polling: 'raf' });
    const marks = await page.evaluate(() => {
      const at = (name) => performance.getEntriesByName(name)[0].startTime;
      return { parsed: at('ldcache:parsed') - at('ldcache:chosen'), ready: at('ldcache:ready') - at('ldcache:chosen'), painted: at('ldcache:painted') - at('ldcache:chosen') };
    });
    for (const key of Object.keys(inPage)) inPage[key].push(marks[key]);
  });
  bench.add('baseline: File.arrayBuffer + DataView/TextDecoder parse (in page)', async () => {
    const ms = await page.evaluate(async () => {
      const started = performance.now();
      const bytes = new Uint8Array(await document.getElementById('bench-file').files[0].arrayBuffer());
      const cache = globalThis.__parseBaseline(bytes);
      if (cache.entries.length === 0) throw new Error('baseline parsed nothing');
      return performance.now() - started;
    });
    return { overriddenDuration: ms };
  });
  await bench.run();
  console.table(bench.table());

  const summary = await page.textContent('[data-testid="summary"]');
  if (summary !== `${ENTRIES} libs found in cache`) throw new Error(`unexpected summary: ${summary}`);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const [wall, baseline] = bench.tasks.map((task) => task.result.latency.p50 ?? task.result.latency.mean);
  const parsed = median(inPage.parsed);
  const painted = median(inPage.painted);
  console.log(`inspector, chosen -> parsed (File.stream into the wasm core), in page: ${parsed.toFixed(1)} ms (median)`);
  console.log(`inspector, chosen -> summary + first rows painted, in page: ${painted.toFixed(1)} ms (median); wall incl. CDP: ${wall.toFixed(1)} ms; target < 1000 ms: ${wall < 1000 ? 'met' : 'MISSED'}`);
  console.log(`baseline (DataView + TextDecoder, read + parse), in page: ${baseline.toFixed(1)} ms (median)`);
  console.log(`ratio baseline parse / inspector parse: ${(baseline / parsed).toFixed(2)}x; baseline parse / inspector whole page ready: ${(baseline / painted).toFixed(2)}x`);

  // A 2,000,000-entry cache (about 135 MB) opens in the same page without running out of
  // memory: one run, its time and the page's memory (JS heap and the wasm memory behind it).
  const BIG = Number(process.env.LDCACHE_BENCH_BIG_ENTRIES ?? 2_000_000);
  if (BIG > 0) {
    const bigFile = join(work, 'big.cache');
    writeFileSync(bigFile, await writeNewFormatCache(BIG));
    const bigPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const bigErrors = [];
    bigPage.on('pageerror', (error) => bigErrors.push(error.message));
    bigPage.on('crash', () => bigErrors.push('the page crashed (out of memory?)'));
    await bigPage.goto(pathToFileURL(pagePath).href);
    const started = Date.now();
    await bigPage.setInputFiles('#file-input', bigFile);
    await bigPage.waitForFunction(() => document.body.dataset.state === 'ready' && performance.getEntriesByName('ldcache:painted').length === 1, undefined, { polling: 200, timeout: 300_000 });
    const wallBig = Date.now() - started;
    const bigSummary = await bigPage.textContent('[data-testid="summary"]');
    const rows = await bigPage.locator('[data-testid="entries-grid"] [role="row"]').count();
    const heap = await (await bigPage.context().newCDPSession(bigPage)).send('Runtime.getHeapUsage');
    if (bigSummary !== `${BIG} libs found in cache` || bigErrors.length) throw new Error(`${BIG.toLocaleString('en-US')} entries: ${bigSummary}; ${bigErrors.join('; ')}`);
    console.log(
      `inspector, ${BIG.toLocaleString('en-US')} entries (${(readFileSync(bigFile).length / 1e6).toFixed(0)} MB): ready with ${rows} rows in the DOM after ${wallBig} ms (wall, one run); ` +
        `JS heap ${(heap.usedSize / 1e6).toFixed(0)} MB used of ${(heap.totalSize / 1e6).toFixed(0)} MB, array buffers and wasm memory ${(heap.backingStorageSize / 1e6).toFixed(0)} MB`,
    );
    await bigPage.close();
  }
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
