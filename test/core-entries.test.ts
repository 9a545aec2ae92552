// The object layer against an independent reader: every field of every entry, through the
// iterator (fresh entry per step), the `.entries` array and `entry(i)`, equals what the plain
// DataView/TextDecoder parser (bench/baseline-parser.mjs) reads from caches written by the real
// ldconfig, in every layout and both byte orders; and the names and paths are ldconfig -p's.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBaseline } from '../bench/baseline-parser.mjs';
import { parseLdCache } from '../src/index.js';
import { readLdCache as readFile } from '../src/node/index.js';
import { canBuildCaches, canCompile, makeRoot, type TempRoot } from './core-helpers.js';
import { ldconfigPrint } from './helpers/so-builder.js';
import { describeNeeding } from './helpers/requirements.js';
import { writeCache } from './helpers/cache-writer.js';



function fieldsOf(e: { name: string; path: string; flags: number; osVersion: number; hwcap: bigint; hwcapName: string | undefined }) {
  return { name: e.name, path: e.path, flags: e.flags, osVersion: e.osVersion, hwcap: BigInt.asUintN(64, e.hwcap), hwcapName: e.hwcapName };
}

function expectLikeBaseline(bytes: Uint8Array, label: string): void {
  const base = parseBaseline(bytes);
  const cache = parseLdCache(bytes);
  const expected = base.entries.map(fieldsOf);
  expect(cache.count, label).toBe(base.count);
  expect([...cache].map(fieldsOf), `${label} iterator`).toEqual(expected);
  expect(Array.from({ length: cache.count }, (_, i) => fieldsOf(cache.entry(i))), `${label} entry(i)`).toEqual(expected);
  expect(cache.entries.map(fieldsOf), `${label} entries`).toEqual(expected);
  // arch and bits follow from the flags and the cache's family (spec: x86 family here).
  for (const e of cache) {
    const required = e.flags & 0xff00;
    expect(e.arch).toBe(required === 0x0300 ? 'x86-64' : required === 0x0800 ? 'x32' : required === 0 ? 'i386' : e.arch);
    expect(e.bits).toBe(required === 0x0300 ? 64 : 32);
  }
}

describeNeeding("entries of ldconfig's caches", !canBuildCaches && 'needs gcc and ldconfig', () => {
  let temp: TempRoot;
  beforeAll(() => {
    temp = makeRoot([
      { dir: '/lib', soname: 'libalpha.so.1' },
      { dir: '/lib', soname: 'libbeta.so.2' },
      { dir: '/usr/lib', soname: 'libgamma.so.3' },
      { dir: '/lib/glibc-hwcaps/x86-64-v3', soname: 'libalpha.so.1' },
      { dir: '/lib/glibc-hwcaps/x86-64-v2', soname: 'libbeta.so.2' },
      ...(canCompile(32) ? [{ dir: '/usr/lib32', soname: 'libalpha.so.1', kind: 32 as const }] : []),
    ]);
  });
  afterAll(() => temp?.cleanup());

  for (const format of ['new', 'compat', 'old'] as const) {
    it(`${format}: every field through every access path equals the independent reader; names and paths are ldconfig -p's`, () => {
      const file = temp.cache(format);
      const bytes = new Uint8Array(readFileSync(file));
      expectLikeBaseline(bytes, format);
      const printed = ldconfigPrint(file).stdout.toString('latin1').split('\n').filter((l) => l.startsWith('\t'));
      const cache = readFile(file);
      expect([...cache].map((e) => `\t${e.name} `)).toEqual(printed.map((l) => l.slice(0, l.indexOf(' (') + 1)));
      expect([...cache].map((e) => e.path)).toEqual(printed.map((l) => l.slice(l.indexOf(' => ') + 4)));
    });
  }

  it('an in-place cache keeps its entries after other parses take the wasm region (copied out once)', () => {
    const a = readFile(temp.cache('new', 'a.cache'));
    const before = [...a].map(fieldsOf);
    const it = a[Symbol.iterator]();
    const first = it.next().value!;
    parseLdCache(new Uint8Array(readFileSync(temp.cache('old', 'b.cache'))));
    readFile(temp.cache('compat', 'c.cache'));
    expect(fieldsOf(first)).toEqual(before[0]);
    expect([...a].map(fieldsOf)).toEqual(before);
    expect(a.entries.map(fieldsOf)).toEqual(before);
  });
});

describe('both byte orders and odd ABIs (writer caches checked against ldconfig elsewhere)', () => {
  for (const byteOrder of ['little', 'big'] as const) {
    for (const format of ['new', 'compat', 'old'] as const) {
      it(`${format}, ${byteOrder}-endian`, () => {
        const { bytes } = writeCache({
          format,
          byteOrder,
          sort: false,
          generator: 'ldconfig test',
          entries: [
            { name: 'libs390.so.1', path: '/lib64/libs390.so.1', flags: 0x0403, osVersion: 0x03020000 },
            { name: 'libgen.so.1', path: '/lib/libgen.so.1', flags: 0x0003 },
            { name: 'libv3.so.1', path: '/lib64/glibc-hwcaps/z15/libv3.so.1', flags: 0x0403, hwcapDir: 'z15', isaLevel: 1 },
            { name: 'liblegacy.so', path: '/lib64/tls/liblegacy.so', flags: 0x0403, hwcap: 0x8000_0000_0000_0001n },
          ],
        });
        const base = parseBaseline(bytes);
        const cache = parseLdCache(bytes);
        expect([...cache].map(fieldsOf)).toEqual(base.entries.map(fieldsOf));
        expect([...cache].map((e) => [e.arch, e.bits])).toEqual([['s390x', 64], ['s390', 32], ['s390x', 64], ['s390x', 64]].slice(0, cache.count));
      });
    }
  }
});
