// cacheToJSON's entries are views that read the cache when a field is read. They must read the
// right bytes for as long as they live: after another parse took the wasm region (the table is
// then a copy, the region holds another cache), after wasm memory grew under them, for caches
// read in place and from the caller's bytes. Judged against plain objects made before the
// region changed hands (the `plain` path), and against the core's own JSON text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheJSONChunks, cacheToJSON, EntryJSONView, formatLdconfigBytes, parseLdCache, type CacheJSON, type EntryJSON, type LdCache } from '../src/index.js';
import { wasmExports } from '../src/core/wasm.js';
import { readLdCache } from '../src/node/read-cache.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';

const temp = mkdtempSync(join(tmpdir(), 'ldcache-views-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function entriesOf(tag: string, count: number): WriterEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `lib${tag}${i}.so.${i % 5}`,
    path: `/usr/lib/${tag}-${i % 3}/lib${tag}${i}.so.${i % 5}`,
    flags: i % 4 === 0 ? 0x0003 : 0x0303,
    osVersion: i % 7 === 0 ? 0x03020000 : 0,
    ...(i % 9 === 4 ? { hwcapDir: 'x86-64-v3', isaLevel: 2 } : {}),
  }));
}

function cacheBytes(tag: string, count: number, byteOrder: 'little' | 'big' = 'little'): Uint8Array {
  return writeCache({ format: 'new', byteOrder, entries: entriesOf(tag, count), sort: false, generator: `gen ${tag}` }).bytes;
}

function fileOf(name: string, bytes: Uint8Array): string {
  const file = join(temp, name);
  writeFileSync(file, bytes);
  return file;
}

/** Every field of every view, read one by one, as plain data. */
function readViews(doc: CacheJSON): EntryJSON[] {
  return doc.entries.map((v) => ({
    index: v.index, name: v.name, path: v.path, flags: v.flags, type: v.type, required: v.required, arch: v.arch,
    bits: v.bits, osVersion: v.osVersion, hwcap: v.hwcap, hwcapName: v.hwcapName, flagsText: v.flagsText,
  }));
}

const utf8 = new TextDecoder();
function documentText(cache: LdCache): string {
  let out = '';
  for (const chunk of cacheJSONChunks(cache)) out += utf8.decode(chunk);
  return out;
}

describe('cacheToJSON views', () => {
  it('are views; every field and JSON.stringify equal the plain objects and the core\'s JSON text', () => {
    for (const byteOrder of ['little', 'big'] as const) {
      const cache = parseLdCache(cacheBytes('eq', 300, byteOrder));
      const views = cacheToJSON(cache);
      const plain = cacheToJSON(cache, { plain: true });
      expect(views.entries.every((v) => v instanceof EntryJSONView)).toBe(true);
      expect(plain.entries.some((v) => v instanceof EntryJSONView)).toBe(false);
      expect(readViews(views)).toEqual(plain.entries);
      expect(views.entries.some((v) => v.hwcapName === 'x86-64-v3')).toBe(true);
      // The core writes its JSON text from the table, not through these objects.
      expect(JSON.parse(documentText(cache))).toEqual(JSON.parse(JSON.stringify(views)));
      expect(JSON.stringify(views)).toBe(JSON.stringify(plain));
    }
  });

  it('stay right after another parse took the region, for a cache read in place and one parsed from bytes', () => {
    const inPlace = readLdCache(fileOf('a.cache', cacheBytes('alpha', 2000)));
    const fromBytes = parseLdCache(cacheBytes('beta', 1500));
    const fromBytesPlain = cacheToJSON(fromBytes, { plain: true });
    const fromBytesViews = cacheToJSON(fromBytes);
    // Read once while resident (the views keep the arrays they read), then lose the region.
    expect(fromBytesViews.entries[7]!.path).toBe(fromBytesPlain.entries[7]!.path);
    const again = readLdCache(fileOf('a2.cache', cacheBytes('alpha', 2000)));
    const inPlacePlain = cacheToJSON(again, { plain: true });
    // `inPlace` was evicted by `fromBytes` already; read it, then evict `again` with another cache.
    const inPlaceViews = cacheToJSON(inPlace);
    const againViews = cacheToJSON(again);
    expect(againViews.entries[3]!.name).toBe('libalpha3.so.3');
    const other = readLdCache(fileOf('c.cache', cacheBytes('gamma', 2600)));
    expect(other.entry(3).name).toBe('libgamma3.so.3');
    expect(readViews(againViews)).toEqual(inPlacePlain.entries);
    expect(readViews(inPlaceViews)).toEqual(inPlacePlain.entries);
    expect(readViews(fromBytesViews)).toEqual(fromBytesPlain.entries);
  });

  it('stay right when wasm memory grows under them (formatting a line longer than the buffer)', () => {
    const huge = `/opt/${'d'.repeat(3 << 20)}/libhuge.so`;
    const bytes = writeCache({ format: 'new', entries: [...entriesOf('grow', 400), { name: 'libhuge.so', path: huge, flags: 0x0303 }], sort: false }).bytes;
    const cache = readLdCache(fileOf('grow.cache', bytes));
    const plain = cacheToJSON(cache, { plain: true });
    const views = cacheToJSON(cache);
    expect(views.entries[5]!.flagsText).toBe(plain.entries[5]!.flagsText);
    const before = wasmExports().memory.buffer;
    const text = formatLdconfigBytes(cache, 'grow');
    expect(text.length).toBeGreaterThan(3 << 20);
    // The memory did grow: the old buffer is detached.
    expect(before.byteLength).toBe(0);
    expect(readViews(views)).toEqual(plain.entries);
    expect(views.entries[400]!.path).toBe(huge);
  });

  it('follow the glibc and include options as the plain objects do', () => {
    const cache = parseLdCache(writeCache({ format: 'new', entries: [...entriesOf('opt', 40), { name: 'libold.so', path: '/lib/libold.so', flags: 0x0000 }], sort: false }).bytes);
    const include = (e: { name: string }): boolean => e.name.endsWith('.so.1') || e.name === 'libold.so';
    for (const glibc of ['2.31', '2.36', '2.37'] as const) {
      const views = cacheToJSON(cache, { glibc, include });
      const plain = cacheToJSON(cache, { glibc, include, plain: true });
      expect(views.count).toBe(plain.count);
      expect(readViews(views)).toEqual(plain.entries);
    }
    // The option matters here: a libc4-typed entry is worded differently from glibc 2.37 on.
    const last = (glibc: '2.36' | '2.37'): string => cacheToJSON(cache, { glibc, include }).entries.at(-1)!.flagsText;
    expect(last('2.36')).not.toBe(last('2.37'));
  });

  it('are read-only, show their fields to util.inspect, and give plain objects for structuredClone', () => {
    const cache = parseLdCache(cacheBytes('ro', 10));
    const view = cacheToJSON(cache).entries[2]!;
    expect(() => {
      (view as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    expect(view.name).toBe('libro2.so.2');
    expect(inspect(view)).toContain("path: '/usr/lib/ro-2/libro2.so.2'");
    expect(structuredClone((view as EntryJSONView).toJSON())).toEqual(cacheToJSON(cache, { plain: true }).entries[2]);
  });
});
