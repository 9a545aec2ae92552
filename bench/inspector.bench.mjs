// The browser inspector at 200,000 entries, in headless Chromium: time from choosing the file to
// the summary and first rows shown, against a straightforward JavaScript parser (DataView +
// TextDecoder, bench/baseline-parser.mjs) run in the same page on the same file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { Bench } from 'tinybench';

const here = dirname(fileURLToPath(import.meta.url));
const pagePath = join(here, '..', 'dist', 'inspector.html');
const chromiumPath = process.env.LDCACHE_CHROMIUM ?? '/usr/bin/chromium';
const ENTRIES = Number(process.env.LDCACHE_BENCH_ENTRIES ?? 200_000);

if (!existsSync(chromiumPath) || !existsSync(pagePath)) {
  console.log(`inspector bench skipped: ${existsSync(chromiumPath) ? pagePath : chromiumPath} is missing`);
  process.exit(0);
}

/** A new-format cache (glibc 2.33+ layout, little-endian) with `count` entries over 200 directories. */
function writeNewFormatCache(count) {
  const encoder = new TextEncoder();
  const strings = [];
  let stringsLength = 0;
  const entries = [];
  const put = (text) => {
    const bytes = encoder.encode(`${text}\0`);
    strings.push(bytes);
    const offset = stringsLength;
    stringsLength += bytes.length;
    return offset;
  };
  for (let i = 0; i < count; i++) {
    const name = `libbench${count - i}.so.${i % 5}`;
    const path = put(`/usr/lib/x86_64-linux-gnu/pkg${i % 200}/${name}`);
    // The name is the path's tail, as ldconfig 2.33+ shares it.
    entries.push({ flags: i % 9 === 0 ? 0x0003 : 0x0303, key: path + `/usr/lib/x86_64-linux-gnu/pkg${i % 200}/`.length, value: path });
  }
  const generator = encoder.encode('ldcache bench writer stable release version 2.36');
  const tableEnd = 48 + 24 * count;
  const stringsStart = tableEnd;
  const extension = (stringsStart + stringsLength + 3) & ~3;
  const file = new Uint8Array(extension + 8 + 16 + generator.length);
  const view = new DataView(file.buffer);
  file.set(encoder.encode('glibc-ld.so.cache1.1'), 0);
  view.setUint32(20, count, true);
  view.setUint32(24, stringsLength, true);
  file[28] = 2; // little-endian
  view.setUint32(32, extension, true);
  entries.forEach((entry, i) => {
    const at = 48 + 24 * i;
    view.setInt32(at, entry.flags, true);
    view.setUint32(at + 4, stringsStart + entry.key, true);
    view.setUint32(at + 8, stringsStart + entry.value, true);
  });
  let at = stringsStart;
  for (const bytes of strings) {
    file.set(bytes, at);
    at += bytes.length;
  }
  view.setUint32(extension, 0xeaa42174, true);
  view.setUint32(extension + 4, 1, true);
  view.setUint32(extension + 8, 0, true); // tag: generator
  view.setUint32(extension + 16, extension + 24, true);
  view.setUint32(extension + 20, generator.length, true);
  file.set(generator, extension + 24);
  return file;
}

const work = mkdtempSync(join(tmpdir(), 'ldcache-inspector-bench-'));
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const cacheFile = join(work, 'bench.cache');
  writeFileSync(cacheFile, writeNewFormatCache(ENTRIES));
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
} finally {
  await browser.close();
  rmSync(work, { recursive: true, force: true });
}
