// Damaged caches: every truncation, huge counts, offsets past the end, bad magic, version,
// endianness byte and extension directory. Each must fail with an LdCacheError whose code and
// byte offset are the ones the damage implies (derived here from the file's layout, per spec
// section 14), never with another exception, a wasm trap or an out-of-bounds read.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseLdCache } from '../src/core/parse.js';
import { LdCacheError, type LdCacheErrorCode } from '../src/core/errors.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { writeCache, type CacheLayout, type WriteCacheOptions, type WriterEntry } from './helpers/cache-writer.js';

interface Expected {
  code: LdCacheErrorCode;
  offset: number;
}

function parseError(bytes: Uint8Array): LdCacheError | undefined {
  try {
    parseLdCache(bytes, { file: 'damaged.cache' });
    return undefined;
  } catch (err) {
    if (!(err instanceof LdCacheError)) throw new Error(`not an LdCacheError: ${String(err)}`, { cause: err });
    return err;
  }
}

function expectError(bytes: Uint8Array, ...allowed: Expected[]): LdCacheError {
  const err = parseError(bytes);
  expect(err, `parse of ${bytes.length} bytes should fail with ${JSON.stringify(allowed)}`).toBeDefined();
  expect(allowed, `got ${err!.code} at ${err!.offset}: ${err!.message}`).toContainEqual({ code: err!.code, offset: err!.offset });
  const line = err!.describe('damaged.cache');
  expect(line).not.toContain('\n');
  expect(line).toMatch(new RegExp(`^damaged\\.cache: .+ \\(at byte ${err!.offset}\\)$`));
  return err!;
}

const u32 = (b: Uint8Array, at: number, little = true): number => new DataView(b.buffer, b.byteOffset).getUint32(at, little);
const setU32 = (b: Uint8Array, at: number, v: number, little = true): void => new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, little);

const NEW_MAGIC = 'glibc-ld.so.cache1.1';
const OLD_MAGIC = 'ld.so-1.7.0';

/** The string problems of one entry when only `size` bytes remain (spec 14: offset range, then NUL). */
function stringProblems(b: Uint8Array, size: number, field: number, base: number, little: boolean): Expected[] {
  const problems: Expected[] = [];
  const room = size - base;
  const check = (fieldAt: number): void => {
    const offset = u32(b, fieldAt, little);
    if (offset >= room) problems.push({ code: 'STRING_OUT_OF_RANGE', offset: fieldAt });
    else if (b.subarray(base + offset, size).indexOf(0) < 0) problems.push({ code: 'STRING_UNTERMINATED', offset: base + offset });
  };
  check(field + 4);
  check(field + 8);
  return problems;
}

/** What truncating the writer's file to `size` bytes must report (undefined: it still parses). */
function truncationError(full: Uint8Array, layout: CacheLayout, size: number, little: boolean): Expected[] | undefined {
  const b = full.subarray(0, size);
  if (size === 0) return [{ code: 'EMPTY', offset: 0 }];
  const isNew = layout.oldEntries === undefined;
  if (isNew) {
    if (size < 48) return [{ code: 'TOO_SHORT', offset: size }];
    const count = layout.newCount!;
    if (48 + 24 * count > size) return [{ code: 'TABLE_TRUNCATED', offset: 20 }];
    const ext = layout.extension;
    if (ext !== 0) {
      if (ext + 8 > size) return [{ code: 'BAD_EXTENSION', offset: 32 }];
      if (ext + 8 + 16 * layout.sections.length > size) return [{ code: 'BAD_EXTENSION', offset: ext + 4 }];
      const cut = layout.sections.find((s) => s.offset + s.size > size);
      if (cut) return [{ code: 'BAD_EXTENSION', offset: cut.record + 8 }];
    }
    for (let i = 0; i < count; i++) {
      const problems = stringProblems(b, size, 48 + 24 * i, 0, little);
      if (problems.length > 0) return problems;
    }
    return undefined;
  }
  if (size < 16) return [{ code: 'TOO_SHORT', offset: size }];
  const count = layout.oldCount!;
  if (16 + 12 * count > size) return [{ code: 'TABLE_TRUNCATED', offset: 12 }];
  for (let i = 0; i < count; i++) {
    const problems = stringProblems(b, size, 16 + 12 * i, 16 + 12 * count, little);
    if (problems.length > 0) return problems;
  }
  return undefined;
}

const entries: WriterEntry[] = [
  { name: 'libz.so.1', path: '/usr/lib/x86_64-linux-gnu/libz.so.1', flags: 0x0303 },
  { name: 'libm.so.6', path: '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libm.so.6', flags: 0x0303, hwcapDir: 'x86-64-v3', isaLevel: 2 },
  { name: 'libm.so.6', path: '/usr/lib/x86_64-linux-gnu/libm.so.6', flags: 0x0303 },
  { name: 'libc.so.6', path: '/usr/lib32/libc.so.6', flags: 0x0003 },
];

for (const build of ['release', 'debug'] as const) {
  describe(`damaged caches (${build} wasm)`, () => {
    beforeAll(() => {
      useWasmBinary(readFileSync(fileURLToPath(new URL(`../build/${build === 'release' ? 'ldcache.wasm' : 'ldcache.debug.wasm'}`, import.meta.url))));
    });

    const truncationCases: Array<[string, Partial<WriteCacheOptions> & Pick<WriteCacheOptions, 'format'>]> = [
      ['new (extensions, hwcaps)', { format: 'new' }],
      ['new, no extensions, sequential strings', { format: 'new', noExtensions: true, strings: 'sequential' }],
      ['new, big-endian', { format: 'new', byteOrder: 'big' }],
      ['old', { format: 'old' }],
      ['old, big-endian', { format: 'old', byteOrder: 'big' }],
    ];
    for (const [what, options] of truncationCases) {
      it(`every truncation of a ${what} cache fails with the code and offset the cut implies`, () => {
        const { bytes, layout } = writeCache({ entries, ...options });
        const little = options.byteOrder !== 'big';
        let failures = 0;
        for (let size = 0; size < bytes.length; size++) {
          const cut = bytes.slice(0, size);
          const expected = truncationError(bytes, layout, size, little);
          if (expected) {
            expectError(cut, ...expected);
            failures++;
          } else {
            // Still a valid cache (e.g. only trailing bytes that nothing points at were cut).
            expect(parseError(cut)).toBeUndefined();
          }
        }
        expect(failures).toBeGreaterThan(bytes.length / 2);
        expect(parseError(bytes)).toBeUndefined();
      });
    }

    it('every truncation of a compat cache is an LdCacheError or a parse that stays inside the bytes', () => {
      const { bytes, layout } = writeCache({ entries, format: 'compat' });
      for (let size = 0; size < bytes.length; size++) {
        const cut = bytes.slice(0, size);
        if (size === 0) expectError(cut, { code: 'EMPTY', offset: 0 });
        else if (size < 16) expectError(cut, { code: 'TOO_SHORT', offset: size });
        else if (size < 16 + 12 * layout.oldCount!) expectError(cut, { code: 'TABLE_TRUNCATED', offset: 12 });
        else {
          try {
            const cache = parseLdCache(cut);
            for (const e of cache.entries) expect(e.pathOffset + e.pathLength).toBeLessThan(size);
          } catch (err) {
            expect(err).toBeInstanceOf(LdCacheError);
          }
        }
      }
    });

    it('reports huge entry counts at the count field', () => {
      const fresh = (format: 'new' | 'old' | 'compat', byteOrder: 'little' | 'big' = 'little') => writeCache({ entries, format, byteOrder });
      // The smallest count whose table no longer fits, and larger ones up to 2^32-1.
      const smallest = Math.floor((fresh('new').bytes.length - 48) / 24) + 1;
      for (const count of [smallest, 0x10000, 0x7fffffff, 0xffffffff]) {
        const n = fresh('new');
        setU32(n.bytes, 20, count);
        expectError(n.bytes, { code: 'TABLE_TRUNCATED', offset: 20 });
        const c = fresh('compat');
        setU32(c.bytes, c.layout.newHeader! + 20, count);
        expectError(c.bytes, { code: 'TABLE_TRUNCATED', offset: c.layout.newHeader! + 20 });
        const be = fresh('new', 'big');
        setU32(be.bytes, 20, count, false);
        expectError(be.bytes, { code: 'TABLE_TRUNCATED', offset: 20 });
      }
      // Old count: big enough that neither byte order fits.
      for (const count of [0x01000001, 0xffffffff]) {
        const o = fresh('old');
        setU32(o.bytes, 12, count);
        expectError(o.bytes, { code: 'TABLE_TRUNCATED', offset: 12 });
      }
    });

    it('reports string offsets past the end at the entry field that holds them', () => {
      for (const format of ['new', 'old', 'compat'] as const) {
        for (const byteOrder of ['little', 'big'] as const) {
          const little = byteOrder === 'little';
          for (const [i, field] of [[0, 4], [2, 8], [3, 4]] as const) {
            for (const value of [0xffffffff, 0x80000000]) {
              const { bytes, layout } = writeCache({ entries, format, byteOrder });
              const table = format === 'old' ? 16 + 12 * i : layout.newEntries! + 24 * i;
              setU32(bytes, table + field, value, little);
              expectError(bytes, { code: 'STRING_OUT_OF_RANGE', offset: table + field });
            }
            // Just past the end: the first offset that is out of range.
            const { bytes, layout } = writeCache({ entries, format, byteOrder });
            const base = format === 'old' ? layout.oldStringBase! : layout.newHeader!;
            const table = format === 'old' ? 16 + 12 * i : layout.newEntries! + 24 * i;
            setU32(bytes, table + field, bytes.length - base, little);
            expectError(bytes, { code: 'STRING_OUT_OF_RANGE', offset: table + field });
          }
        }
      }
    });

    it('reports a string without a NUL before the end at the string', () => {
      const plain = entries.filter((e) => e.hwcapDir === undefined);
      const { bytes, layout } = writeCache({ entries: plain, format: 'old', strings: 'sequential' });
      // The last string ends the file: drop its NUL.
      const cut = bytes.slice(0, bytes.length - 1);
      const lastPath = layout.oldStringBase! + u32(bytes, 16 + 12 * (plain.length - 1) + 8);
      expectError(cut, { code: 'STRING_UNTERMINATED', offset: lastPath });
      // Point an entry at the last byte of a file whose last byte is not NUL.
      const n = writeCache({ entries, format: 'new', noExtensions: true });
      const bumped = new Uint8Array(n.bytes.length + 1);
      bumped.set(n.bytes);
      bumped[n.bytes.length] = 0x41;
      setU32(bumped, 48 + 8, n.bytes.length);
      expectError(bumped, { code: 'STRING_UNTERMINATED', offset: n.bytes.length });
    });

    it('reports a bad magic at the first byte that differs, and a bad version', () => {
      const { bytes } = writeCache({ entries, format: 'new' });
      for (let at = 0; at < NEW_MAGIC.length; at++) {
        const b = bytes.slice();
        b[at] = 0x00;
        expectError(b, { code: 'BAD_MAGIC', offset: at });
      }
      const version = bytes.slice();
      version.set(new TextEncoder().encode('1.0'), 17);
      expectError(version, { code: 'BAD_MAGIC', offset: 19 });
      const old = writeCache({ entries, format: 'old' }).bytes;
      for (let at = 1; at < OLD_MAGIC.length; at++) {
        const b = old.slice();
        b[at] = 0x00;
        expectError(b, { code: 'BAD_MAGIC', offset: at });
      }
      expectError(new TextEncoder().encode('\x7fELF' + '\0'.repeat(60)), { code: 'BAD_MAGIC', offset: 0 });
    });

    it('checks the endianness byte as glibc does', () => {
      for (const format of ['new', 'compat'] as const) {
        const { bytes, layout } = writeCache({ entries, format });
        const at = layout.newHeader! + 28;
        const invalid = bytes.slice();
        invalid[at] = 1;
        expectError(invalid, { code: 'BAD_ENDIANNESS', offset: at });
        // "Big" on a little-endian file: the swapped count does not fit.
        const wrong = bytes.slice();
        wrong[at] = 3;
        expectError(wrong, { code: 'TABLE_TRUNCATED', offset: layout.newHeader! + 20 });
        // 0 (pre-2.33) and high bits with the right low bits are accepted.
        for (const flag of [0, 0xfe, 0x06]) {
          const ok = bytes.slice();
          ok[at] = flag;
          const cache = parseLdCache(ok);
          expect(cache.byteOrder).toBe('little');
          expect(cache.count).toBe(entries.length);
        }
      }
    });

    it('validates the extension directory exactly as glibc does (spec 8.3)', () => {
      const fresh = () => writeCache({ entries, format: 'new', extraSections: [{ tag: 9, data: new Uint8Array(8) }] });
      const { layout } = fresh();
      const ext = layout.extension;
      const damage: Array<[string, (b: Uint8Array) => void, Expected]> = [
        ['misaligned offset', (b) => setU32(b, 32, ext + 2), { code: 'BAD_EXTENSION', offset: 32 }],
        ['offset past the end', (b) => setU32(b, 32, b.length), { code: 'BAD_EXTENSION', offset: 32 }],
        ['offset near 2^32', (b) => setU32(b, 32, 0xfffffffc), { code: 'BAD_EXTENSION', offset: 32 }],
        ['bad magic', (b) => setU32(b, ext, 0xeaa42175), { code: 'BAD_EXTENSION', offset: ext }],
        ['count too large', (b) => setU32(b, ext + 4, 1000), { code: 'BAD_EXTENSION', offset: ext + 4 }],
        ['count 2^32-1', (b) => setU32(b, ext + 4, 0xffffffff), { code: 'BAD_EXTENSION', offset: ext + 4 }],
        ...layout.sections.map((s, i): [string, (b: Uint8Array) => void, Expected] => [
          `section ${i} (tag ${s.tag}) past the end`,
          (b) => setU32(b, s.record + 12, b.length),
          { code: 'BAD_EXTENSION', offset: s.record + 8 },
        ]),
        ['section offset overflowing 32 bits', (b) => { setU32(b, layout.sections[2].record + 8, 0xfffffff0); setU32(b, layout.sections[2].record + 12, 0x20); }, { code: 'BAD_EXTENSION', offset: layout.sections[2].record + 8 }],
      ];
      for (const [what, apply, expected] of damage) {
        const { bytes } = fresh();
        apply(bytes);
        const err = expectError(bytes, expected);
        expect(err.message, what).toMatch(/extension/);
      }
      // Survivable: extension offset 0, count 0, a hwcaps section of odd size (dropped like glibc).
      const zero = fresh().bytes;
      setU32(zero, 32, 0);
      expect(parseLdCache(zero).generator).toBeUndefined();
      const none = fresh().bytes;
      setU32(none, ext + 4, 0);
      expect(parseLdCache(none).count).toBe(entries.length);
      const odd = fresh();
      const hwcaps = odd.layout.sections.find((s) => s.tag === 1)!;
      setU32(odd.bytes, hwcaps.record + 12, 3);
      const cache = parseLdCache(odd.bytes);
      expect(cache.entries[1].hwcapName).toBeUndefined();
    });
  });
}
