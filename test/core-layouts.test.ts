// Layouts beyond the plain x86-64 cache: multi-ABI caches (x86-64, i386, x32), big-endian
// twins of real caches, compat files with a 4-aligned new header, the debug wasm build, error
// codes and offsets, and hostile string tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheToJSON, formatLdconfigBytes, LdCacheError, parseLdCache, type LdCache } from '../src/index.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { canBuildCaches, canCompile, makeRoot, type LibSpec, type TempRoot } from './core-helpers.js';
import { ldconfigPrint } from './helpers/so-builder.js';
import { describeNeeding, need } from './helpers/requirements.js';

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const swap32 = (b: Uint8Array, at: number): void => void b.subarray(at, at + 4).reverse();
const swap64 = (b: Uint8Array, at: number): void => void b.subarray(at, at + 8).reverse();

/** Byte-swaps the new header at `at`, its entries and its extension directory (read in little-endian first). */
function swapNew(b: Uint8Array, at: number, flagsByte = 3): void {
  const le = view(b);
  const count = le.getUint32(at + 20, true);
  const ext = le.getUint32(at + 32, true);
  for (let i = 0; i < count; i++) {
    const e = at + 48 + 24 * i;
    for (const field of [0, 4, 8, 12]) swap32(b, e + field);
    swap64(b, e + 16);
  }
  if (ext !== 0) {
    const sections = le.getUint32(ext + 4, true);
    for (let s = 0; s < sections; s++) {
      const record = ext + 8 + 16 * s;
      if (le.getUint32(record, true) === 1) {
        const offset = le.getUint32(record + 8, true);
        const size = le.getUint32(record + 12, true);
        for (let i = 0; i < size; i += 4) swap32(b, offset + i);
      }
      for (const field of [0, 4, 8, 12]) swap32(b, record + field);
    }
    swap32(b, ext);
    swap32(b, ext + 4);
  }
  for (const field of [20, 24, 32]) swap32(b, at + field);
  b[at + 28] = flagsByte;
}

/** A big-endian twin of a little-endian cache written by ldconfig. */
function toBigEndian(le: Uint8Array, flagsByte = 3): Uint8Array {
  const b = le.slice();
  const isOld = new TextDecoder().decode(b.subarray(0, 11)) === 'ld.so-1.7.0';
  if (!isOld) {
    swapNew(b, 0, flagsByte);
    return b;
  }
  const n = view(b).getUint32(12, true);
  for (let i = 0; i < n; i++) for (const field of [0, 4, 8]) swap32(b, 16 + 12 * i + field);
  swap32(b, 12);
  const at = 16 + 12 * n;
  if (b.length > at + 48 && new TextDecoder().decode(b.subarray(at, at + 20)) === 'glibc-ld.so.cache1.1') swapNew(b, at, flagsByte);
  return b;
}

/** What a cache says, minus its byte order. */
function facts(cache: LdCache): unknown {
  const json = cacheToJSON(cache, { plain: true }) as unknown as Record<string, unknown>;
  return { ...json, byteOrder: undefined, ldconfig: Buffer.from(formatLdconfigBytes(cache, 'x')).toString('latin1') };
}

describeNeeding('real caches', !canBuildCaches && 'needs gcc and ldconfig', () => {
  let root: TempRoot;
  const files: Record<string, Uint8Array> = {};
  const multiAbi = canCompile(32) && canCompile('x32');
  beforeAll(() => {
    const libs: LibSpec[] = [
      { dir: '/lib', soname: 'libone.so.1' },
      { dir: '/lib', soname: 'libtwo.so.2' },
      { dir: '/usr/lib', soname: 'libthree.so.3' },
      { dir: '/lib/glibc-hwcaps/x86-64-v3', soname: 'libone.so.1' },
      { dir: '/lib/glibc-hwcaps/x86-64-v4', soname: 'libtwo.so.2' },
    ];
    if (multiAbi) libs.push({ dir: '/usr/lib32', soname: 'libone.so.1', kind: 32 }, { dir: '/usr/libx32', soname: 'libone.so.1', kind: 'x32' });
    root = makeRoot(libs);
    for (const format of ['new', 'compat', 'old'] as const) files[format] = new Uint8Array(readFileSync(root.cache(format)));
  });
  afterAll(() => root.cleanup());

  it('x86-64, i386 and x32 entries get their ABI names, widths and ldconfig texts', (ctx) => {
    need(ctx, !multiAbi && 'needs a gcc that builds -m32 and -mx32 objects');
    const cache = parseLdCache(files.new);
    const byPath = new Map(cache.entries.map((e) => [e.path, e]));
    expect(byPath.get('/lib/libone.so.1')).toMatchObject({ arch: 'x86-64', bits: 64, flags: 0x303 });
    // No libc DT_NEEDED: ldconfig marks the i386 object plain ELF (type 1, required 0).
    expect(byPath.get('/usr/lib32/libone.so.1')).toMatchObject({ arch: 'i386', bits: 32, type: 1, required: 0 });
    expect(byPath.get('/usr/libx32/libone.so.1')).toMatchObject({ arch: 'x32', bits: 32, flags: 0x803 });
    const file = join(root.root, 'new.cache');
    expect(Buffer.from(formatLdconfigBytes(cache, file)).equals(ldconfigPrint(file).stdout)).toBe(true);
  });

  for (const format of ['new', 'compat', 'old']) {
    it(`${format}: a big-endian twin parses to the same cache`, () => {
      const little = parseLdCache(files[format]);
      const big = parseLdCache(toBigEndian(files[format]));
      expect(little.byteOrder).toBe('little');
      expect(big.byteOrder).toBe('big');
      expect(big.format).toBe(format);
      if (format === 'compat') {
        // glibc's compat quirk resolves hwcaps names inside the old table, whose bytes differ
        // with the byte order: only the true view must agree.
        expect(cacheToJSON(big, { plain: true })).toEqual({ ...cacheToJSON(little, { plain: true }), byteOrder: 'big' });
      } else {
        expect(facts(big)).toEqual(facts(little));
      }
    });
  }

  it('a big-endian cache with flags byte 0 (pre-2.33 writer) is detected by its table size', () => {
    const big = parseLdCache(toBigEndian(files.new, 0));
    expect(big.byteOrder).toBe('big');
    expect(facts(big)).toEqual(facts(parseLdCache(files.new)));
  });

  it('flags byte 1 is BAD_ENDIANNESS at byte 28', () => {
    const bytes = files.new.slice();
    bytes[28] = 1;
    expect(() => parseLdCache(bytes)).toThrow(expect.objectContaining({ code: 'BAD_ENDIANNESS', offset: 28 }));
  });

  it('compat with a 4-aligned new header (32-bit writer): read as compat; ldconfig -p output (64-bit reader: the old table) reproduced', () => {
    // Rebuild the new cache as compat with one old entry: the new header lands at 28, 4-aligned only.
    const source = files.new;
    const shift = 16 + 12;
    const bytes = new Uint8Array(source.length + shift);
    bytes.set(new TextEncoder().encode('ld.so-1.7.0'));
    const dv = view(bytes);
    dv.setUint32(12, 1, true);
    const firstKey = view(source).getUint32(48 + 4, true);
    const firstValue = view(source).getUint32(48 + 8, true);
    dv.setInt32(16, 0x303, true);
    dv.setUint32(20, firstKey, true); // old offsets count from the end of the old array: the new header
    dv.setUint32(24, firstValue, true);
    bytes.set(source, shift);
    // The extension directory and its sections are file offsets: move them along.
    const ext = dv.getUint32(shift + 32, true);
    dv.setUint32(shift + 32, ext + shift, true);
    const sections = dv.getUint32(shift + ext + 4, true);
    for (let s = 0; s < sections; s++) {
      const record = shift + ext + 8 + 16 * s;
      dv.setUint32(record + 8, dv.getUint32(record + 8, true) + shift, true);
    }
    const cache = parseLdCache(bytes);
    expect(cache.format).toBe('compat');
    expect(cache.compatAlignment).toBe(4);
    expect(cache.oldCount).toBe(1);
    const reference = parseLdCache(source);
    expect(cache.entries.map((e) => [e.name, e.path, e.hwcapName])).toEqual(reference.entries.map((e) => [e.name, e.path, e.hwcapName]));
    expect(cache.hwcapDirs).toEqual(['x86-64-v3', 'x86-64-v4']);

    const glibcView = parseLdCache(bytes, { glibc64Reader: true });
    expect(glibcView.format).toBe('old');
    expect(glibcView.count).toBe(1);

    const file = join(root.root, 'compat4.cache');
    writeFileSync(file, bytes);
    const real = ldconfigPrint(file);
    expect(real.status).toBe(0);
    expect(Buffer.from(formatLdconfigBytes(cache, file)).toString('latin1')).toBe(real.stdout.toString('latin1'));
  });

  it('the debug build of the core gives the same results as the release build', () => {
    const release = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, facts(parseLdCache(v))]));
    const releaseBig = facts(parseLdCache(toBigEndian(files.compat)));
    const kept = parseLdCache(files.old);
    try {
      useWasmBinary(new Uint8Array(readFileSync('build/ldcache.debug.wasm')));
      for (const [format, bytes] of Object.entries(files)) expect(facts(parseLdCache(bytes))).toEqual(release[format]);
      expect(facts(parseLdCache(toBigEndian(files.compat)))).toEqual(releaseBig);
      // A cache from the other build survives the switch.
      expect(facts(kept)).toEqual(release.old);
      const damaged = files.new.slice(0, 60);
      expect(() => parseLdCache(damaged)).toThrow(expect.objectContaining({ code: 'TABLE_TRUNCATED', offset: 20 }));
    } finally {
      useWasmBinary(new Uint8Array(readFileSync('build/ldcache.wasm')));
    }
  });

  it('damaged copies: code and byte offset of the first problem', () => {
    const bytes = files.new;
    const entry0 = 48;
    const outOfRange = bytes.slice();
    view(outOfRange).setUint32(entry0 + 8, bytes.length + 100, true);
    expect(() => parseLdCache(outOfRange, { file: 'f' })).toThrow(expect.objectContaining({ code: 'STRING_OUT_OF_RANGE', offset: entry0 + 8, file: 'f' }));
    const keyOut = bytes.slice();
    view(keyOut).setUint32(48 + 24 + 4, 0xffffffff, true);
    expect(() => parseLdCache(keyOut)).toThrow(expect.objectContaining({ code: 'STRING_OUT_OF_RANGE', offset: 48 + 24 + 4 }));
    // A path that runs into the extension data and the generator, which end the file without a NUL.
    const unterminated = bytes.slice();
    const generatorAt = bytes.length - 10;
    view(unterminated).setUint32(entry0 + 8, generatorAt, true);
    expect(() => parseLdCache(unterminated)).toThrow(expect.objectContaining({ code: 'STRING_UNTERMINATED', offset: generatorAt }));
    const ext = view(bytes).getUint32(32, true);
    const badMagic = bytes.slice();
    badMagic[ext] ^= 0xff;
    expect(() => parseLdCache(badMagic)).toThrow(expect.objectContaining({ code: 'BAD_EXTENSION', offset: ext }));
    const misaligned = bytes.slice();
    view(misaligned).setUint32(32, ext + 2, true);
    expect(() => parseLdCache(misaligned)).toThrow(expect.objectContaining({ code: 'BAD_EXTENSION', offset: 32 }));
    expect(() => parseLdCache(bytes.slice(0, 40))).toThrow(expect.objectContaining({ code: 'TOO_SHORT' }));
    const oldCut = files.old.slice(0, 30);
    expect(() => parseLdCache(oldCut)).toThrow(expect.objectContaining({ code: 'TABLE_TRUNCATED', offset: 12 }));
    const error = (() => {
      try {
        parseLdCache(outOfRange, { file: '/etc/ld.so.cache' });
      } catch (err) {
        return err as LdCacheError;
      }
    })();
    expect(error?.describe()).toMatch(/^\/etc\/ld\.so\.cache: entry 0: path offset \d+ points past the end of the file \(at byte 56\)$/);
  });

  it('an extension entry whose index is out of range prints its hwcap in hex and has no name', () => {
    const bytes = files.new.slice();
    view(bytes).setUint32(48 + 16, 7, true); // entry 0 is the x86-64-v3 one: index 7 of 2
    const cache = parseLdCache(bytes);
    expect(cache.entries[0].hwcapName).toBeUndefined();
    expect(new TextDecoder().decode(formatLdconfigBytes(cache, 'x')).split('\n')[1]).toMatch(/, hwcap: 0x4000000[0-3]00000007\) => /);
  });
});

describe('hostile string tables', () => {
  it('100,000 entries pointing into one long NUL-free run parse in bounded time', () => {
    const n = 100_000;
    const run = 1 << 20;
    const strings = 48 + 24 * n;
    const bytes = new Uint8Array(strings + run + 1).fill(0x61, strings, strings + run);
    bytes.set(new TextEncoder().encode('glibc-ld.so.cache1.1'));
    const dv = view(bytes);
    dv.setUint32(20, n, true);
    bytes[28] = 2;
    for (let i = 0; i < n; i++) {
      dv.setInt32(48 + 24 * i, 0x303, true);
      dv.setUint32(48 + 24 * i + 4, strings + ((i * 7919) % run), true);
      dv.setUint32(48 + 24 * i + 8, strings + ((i * 104729) % run), true);
    }
    const started = performance.now();
    const cache = parseLdCache(bytes);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(cache.count).toBe(n);
    const last = cache.entries[n - 1];
    expect(last.pathOffset + last.pathLength).toBe(strings + run);
    expect(last.nameOffset + last.nameLength).toBe(strings + run);
  });
});
