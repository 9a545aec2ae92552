// The browser inspector (dist/inspector.html) in real headless Chromium, fed caches written by the
// real ldconfig over gcc-built libraries, and checked against what `ldconfig -p` prints for them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseLdCache } from '../src/core/parse.js';
import { classifyNvidiaCache } from '../src/core/nvidia.js';
import { LdCacheError } from '../src/core/errors.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { chromiumSkipReason, chooseFiles as choose, launchChromium, openWatchedPage, renderedRows, type Browser, type Page, type PageWatch } from './helpers/chromium.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { buildSharedObject, canBuild, ldconfigPath, makeTempDir, writeCacheWithLdconfig, type LdconfigFormat } from './helpers/so-builder.js';
import { describeNeeding, need } from './helpers/requirements.js';
import { buildTwoDriverRoot, DRIVER, LEFTOVER, LEFTOVER_DIR } from './helpers/two-drivers.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pagePath = join(repo, 'dist', 'inspector.html');
const pageUrl = pathToFileURL(pagePath).href;
const screenshots = process.env.LDCACHE_SCREENSHOTS ?? join(tmpdir(), 'ldcache-inspector-screenshots');

/** Writes a screenshot for a person to look at (light and dark views of every tab). */
async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`) });
}

const skipReason =
  chromiumSkipReason() ??
  (ldconfigPath() ? undefined : 'the real ldconfig is not installed') ??
  (existsSync(pagePath) ? undefined : `${pagePath} is missing (run npm run build)`);

interface PrintedEntry {
  name: string;
  /** The text inside the parentheses: flags words and any hwcap part. */
  inner: string;
  path: string;
}

interface Printed {
  bytes: Buffer;
  text: string;
  count: number;
  entries: PrintedEntry[];
}

/** `ldconfig -p -C NAME` run in the file's directory, so its header names the file as the page does. */
function ldconfigP(file: string): Printed {
  const result = spawnSync(ldconfigPath()!, ['-p', '-C', basename(file)], { cwd: dirname(file), env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`ldconfig -p -C ${file} failed: ${result.stderr.toString()}`);
  const text = result.stdout.toString('utf8');
  const lines = text.split('\n');
  const entries = lines
    .map((line) => /^\t(.*) \((.*)\) => (.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, name, inner, path]) => ({ name: name!, inner: inner!, path: path! }));
  return { bytes: result.stdout, text, count: Number(/^(\d+) libs found in cache/.exec(lines[0]!)![1]), entries };
}


/**
 * A new-format cache with `count` entries over 200 directories, from the test writer (strings
 * stored one after another: sharing suffixes costs a sort of 400,000 strings). A tenth of the
 * entries are i386. `ldconfig -p` of it is the reference.
 */
function bigNewFormatCache(count: number): Uint8Array {
  const entries: WriterEntry[] = [];
  for (let i = 0; i < count; i++) {
    const name = `libgen${count - i}.so.${i % 7}`;
    entries.push({ name, path: `/usr/lib/x86_64-linux-gnu/d${i % 200}/${name}`, flags: i % 10 === 0 ? 0x0003 : 0x0303 });
  }
  return writeCache({ format: 'new', entries, strings: 'sequential', generator: 'ldcache inspector test writer stable release version 2.36' }).bytes;
}

const FOREIGN_ARCHES = ['s390x', 'ppc64el', 'i386'] as const;

/**
 * The directory of a foreign architecture's fixture (scripts/fixtures/foreign-ldconfig.sh:
 * cache.F and print.F): the shared one when another test already made it, else our own.
 */
function foreignFixture(arch: string): string | { why: string } {
  const shared = join(process.env.LDCACHE_FIXTURE_DIR ?? join(tmpdir(), 'ldcache-fixtures'), arch);
  if (existsSync(join(shared, 'complete'))) return shared;
  // Not the shared directory: a concurrent run of the script there by another test file would clash.
  const own = join(tmpdir(), 'ldcache-fixtures-inspector', arch);
  const script = join(repo, 'scripts', 'fixtures', 'foreign-ldconfig.sh');
  const run = spawnSync('sh', [script, arch, own], { encoding: 'utf8', timeout: 240_000 });
  if (run.status === 0 && existsSync(join(own, 'complete'))) return own;
  return { why: (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').pop() ?? 'unknown' };
}

describeNeeding('browser inspector', skipReason, () => {
  const temp = makeTempDir('ldcache-inspector-');
  const root = join(temp.dir, 'root');
  const caches: Record<LdconfigFormat, string> = { new: '', compat: '', old: '' };
  let browser: Browser;
  let page: Page;
  let watch: PageWatch;
  let closePage: () => Promise<void>;

  const dirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/i386-linux-gnu', '/usr/libx32', '/opt/vendor/lib'];

  function buildRoot(at: string, variant: 'a' | 'b'): void {
    const lib = (dir: string, file: string, soname: string, bits: 64 | 32 | 'x32' = 64, needed: string[] = []) =>
      buildSharedObject({ dir: join(at, dir), file, soname, bits, needed });
    lib('/usr/lib/x86_64-linux-gnu', 'libalpha.so.1.2.3', 'libalpha.so.1');
    lib('/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3', 'libalpha.so.1.2.3', 'libalpha.so.1');
    lib(variant === 'a' ? '/usr/lib/x86_64-linux-gnu' : '/opt/vendor/lib', 'libbeta.so.2.0', 'libbeta.so.2');
    if (variant === 'a') lib('/usr/lib/x86_64-linux-gnu', 'libgamma.so.3', 'libgamma.so.3');
    else lib('/usr/lib/x86_64-linux-gnu', 'libepsilon.so.5', 'libepsilon.so.5');
    lib('/usr/lib/x86_64-linux-gnu', 'libshared.so.10', 'libshared.so.10');
    lib('/usr/lib/x86_64-linux-gnu', 'libuni.so.1', 'libünï-ωmega.so.1'); // not ASCII: the page's slow decoding path
    lib('/opt/vendor/lib', 'libshared.so.9', 'libshared.so.9');
    if (canBuild(32)) {
      lib('/usr/lib/i386-linux-gnu', 'libalpha.so.1.2.3', 'libalpha.so.1', 32, ['libc.so.6']);
      lib('/usr/lib/i386-linux-gnu', 'libdelta.so.4', 'libdelta.so.4', 32);
    }
    if (canBuild('x32')) lib('/usr/libx32', 'libalpha.so.1.2.3', 'libalpha.so.1', 'x32');
  }

  beforeAll(async () => {
    buildRoot(root, 'a');
    for (const format of ['new', 'compat', 'old'] as const) {
      caches[format] = writeCacheWithLdconfig({ root, dirs, format, cacheFile: `/etc/${format}.cache` });
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    temp.cleanup();
  });

  async function open(options: Parameters<typeof openWatchedPage>[1] = {}, url = pageUrl): Promise<void> {
    const opened = await openWatchedPage(browser, options);
    page = opened.page;
    watch = opened.watch;
    closePage = () => opened.context.close();
    await page.goto(url);
  }

  afterEach(async () => {
    // Every test: no console error, no CSP violation, no request leaving the page.
    expect(watch?.errors ?? []).toEqual([]);
    expect(watch?.network ?? []).toEqual([]);
    await closePage?.();
  });

  for (const format of ['new', 'compat', 'old'] as const) {
    it(`shows a ${format}-format cache as ldconfig -p reads it (file://)`, async () => {
      const printed = ldconfigP(caches[format]);
      await open();
      await choose(page, caches[format]);
      expect(await page.getAttribute('body', 'data-state')).toBe('ready');
      expect(await page.textContent('[data-testid="summary"]')).toBe(`${printed.count} libs found in cache`);
      expect(await page.textContent('[data-testid="layout"]')).toContain(format);
      expect(await page.textContent('[data-testid="byte-order"]')).toBe('little-endian');
      expect(await page.getAttribute('[data-testid="entries-grid"]', 'aria-rowcount')).toBe(String(printed.entries.length + 1));

      const rows = await renderedRows(page);
      expect(rows.length).toBe(printed.entries.length);
      for (const row of rows) {
        const want = printed.entries[row.position]!;
        expect(row.cells[1]).toBe(want.name);
        expect(want.inner.startsWith(row.cells[2]!)).toBe(true);
        expect(row.cells[4]).toBe(want.path);
      }
      if (format === 'new') {
        expect(await page.textContent('[data-testid="hwcap-dirs"]')).toContain('x86-64-v3');
        expect(rows.some((row) => row.cells[3] === 'x86-64-v3')).toBe(true);
      }

      await page.click('#tab-text');
      expect(await page.inputValue('[data-testid="ldconfig-text"]')).toBe(printed.text);
      await shot(page, `${format}-text`);
    });
  }

  it('reads a big-endian cache (s390x-shaped) and prints what the LE twin prints', async () => {
    const entries: WriterEntry[] = [
      { name: 'libutil.so.1', path: '/lib/s390x-linux-gnu/libutil.so.1', flags: 0x0403 },
      { name: 'libutil.so.1', path: '/lib32/libutil.so.1', flags: 0x0003 },
      { name: 'libz.so.1', path: '/lib/s390x-linux-gnu/glibc-hwcaps/z15/libz.so.1', flags: 0x0403, hwcapDir: 'z15' },
      { name: 'libz.so.1', path: '/lib/s390x-linux-gnu/libz.so.1', flags: 0x0403 },
    ];
    const generator = 'ldconfig (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36';
    const files: Record<'big' | 'little', string> = { big: '', little: '' };
    for (const byteOrder of ['big', 'little'] as const) {
      const dir = join(temp.dir, byteOrder);
      mkdirSync(dir, { recursive: true });
      files[byteOrder] = join(dir, 'foreign.cache');
      writeFileSync(files[byteOrder], writeCache({ format: 'new', byteOrder, entries, generator, sort: true }).bytes);
    }
    const printed = ldconfigP(files.little);
    await open();
    await choose(page, files.big);
    expect(await page.textContent('[data-testid="byte-order"]')).toBe('big-endian');
    expect(await page.textContent('[data-testid="summary"]')).toBe(`${printed.count} libs found in cache`);
    expect(await page.textContent('[data-testid="generator"]')).toBe(generator);
    await page.click('#tab-text');
    expect(await page.inputValue('[data-testid="ldconfig-text"]')).toBe(printed.text);
  });

  it('names the file and the byte offset of damage, then reads the next good file', async () => {
    const good = readFileSync(caches.new);
    const damaged = join(temp.dir, 'damaged.cache');
    writeFileSync(damaged, good.subarray(0, 48 + 24 + 7)); // cut inside the entry table
    const expected = (() => {
      try {
        parseLdCache(new Uint8Array(readFileSync(damaged)));
      } catch (err) {
        if (err instanceof LdCacheError) return err.describe('damaged.cache');
      }
      throw new Error('the core accepted a truncated cache');
    })();
    expect(expected).toMatch(/^damaged\.cache: .+ \(at byte \d+\)$/);

    await open();
    await choose(page, damaged);
    expect(await page.getAttribute('body', 'data-state')).toBe('error');
    expect(await page.isVisible('[data-testid="error"]')).toBe(true);
    expect(await page.textContent('[data-testid="error"]')).toContain(expected);
    await shot(page, 'error-light');

    // An empty file, then a file that is no cache at all (an ELF object).
    const empty = join(temp.dir, 'empty.cache');
    writeFileSync(empty, '');
    await choose(page, empty);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/^Cannot read this cache\. empty\.cache: .+ \(at byte 0\)$/);
    const notACache = join(root, 'usr/lib/x86_64-linux-gnu/libgamma.so.3');
    await choose(page, notACache);
    expect(await page.textContent('[data-testid="error"]')).toMatch(/^Cannot read this cache\. libgamma\.so\.3: .+ \(at byte 0\)$/);

    const printed = ldconfigP(caches.new);
    await choose(page, caches.new);
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    expect(await page.isVisible('[data-testid="error"]')).toBe(false);
    expect(await page.textContent('[data-testid="summary"]')).toBe(`${printed.count} libs found in cache`);
  });

  it('searches, filters, sorts and moves the selection with the keyboard', async () => {
    const printed = ldconfigP(caches.new);
    await open();
    await choose(page, caches.new);
    const grid = '[data-testid="entries-grid"]';
    const activeRowIndex = () =>
      page.$eval(grid, (el) => document.getElementById(el.getAttribute('aria-activedescendant') ?? '')?.getAttribute('aria-rowindex') ?? null);

    // The table has the keyboard as soon as the file is shown.
    await page.keyboard.press('ArrowDown');
    expect(await activeRowIndex()).toBe('2');
    await page.keyboard.press('End');
    expect(await activeRowIndex()).toBe(String(printed.entries.length + 1));
    await page.keyboard.press('Home');
    expect(await activeRowIndex()).toBe('2');
    await page.keyboard.press('ArrowDown');
    expect(await activeRowIndex()).toBe('3');
    expect(await page.textContent('[data-testid="details"]')).toContain('#1');
    await page.keyboard.press('PageDown');
    expect(Number(await activeRowIndex())).toBe(Math.min(printed.entries.length + 1, 3 + Number(await page.$eval(`${grid} .grid-body`, (el) => Math.max(1, Math.floor(el.clientHeight / 24) - 1)))));

    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('entry-search');
    await page.keyboard.type('ALPHA');
    const matching = printed.entries.filter((e) => `${e.name}\n${e.path}`.toLowerCase().includes('alpha'));
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="entries-grid"] tbody tr').length === n, matching.length);
    expect((await renderedRows(page)).map((row) => row.cells[4])).toEqual(matching.map((e) => e.path));
    await page.fill('#entry-search', 'ÜNÏ-Ω');
    await page.waitForFunction(() => document.querySelector('[data-testid="shown-count"]')?.textContent?.startsWith('1 of'));
    expect((await renderedRows(page)).map((row) => row.cells[1])).toEqual(printed.entries.filter((e) => e.name.includes('ünï-ω')).map((e) => e.name));
    await page.fill('#entry-search', '');

    // Each architecture option shows as many rows as it says; together they are every entry.
    const options = await page.$$eval('#arch-filter option', (els) => els.map((el) => ({ value: (el as HTMLOptionElement).value, text: el.textContent ?? '' })));
    let sum = 0;
    for (const option of options.filter((o) => o.value)) {
      const count = Number(/\(([\d,]+)\)$/.exec(option.text)![1]!.replace(/,/g, ''));
      sum += count;
      await page.selectOption('#arch-filter', option.value);
      expect((await renderedRows(page)).length).toBe(count);
    }
    expect(sum).toBe(printed.entries.length);
    await page.selectOption('#arch-filter', '');

    await page.selectOption('#hwcap-filter', 'x86-64-v3');
    const hwcapRows = await renderedRows(page);
    expect(hwcapRows.map((row) => row.cells[4])).toEqual(printed.entries.filter((e) => e.inner.includes('hwcap: "x86-64-v3"')).map((e) => e.path));
    await page.selectOption('#hwcap-filter', '');

    await page.click(`${grid} [role="columnheader"]:nth-child(2) button`);
    expect(await page.getAttribute(`${grid} [role="columnheader"]:nth-child(2)`, 'aria-sort')).toBe('ascending');
    const sorted = printed.entries.map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect((await renderedRows(page)).map((row) => row.cells[1])).toEqual(sorted);
    await page.click(`${grid} [role="columnheader"]:nth-child(2) button`);
    expect((await renderedRows(page)).map((row) => row.cells[1])).toEqual([...sorted].reverse());
  });

  it('downloads the cache as JSON', async () => {
    const printed = ldconfigP(caches.compat);
    await open();
    await choose(page, caches.compat);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    expect(download.url()).toMatch(/^blob:/);
    const json = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { count: number; format: string; entries: { name: string; path: string }[] };
    expect(json.format).toBe('compat');
    expect(json.count).toBe(printed.count);
    expect(json.entries.map((e) => `${e.name} ${e.path}`)).toEqual(printed.entries.map((e) => `${e.name} ${e.path}`));
  });

  it('compares two caches: only in A, only in B, changed paths', async () => {
    const rootB = join(temp.dir, 'root-b');
    buildRoot(rootB, 'b');
    const cacheB = writeCacheWithLdconfig({ root: rootB, dirs, format: 'new', cacheFile: '/etc/b.cache' });
    const group = (p: Printed) => {
      const map = new Map<string, string[]>();
      for (const e of p.entries) map.set(`${e.name} (${e.inner})`, [...(map.get(`${e.name} (${e.inner})`) ?? []), e.path].sort());
      return map;
    };
    const a = group(ldconfigP(caches.new));
    const b = group(ldconfigP(cacheB));
    const onlyA = [...a.keys()].filter((k) => !b.has(k)).length;
    const onlyB = [...b.keys()].filter((k) => !a.has(k)).length;
    const changed = [...a.keys()].filter((k) => b.has(k) && a.get(k)!.join('\n') !== b.get(k)!.join('\n')).length;
    expect(onlyA + onlyB + changed).toBeGreaterThan(0);

    await open({ colorScheme: 'dark' });
    await choose(page, [caches.new, cacheB]);
    expect(await page.getAttribute('#tab-compare', 'aria-selected')).toBe('true');
    const count = async (kind: string) => Number(await page.getAttribute(`[data-testid="compare-${kind}"] b`, 'data-count'));
    expect(await count('only-a')).toBe(onlyA);
    expect(await count('only-b')).toBe(onlyB);
    expect(await count('changed')).toBe(changed);
    expect((await renderedRows(page, 'compare-grid')).length).toBe(onlyA + onlyB + changed);
    await page.click('[data-testid="compare-changed"]');
    const changedRows = await renderedRows(page, 'compare-grid');
    expect(changedRows.length).toBe(changed);
    for (const row of changedRows) expect(row.cells[0]).toBe('path changed');
    await page.click('[data-testid="compare-all"]');
    await shot(page, 'compare-dark');
  });

  describe("caches written and printed by a foreign architecture's own ldconfig (qemu-user-static)", () => {
    const found = new Map<string, string>();
    let why = '';
    beforeAll(() => {
      for (const arch of FOREIGN_ARCHES) {
        const result = foreignFixture(arch);
        if (typeof result === 'string') found.set(arch, result);
        else why ||= result.why;
      }
    });

    it('shows each as that ldconfig -p printed it (s390x big-endian, ppc64el, i386; every layout)', async (context) => {
      need(context, found.size < FOREIGN_ARCHES.length && `missing foreign fixtures: ${why}`);
      await open();
      for (const [arch, dir] of found) {
        for (const format of ['new', 'compat', 'old'] as const) {
          const printed = readFileSync(join(dir, `print.${format}`), 'latin1');
          // The fixture was printed with its full path as -C; the page names the file by its base name.
          const expected = printed.replace(/^(\d+ libs found in cache `)[^\n]*'\n/, `$1cache.${format}'\n`);
          await choose(page, join(dir, `cache.${format}`));
          expect(await page.textContent('[data-testid="summary"]'), `${arch} ${format}`).toBe(`${/^(\d+)/.exec(printed)![1]} libs found in cache`);
          expect(await page.textContent('[data-testid="byte-order"]')).toBe(arch === 's390x' ? 'big-endian' : 'little-endian');
          await page.click('#tab-text');
          expect(Buffer.from(await page.inputValue('[data-testid="ldconfig-text"]'), 'utf8').toString('latin1'), `${arch} ${format}`).toBe(expected);
          await page.click('#tab-entries');
        }
      }
    });
  });

  describe('NVIDIA driver with strays of another version', () => {
    let driver: DriverRoot;
    beforeAll(async () => {
      driver = await buildDriverRoot({ dir: temp.dir, strays: '470.256.02', devices: false, proc: false, binaries: false, firmware: false, ipc: false, gpus: 0 });
    });

    for (const scheme of ['light', 'dark'] as const) {
      it(`marks driver and stray entries (${scheme})`, async () => {
        const cacheFile = join(driver.root, 'etc', 'ld.so.cache');
        const printed = ldconfigP(cacheFile);
        await open({ colorScheme: scheme });
        await choose(page, cacheFile);
        await page.click('#tab-nvidia');
        const marks = await page.$$eval('[data-testid="nvidia-view"] li[data-nvidia]', (items) =>
          items.map((li) => ({ index: Number(li.getAttribute('data-index')), status: li.getAttribute('data-nvidia') })),
        );
        const status = new Map(marks.map((m) => [m.index, m.status]));
        let driverSeen = 0;
        let straySeen = 0;
        printed.entries.forEach((entry, index) => {
          if (entry.name.endsWith(`.so.${driver.version}`)) {
            expect(status.get(index), entry.name).toBe('driver');
            driverSeen++;
          }
          if (entry.name.endsWith('.so.470.256.02') || entry.path.includes('/tesla-470/')) {
            expect(status.get(index), `${entry.name} => ${entry.path}`).toBe('stray');
            straySeen++;
          }
          // No library of the other version's directory is taken for the driver's.
          if (/^lib(cuda|nvidia-ml)\.so\.1$/.test(entry.name) && !entry.path.includes('/tesla-470/')) expect(status.get(index)).toBe('driver');
        });
        expect(driverSeen).toBeGreaterThan(10);
        expect(straySeen).toBeGreaterThan(5);
        const versions = await page.textContent('[data-testid="nvidia-versions"]');
        expect(versions).toContain(driver.version);
        expect(versions).toContain('470.256.02');
        await shot(page, `nvidia-${scheme}`);

        // The entries table marks the same rows.
        await page.click('#tab-entries');
        await page.fill('#entry-search', '470.256.02');
        await page.waitForFunction(() => document.querySelector('[data-testid="shown-count"]')?.textContent?.includes(' of '));
        const strayRows = await renderedRows(page);
        expect(strayRows.length).toBeGreaterThan(0);
        for (const row of strayRows) expect(row.nvidia).toBe('stray');
        await page.fill('#entry-search', '');
        await page.waitForFunction(() => !document.querySelector('[data-testid="shown-count"]')?.textContent?.includes(' of '));
        await shot(page, `entries-${scheme}`);
      });
    }
  });

  it('runs under a Content-Security-Policy that allows wasm and nothing remote or injected', async () => {
    const html = readFileSync(pagePath, 'utf8');
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(policy).toBeDefined();
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("'wasm-unsafe-eval'");
    expect(policy).not.toMatch(/https?:|\*|'unsafe-eval'/);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//);

    await open();
    await choose(page, caches.new); // the wasm core compiled under the policy
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    const probe = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (event) => violations.push(event.effectiveDirective));
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      let fetched = true;
      try {
        await fetch('http://127.0.0.1:9/probe');
      } catch {
        fetched = false;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { injected: (window as unknown as { __injected?: boolean }).__injected === true, fetched, violations };
    });
    expect(probe.injected).toBe(false);
    expect(probe.fetched).toBe(false);
    expect(probe.violations).toEqual(expect.arrayContaining(['script-src-elem', 'connect-src']));
    // The two violations were provoked on purpose: Chromium reports them on the console.
    watch.errors.splice(0, watch.errors.length, ...watch.errors.filter((line) => !/Content Security Policy|CSP violation/i.test(line)));
    expect(watch.network).toEqual([]);
  });

  it('marks a second driver version in another directory as strays (libcuda.so.1 in two places)', async () => {
    const current = '/usr/lib/x86_64-linux-gnu';
    const old = '/opt/nvidia-470/lib';
    const build = (at: string, withVersionedNames: boolean) => {
      buildSharedObject({ dir: join(at, current), file: 'libcuda.so.535.261.03', soname: 'libcuda.so.1' });
      buildSharedObject({ dir: join(at, current), file: 'libnvidia-ml.so.535.261.03', soname: 'libnvidia-ml.so.1' });
      buildSharedObject({ dir: join(at, old), file: 'libcuda.so.470.256.02', soname: 'libcuda.so.1' });
      if (withVersionedNames) {
        buildSharedObject({ dir: join(at, current), file: 'libnvidia-glcore.so.535.261.03', soname: 'libnvidia-glcore.so.535.261.03' });
        buildSharedObject({ dir: join(at, old), file: 'libnvidia-glcore.so.470.256.02', soname: 'libnvidia-glcore.so.470.256.02' });
      }
      return writeCacheWithLdconfig({ root: at, dirs: [current, old], cacheFile: '/etc/two-versions.cache' });
    };
    const marks = async (file: string) => {
      await choose(page, file);
      await page.click('#tab-nvidia');
      const status = new Map(
        await page.$$eval('[data-testid="nvidia-view"] li[data-nvidia]', (items) => items.map((li) => [Number(li.getAttribute('data-index')), li.getAttribute('data-nvidia')] as const)),
      );
      await page.click('#tab-entries');
      return ldconfigP(file).entries.map((entry, index) => ({ ...entry, status: status.get(index) }));
    };
    await open();
    // With versioned names beside them: each directory shows its version.
    const versioned = await marks(build(join(temp.dir, 'two-versions'), true));
    for (const entry of versioned) {
      expect(entry.status, `${entry.name} => ${entry.path}`).toBe(entry.path.startsWith(old) ? 'stray' : 'driver');
    }
    expect(versioned.filter((e) => e.status === 'stray').length).toBe(2);
    expect(await page.textContent('[data-testid="nvidia-versions"]')).toContain('470.256.02');
    // The entries table carries the same marks.
    const rows = await renderedRows(page);
    for (const row of rows) expect(row.nvidia).toBe(versioned[row.position]!.status ?? null);

    // No version visible anywhere: the first libcuda.so.1 is the one the loader uses, the later one is shadowed.
    const bare = await marks(build(join(temp.dir, 'two-versions-bare'), false));
    const cuda = bare.filter((e) => e.name === 'libcuda.so.1');
    expect(cuda.map((e) => e.status)).toEqual(['driver', 'stray']);
    expect(cuda[1]!.path.startsWith(old)).toBe(true);
  });

  for (const order of ['leftover-first', 'driver-first'] as const) {
    it(`shows the core's driver version and strays, whichever driver's entries come first (${order})`, async () => {
      const file = buildTwoDriverRoot(join(temp.dir, `two-drivers-${order}`), order);
      await open();
      await choose(page, file);
      await page.click('#tab-nvidia');
      const status = new Map(
        await page.$$eval('[data-testid="nvidia-view"] li[data-nvidia]', (items) => items.map((li) => [Number(li.getAttribute('data-index')), li.getAttribute('data-nvidia')] as const)),
      );
      // Every driver library as ldconfig -p lists it: 535's are the driver's, the leftover 470's strays.
      const listed = ldconfigP(file).entries;
      expect(listed.filter((e) => e.name.startsWith('libcuda.so.1')).map((e) => e.path.startsWith(`${LEFTOVER_DIR}/`))).toEqual(order === 'leftover-first' ? [true, false] : [false, true]);
      expect(status.size).toBe(6);
      listed.forEach((entry, index) => expect(status.get(index), entry.path).toBe(entry.path.startsWith(`${LEFTOVER_DIR}/`) ? 'stray' : 'driver'));
      expect(await page.getAttribute('[data-testid="nvidia-versions"] .version-badge.driver', 'data-version')).toBe(DRIVER);
      expect(await page.getAttribute('[data-testid="nvidia-versions"] .version-badge.stray', 'data-version')).toBe(LEFTOVER);
      // Exactly the core's answer for the same file.
      const core = classifyNvidiaCache(parseLdCache(readFileSync(file)));
      expect(core.driverVersion).toBe(DRIVER);
      expect(new Map(core.entries.map((e) => [e.index, e.status]))).toEqual(status);
      await page.click('#tab-entries');
    });
  }

  it('works from a static http server and takes a dropped file', async () => {
    const server: Server = createServer((request, response) => {
      if (request.url === '/' || request.url === '/inspector.html') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(readFileSync(pagePath));
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const origin = `http://127.0.0.1:${port}`;
    try {
      const printed = ldconfigP(caches.old);
      await open({ allowedOrigin: origin }, `${origin}/inspector.html`);
      const bytes = [...readFileSync(caches.old)];
      await page.evaluate(
        ({ name, data }) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([new Uint8Array(data)], name));
          document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
        },
        { name: 'dropped.cache', data: bytes },
      );
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      expect(await page.textContent('[data-testid="summary"]')).toBe(`${printed.count} libs found in cache`);
      expect(await page.textContent('[data-testid="layout"]')).toContain('old');
    } finally {
      server.close();
    }
  });

  it('stays fluid at 200,000 entries: only the visible rows are in the DOM', async () => {
    const big = join(temp.dir, 'big.cache');
    writeFileSync(big, bigNewFormatCache(200_000));
    const printed = ldconfigP(big);
    await open();
    const started = Date.now();
    await choose(page, big);
    const elapsed = Date.now() - started;
    expect(await page.textContent('[data-testid="summary"]')).toBe('200000 libs found in cache');
    expect(elapsed).toBeLessThan(10_000);
    const rows = await renderedRows(page);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(120);
    await page.$eval('[data-testid="entries-grid"] .grid-body', (el) => el.scrollTo(0, el.scrollHeight));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="entries-grid"] [aria-rowindex="200001"]')].length === 1);
    const last = (await renderedRows(page)).find((row) => row.position === 199_999)!;
    expect(last.cells[1]).toBe(printed.entries[199_999]!.name);
    expect(last.cells[4]).toBe(printed.entries[199_999]!.path);

    // The ldconfig -p view is virtualized at this size; its download is the exact output.
    await page.click('#tab-text');
    const lines = await renderedRows(page, 'ldconfig-lines');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.length).toBeLessThan(120);
    const printedLines = printed.text.split('\n');
    for (const line of lines) expect(line.cells[0]).toBe(printedLines[line.position]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="ldconfig-download"]')]);
    expect(readFileSync((await download.path())!).equals(printed.bytes)).toBe(true);
  });
});

