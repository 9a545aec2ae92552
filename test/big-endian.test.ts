// Big-endian and foreign caches. Two sources of truth: (1) caches written and printed by a
// foreign architecture's own ldconfig (Debian's s390x, ppc64el, i386 libc-bin under
// qemu-user-static, see scripts/fixtures/foreign-ldconfig.sh), and (2) the test writer, which
// writes the same entries in both byte orders: a big-endian file must print exactly what the
// real ldconfig prints for its little-endian twin. Both wasm builds run every check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLdCache } from '../src/core/parse.js';
import { formatLdconfigBytes } from '../src/core/format-ldconfig.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { writeCache, writerEntriesOf, type WriteCacheOptions, type WriterEntry } from './helpers/cache-writer.js';
import { buildSharedObject, ldconfigPrint, ldconfigVersion, makeTempDir, writeCacheWithLdconfig } from './helpers/so-builder.js';
import { parseBaseline } from '../bench/baseline-parser.mjs';
import { need } from './helpers/requirements.js';

const script = fileURLToPath(new URL('../scripts/fixtures/foreign-ldconfig.sh', import.meta.url));
const fixtureRoot = process.env.LDCACHE_FIXTURE_DIR ?? join(tmpdir(), 'ldcache-fixtures');
const FOREIGN = ['s390x', 'ppc64el', 'i386'] as const;
const FORMATS = ['new', 'compat', 'old'] as const;
const hasLdconfig236 = ldconfigVersion() === '2.36';

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}

/** arch -> fixture dir, or the reason it is missing. */
const fixtures = new Map<string, { dir?: string; why?: string }>();
let temp: { dir: string; cleanup: () => void } | undefined;
/** Entries of a real little-endian cache (ldconfig 2.36, gcc-built root with glibc-hwcaps). */
let realEntries: WriterEntry[] = [];
let realGenerator: string | undefined;

beforeAll(() => {
  temp = makeTempDir('ldcache-be-');
  for (const arch of FOREIGN) {
    const dir = join(fixtureRoot, arch);
    const run = spawnSync('sh', [script, arch, dir], { encoding: 'utf8', timeout: 240_000 });
    if (run.status === 0 && existsSync(join(dir, 'complete'))) fixtures.set(arch, { dir });
    else fixtures.set(arch, { why: (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').pop() });
  }
  if (hasLdconfig236) {
    const root = join(temp.dir, 'root');
    const lib = join(root, 'usr/lib/x86_64-linux-gnu');
    for (const name of ['libone.so.1', 'libtwo.so.2', 'libtwo.so.10', 'lib\t%odd.so.1']) buildSharedObject({ dir: lib, file: `libf${name.length}-${name.charCodeAt(3)}.so`, soname: name });
    for (const level of ['x86-64-v2', 'x86-64-v3']) buildSharedObject({ dir: join(lib, 'glibc-hwcaps', level), file: 'libone.so.1', soname: 'libone.so.1' });
    buildSharedObject({ dir: join(lib, 'haswell'), file: 'libtwo.so.2', soname: 'libtwo.so.2' });
    const reference = parseBaseline(readFileSync(writeCacheWithLdconfig({ root, dirs: ['/usr/lib/x86_64-linux-gnu'] })));
    realGenerator = reference.generator;
    realEntries = writerEntriesOf(reference.entries);
  }
});

afterAll(() => temp?.cleanup());

const varied: WriterEntry[] = [0x0403, 0x0003, 0x0503, 0x0a03, 0x0903, 0x0001, 0x7f04, -1].map((flags, i) => ({
  name: `libbe${i}.so.${i}`,
  path: `/lib/s390x-linux-gnu/libbe${i}.so.${i}`,
  flags,
  osVersion: i * 0x01010101,
  hwcap: [0n, 0x0000001000000000n, 0x4000000000000001n][i % 3],
}));

for (const build of ['release', 'debug'] as const) {
  describe(`big-endian and foreign caches (${build} wasm)`, () => {
    beforeAll(() => {
      useWasmBinary(readFileSync(fileURLToPath(new URL(`../build/${build === 'release' ? 'ldcache.wasm' : 'ldcache.debug.wasm'}`, import.meta.url))));
    });

    for (const arch of FOREIGN) {
      for (const format of FORMATS) {
        it(`prints the ${arch} ldconfig's ${format} cache exactly as that ldconfig does`, (ctx) => {
          const fixture = fixtures.get(arch);
          need(ctx, !fixture?.dir && `no ${arch} fixture: ${fixture?.why}`);
          const file = join(fixture!.dir!, `cache.${format}`);
          const expected = readFileSync(join(fixture!.dir!, `print.${format}`));
          const cache = parseLdCache(readFileSync(file), { file });
          expect(cache.format).toBe(format);
          expect(cache.byteOrder).toBe(arch === 's390x' ? 'big' : 'little');
          expect(cache.count).toBeGreaterThan(10);
          expect(latin1(formatLdconfigBytes(cache, file))).toBe(latin1(expected));
        });
      }
    }

    it('reads the s390x entries with their ABI: 64-bit and 31-bit libc6', (ctx) => {
      const dir = fixtures.get('s390x')?.dir;
      need(ctx, !dir && `no s390x fixture: ${fixtures.get('s390x')?.why}`);
      const cache = parseLdCache(readFileSync(join(dir!, 'cache.new')));
      const flags = new Set(cache.entries.map((e) => e.flags));
      // 64-bit libc6, 31-bit libc6, and 31-bit objects without a libc dependency (ELF).
      expect(flags.has(0x0403) && flags.has(0x0003)).toBe(true);
      expect([...flags].every((f) => [0x0403, 0x0003, 0x0001].includes(f))).toBe(true);
      expect(cache.entries.find((e) => e.flags === 0x0403)?.bits).toBe(64);
      expect(cache.hwcapDirs).toEqual(['z15']);
    });

    const shapes: Array<[string, () => WriterEntry[], Partial<WriteCacheOptions>]> = [
      ['real ldconfig entries', () => realEntries, {}],
      ['varied flags, osversion and hwcap values', () => varied, {}],
      ['a pre-2.33 writer (flags byte 0, no extensions)', () => varied, { endianFlag: 0, noExtensions: true, strings: 'sequential' }],
    ];
    for (const [what, entries, extra] of shapes) {
      for (const format of FORMATS) {
        it(`a big-endian ${format} cache of ${what} prints as ldconfig prints its little-endian twin`, (ctx) => {
          need(ctx, !hasLdconfig236 && 'needs the real ldconfig 2.36 to print the little-endian twin');
          expect(entries().length).toBeGreaterThan(0);
          const options = { format, entries: entries(), generator: realGenerator, ...extra } as WriteCacheOptions;
          const little = writeCache({ ...options, byteOrder: 'little' }).bytes;
          const big = writeCache({ ...options, byteOrder: 'big' }).bytes;
          expect(latin1(big)).not.toBe(latin1(little));
          const file = join(temp!.dir, `twin-${format}-${what.length}.cache`);
          writeFileSync(file, little);
          const expected = ldconfigPrint(file);
          expect(expected.status, expected.stderr.toString()).toBe(0);
          const parsed = parseLdCache(big, { file });
          expect(parsed.byteOrder).toBe('big');
          expect(parsed.format).toBe(format);
          // In compat files glibc resolves glibc-hwcaps names at a wrong base (spec 8.4), reading
          // bytes that differ between the byte orders: the s390x fixture checks that case.
          const comparable = (text: string): string => (format === 'compat' ? text.replace(/hwcap: "[^"]*"/g, 'hwcap: "?"') : text);
          expect(comparable(latin1(formatLdconfigBytes(parsed, file)))).toBe(comparable(latin1(expected.stdout)));
          // The big-endian entries carry the same numbers as the little-endian ones.
          const twin = parseLdCache(little);
          expect(parsed.entries.map((e) => [e.flags, e.hwcap, e.osVersion, e.name, e.path])).toEqual(
            twin.entries.map((e) => [e.flags, e.hwcap, e.osVersion, e.name, e.path]),
          );
        });
      }
    }

    it('refuses a big-endian cache whose flags byte says invalid', () => {
      const bytes = writeCache({ format: 'new', entries: varied, byteOrder: 'big', endianFlag: 1 }).bytes;
      expect(() => parseLdCache(bytes)).toThrow(expect.objectContaining({ code: 'BAD_ENDIANNESS', offset: 28 }));
    });
  });
}
