// The browser-safe core API on caches written by the real ldconfig: every layout, the model,
// `ldconfig -p` byte for byte, JSON, reading files, and the wasm input region's evict-on-reuse.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheToJSON, entryToJSON, formatLdconfig, formatLdconfigBytes, LdCacheError, parseLdCache } from '../src/index.js';
import { readLdCache } from '../src/node/read-cache.js';
import { canBuildCaches, makeRoot, type TempRoot } from './core-helpers.js';
import { buildSharedObject, ldconfigPrint, makeTempDir, writeCacheWithLdconfig } from './helpers/so-builder.js';
import { describeNeeding } from './helpers/requirements.js';

describeNeeding('caches written by ldconfig', !canBuildCaches && 'needs gcc and ldconfig', () => {
  let root: TempRoot;
  beforeAll(() => {
    root = makeRoot([
      { dir: '/lib', soname: 'libfoo.so.1' },
      { dir: '/lib', soname: 'libbar.so.2' },
      { dir: '/usr/lib', soname: 'libbaz.so.3' },
      { dir: '/lib/glibc-hwcaps/x86-64-v3', soname: 'libfoo.so.1' },
      { dir: '/lib/glibc-hwcaps/x86-64-v4', soname: 'libbar.so.2' },
    ]);
  });
  afterAll(() => root.cleanup());

  for (const format of ['new', 'compat', 'old'] as const) {
    it(`${format}: formatLdconfigBytes equals the real ldconfig -p byte for byte`, () => {
      const file = root.cache(format);
      const real = ldconfigPrint(file);
      expect(real.status).toBe(0);
      const cache = readLdCache(file);
      expect(cache.format).toBe(format);
      expect(cache.byteOrder).toBe('little');
      expect(Buffer.from(formatLdconfigBytes(cache, file)).equals(real.stdout)).toBe(true);
      expect(formatLdconfig(cache, file)).toBe(real.stdout.toString('utf8'));
    });
  }

  it('include: only the accepted entries, each line exactly as ldconfig -p prints it (compat hwcaps quirk too)', () => {
    for (const format of ['new', 'compat'] as const) {
      const file = root.cache(format);
      const real = ldconfigPrint(file).stdout.toString('latin1');
      // ldconfig's text without the three plain entries' lines (compat hwcaps names may hold a newline).
      const plain = /^\t[^\n]* => (\/lib\/libfoo\.so\.1|\/usr\/lib\/libbaz\.so\.3|\/lib\/libbar\.so\.2)\n/gm;
      expect(real.match(plain)?.length, format).toBe(3);
      const wanted = real.replace(plain, '').replace(/^5 libs/, '2 libs');
      const text = formatLdconfigBytes(readLdCache(file), file, { include: (e) => e.path.includes('/glibc-hwcaps/') });
      expect(Buffer.from(text).toString('latin1'), format).toBe(wanted);
    }
  });

  it('the model: names, paths, flags, arch, hwcaps names resolved the true way', () => {
    const file = root.cache('compat');
    const cache = parseLdCache(readFileSync(file), { file });
    expect(cache.count).toBe(5);
    expect(cache.entries.length).toBe(5);
    expect(cache.hwcapDirs).toEqual(['x86-64-v3', 'x86-64-v4']);
    expect(cache.generator).toMatch(/^ldconfig .* release version \d+\.\d+/);
    const byPath = new Map(cache.entries.map((e) => [e.path, e]));
    const v3 = byPath.get('/lib/glibc-hwcaps/x86-64-v3/libfoo.so.1')!;
    expect(v3.name).toBe('libfoo.so.1');
    // glibc prints "" here (compat quirk); the model gives the truth.
    expect(v3.hwcapName).toBe('x86-64-v3');
    expect(v3.hwcap >> 62n).toBe(1n);
    expect(v3.isHwcapsEntry).toBe(true);
    expect(v3.isaLevel).toBe(0); // gcc-built without an x86 ISA note: ldconfig stores level 0 (see the ISA test below)
    const plain = byPath.get('/usr/lib/libbaz.so.3')!;
    expect(plain.isHwcapsEntry).toBe(false);
    expect(plain.isaLevel).toBe(0);
    expect(plain).toMatchObject({ name: 'libbaz.so.3', flags: 0x303, type: 3, required: 0x300, arch: 'x86-64', bits: 64, hwcap: 0n, hwcapName: undefined });
    // Offsets address the parsed bytes.
    const bytes = readFileSync(file);
    expect(bytes.subarray(plain.nameOffset, plain.nameOffset + plain.nameLength).toString()).toBe('libbaz.so.3');
    expect(bytes[plain.pathOffset + plain.pathLength]).toBe(0);
    expect([...cache].map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('JSON: plain objects or views that stringify the same, hwcap as hex', () => {
    const cache = readLdCache(root.cache('new'));
    const json = cacheToJSON(cache, { plain: true });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json).toMatchObject({ format: 'new', byteOrder: 'little', count: 5, hwcapDirs: ['x86-64-v3', 'x86-64-v4'] });
    const first = json.entries[0];
    expect(first.hwcap).toMatch(/^0x4000000[0-3]00000000$/);
    expect(first.hwcapName).toBe('x86-64-v3');
    expect(entryToJSON(cache.entries[4])).toEqual(json.entries[4]);
    expect(JSON.stringify(cache.entries[2])).toBe(JSON.stringify(json.entries[2]));
    const views = cacheToJSON(cache);
    expect(JSON.stringify(views)).toBe(JSON.stringify(json));
    expect(views.entries[0].hwcapName).toBe('x86-64-v3');
    expect(views.entries.map((v) => v.path)).toEqual(json.entries.map((e) => e.path));
  });

  it('readLdCache({ root }) reads ROOT/etc/ld.so.cache', () => {
    root.cache('new', 'etc/ld.so.cache');
    const cache = readLdCache({ root: root.root });
    expect(cache.count).toBe(5);
    expect(cache.file).toBe(`${root.root}/etc/ld.so.cache`);
  });

  it('readLdCache reads a FIFO (no size from stat) through the incremental parser', () => {
    const source = root.cache('new', 'fifo-source.cache');
    const fifo = join(root.root, 'cache.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', source, fifo], { stdio: 'ignore' });
    try {
      const cache = readLdCache(fifo);
      expect(formatLdconfig(cache, 'x')).toBe(formatLdconfig(readLdCache(source), 'x'));
    } finally {
      writer.kill();
    }
  });

  it('a parse that reuses the input region leaves earlier caches intact (evict on reuse)', () => {
    const a = readLdCache(root.cache('new', 'a.cache'));
    const aText = formatLdconfig(a, 'a');
    const aPaths = a.entries.map((e) => e.path);
    const b = readLdCache(root.cache('old', 'b.cache'));
    const c = parseLdCache(new Uint8Array(readFileSync(root.cache('compat', 'c.cache'))));
    expect(formatLdconfig(a, 'a')).toBe(aText);
    expect(a.entries.map((e) => e.nameBytes.length)).toEqual(a.entries.map((e) => e.name.length));
    expect(a.entries.map((e) => e.path)).toEqual(aPaths);
    expect(b.format).toBe('old');
    expect(c.format).toBe('compat');
    expect(formatLdconfig(b, 'b')).toBe(ldconfigPrint(root.cache('old', 'b.cache')).stdout.toString().replace("`" + `${root.root}/b.cache'`, "`b'"));
  });
});

// The ISA levels glibc documents for x86-64 (the psABI's GNU_PROPERTY_X86_ISA_1_NEEDED bits:
// V2 = bit 1, V3 = bit 2, V4 = bit 3; ldconfig stores the highest bit's index): objects linked with
// `-z x86-64-vN` carry that note (readelf shows it), and isaLevel must be the documented level.
const GLIBC_ISA_LEVELS = { 'x86-64-v2': 1, 'x86-64-v3': 2, 'x86-64-v4': 3 } as const;

describeNeeding('x86-64 ISA levels', !canBuildCaches && 'needs gcc and ldconfig', () => {
  it('isaLevel is the level glibc documents for the object\'s x86 ISA needed note', () => {
    const temp = makeTempDir('ldcache-isa-');
    try {
      const root = join(temp.dir, 'root');
      for (const level of Object.keys(GLIBC_ISA_LEVELS)) {
        const file = buildSharedObject({ dir: join(root, 'lib/glibc-hwcaps', level), file: 'libisa.so.1', soname: 'libisa.so.1', linkerOptions: ['-z', level] });
        expect(execFileSync('readelf', ['-n', file], { encoding: 'utf8' })).toMatch(new RegExp(`x86 ISA needed: .*${level}\\b`));
      }
      buildSharedObject({ dir: join(root, 'lib'), file: 'libisa.so.1', soname: 'libisa.so.1' });
      const file = writeCacheWithLdconfig({ root, dirs: ['/lib'] });
      const cache = parseLdCache(readFileSync(file), { file });
      const levels = Object.fromEntries(cache.entries.map((e) => [e.hwcapName ?? 'none', e.isaLevel]));
      expect(levels).toEqual({ ...GLIBC_ISA_LEVELS, none: 0 });
    } finally {
      temp.cleanup();
    }
  });
});

describe('errors', () => {
  it('readLdCache on a missing file: READ_FAILED naming the file', () => {
    const error = (() => {
      try {
        readLdCache('/nonexistent/ld.so.cache');
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(LdCacheError);
    expect((error as LdCacheError).code).toBe('READ_FAILED');
    expect((error as LdCacheError).describe()).toBe('/nonexistent/ld.so.cache: No such file or directory');
  });

  it('readLdCache on a directory: READ_FAILED, Is a directory', () => {
    expect(() => readLdCache('/tmp')).toThrow(expect.objectContaining({ code: 'READ_FAILED', message: 'Is a directory' }));
  });

  it('bad magic and empty input', () => {
    expect(() => parseLdCache(new TextEncoder().encode('glibc-ld.so.cache1.0' + '\0'.repeat(40)))).toThrow(
      expect.objectContaining({ code: 'BAD_MAGIC', offset: 19 }),
    );
    expect(() => parseLdCache(new Uint8Array(0), { file: 'x' })).toThrow(expect.objectContaining({ code: 'EMPTY', file: 'x' }));
  });
});
