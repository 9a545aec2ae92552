// Attacks on cacheToJSON's entry views (EntryJSONView): a pool of caches (written by the real
// ldconfig and by the independent test writer: new, compat, old, both byte orders, non-ASCII
// and overlapping strings, hwcaps names) is parsed every way the package offers (parseLdCache,
// readLdCache in place, parseLdCacheInPlace, createLdCacheParser, parseLdCacheStream), and a
// seeded schedule interleaves parses, failed parses, formatting that grows wasm memory and
// include callbacks that parse while cacheToJSON runs. Every view, read at any point, must give
// what entryToJSON(cache.entry(i)) gave right after its parse (the plain path), field for field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cacheJSONChunks,
  cacheToJSON,
  createLdCacheParser,
  entryToJSON,
  formatLdconfigChunks,
  parseLdCache,
  parseLdCacheInPlace,
  parseLdCacheStream,
  type CacheJSON,
  type EntryJSON,
  type GlibcVersion,
  type ParsedLdCache,
} from '../src/index.js';
import { acquireInput, memoryView } from '../src/core/input-region.js';
import { readLdCache } from '../src/node/read-cache.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { ldconfigPath, runLdconfig } from './helpers/so-builder.js';
import { describeNeeding } from './helpers/requirements.js';
import { seededRandom } from './helpers/seeded-random.js';

const temp = mkdtempSync(join(tmpdir(), 'ldcache-views-attack-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const FIELDS = ['index', 'name', 'path', 'flags', 'type', 'required', 'arch', 'bits', 'osVersion', 'hwcap', 'hwcapName', 'flagsText'] as const;

function fieldsOf(entry: EntryJSON): EntryJSON {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = entry[f];
  return out as unknown as EntryJSON;
}

function writerEntries(tag: string, count: number): WriterEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    // Some names are not ASCII (the views then read each string through the cache).
    name: i % 11 === 5 ? `lib${tag}\u00e9${i}.so` : `lib${tag}${i}.so.${i % 3}`,
    path: i % 13 === 6 ? new Uint8Array([0x2f, 0x6c, 0xff, 0xfe, 0x2f, 0x78, 0x30 + (i % 10)]) : `/usr/lib/${tag}/lib${tag}${i}.so.${i % 3}`,
    flags: [0x0303, 0x0003, 0x0803, 0x0000, 0x0a03, 0x0103][i % 6]!,
    osVersion: i % 5 === 0 ? 0x03020000 : 0,
    ...(i % 7 === 3 ? { hwcapDir: i % 2 ? 'x86-64-v3' : 'x86-64-v4', isaLevel: 2 } : i % 17 === 8 ? { hwcap: 0x8000_0000_0000_0001n } : {}),
  }));
}

interface Source {
  label: string;
  bytes: Uint8Array;
  file: string;
}

const sources: Source[] = [];
function addSource(label: string, bytes: Uint8Array): void {
  const file = join(temp, `${sources.length}.cache`);
  writeFileSync(file, bytes);
  sources.push({ label, bytes, file });
}

for (const format of ['new', 'compat', 'old'] as const) {
  for (const byteOrder of ['little', 'big'] as const) {
    const entries = writerEntries(`${format[0]}${byteOrder[0]}`, 60 + sources.length * 7);
    // Old-format entries carry no hwcap: keep the entries the writer can store.
    const usable = format === 'old' ? entries.map(({ name, path, flags }) => ({ name, path, flags })) : entries;
    addSource(`writer ${format} ${byteOrder}`, writeCache({ format, byteOrder, entries: usable, sort: false, generator: `gen ${format}` }).bytes);
  }
}
// A compat file from a 32-bit writer (new header 4-aligned): glibc's 64-bit reader sees only the old table.
addSource('writer compat align 4', writeCache({ format: 'compat', compatAlign: 4, entries: writerEntries('ca', 30).map(({ name, path, flags }) => ({ name, path, flags })), sort: false }).bytes);
// Sequential strings (pre-2.33 writer) and suffix-shared ones (a name inside its path).
addSource('writer sequential strings', writeCache({ format: 'new', strings: 'sequential', entries: writerEntries('sq', 40), sort: true }).bytes);
// One line longer than the formatter's buffer: formatting it grows wasm memory.
addSource('writer huge path', writeCache({ format: 'new', entries: [...writerEntries('hg', 20), { name: 'libhuge.so', path: `/opt/${'h'.repeat(3 << 20)}/libhuge.so`, flags: 0x0303 }], sort: false }).bytes);

const ldconfig = ldconfigPath();
if (ldconfig) {
  const conf = join(temp, 'ld.so.conf');
  writeFileSync(conf, '/usr/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib\n');
  for (const format of ['new', 'compat', 'old'] as const) {
    const out = join(temp, `real-${format}.cache`);
    const result = runLdconfig(['-c', format, '-C', out, '-f', conf, '-X']);
    if (result.status === 0) addSource(`ldconfig ${format}`, new Uint8Array(readFileSync(out)));
  }
}

type How = 'bytes' | 'file' | 'inPlace' | 'parser' | 'stream';
const HOWS: How[] = ['bytes', 'file', 'inPlace', 'parser', 'stream'];

async function parseAs(how: How, source: Source, random: () => number): Promise<ParsedLdCache> {
  switch (how) {
    case 'bytes':
      // The caller's own copy (kept by the cache as its bytes).
      return parseLdCache(source.bytes.slice(), { file: source.file });
    case 'file':
      return readLdCache(source.file);
    case 'inPlace': {
      const address = acquireInput(source.bytes.length);
      memoryView(address, source.bytes.length).set(source.bytes);
      return parseLdCacheInPlace(source.bytes.length, source.file);
    }
    case 'parser': {
      const parser = createLdCacheParser({ file: source.file });
      for (let at = 0; at < source.bytes.length; ) {
        const size = 1 + Math.floor(random() * 70_000);
        parser.push(source.bytes.subarray(at, at + size));
        at += size;
      }
      return parser.end();
    }
    case 'stream': {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < source.bytes.length; at += 40_000) chunks.push(source.bytes.slice(at, at + 40_000));
      return parseLdCacheStream(Readable.from(chunks), { file: source.file });
    }
  }
}

interface Live {
  label: string;
  cache: ParsedLdCache;
  views: CacheJSON;
  expected: EntryJSON[];
  glibc: GlibcVersion;
}

const GLIBCS: GlibcVersion[] = ['2.31', '2.36', '2.37'];

function expectSame(live: Live, random: () => number, reads: number, seed: number): void {
  for (let k = 0; k < reads; k++) {
    const n = Math.floor(random() * live.views.entries.length);
    const view = live.views.entries[n]!;
    const want = live.expected[n]!;
    const field = FIELDS[Math.floor(random() * FIELDS.length)]!;
    if (view[field] !== want[field]) {
      throw new Error(`seed ${seed}: ${live.label} entry ${n} field ${field}: view ${String(view[field])}, expected ${String(want[field])}`);
    }
  }
}

describe('cacheToJSON views under attack', () => {
  it('has a pool of caches to attack', () => {
    expect(sources.length).toBeGreaterThanOrEqual(10);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`seeded schedule ${seed}: views read between parses, stream parses, failed parses and memory growth stay equal to entryToJSON`, async () => {
      const random = seededRandom(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const live: Live[] = [];
      const bad = new Uint8Array(200).fill(0x41);
      for (let step = 0; step < 45; step++) {
        const action = random();
        if (action < 0.35 || live.length === 0) {
          const source = pick(sources);
          const how = pick(HOWS);
          const cache = await parseAs(how, source, random);
          const glibc = pick(GLIBCS);
          // The plain truth, made while the cache is freshly parsed: entryToJSON of each entry.
          const expected = Array.from({ length: cache.count }, (_, i) => entryToJSON(cache.entry(i), glibc));
          const include = random() < 0.4 ? (e: { index: number }): boolean => e.index % 3 !== 1 : undefined;
          let views: CacheJSON;
          if (include && random() < 0.5) {
            // The include callback parses other caches (and the same bytes) while cacheToJSON runs.
            let calls = 0;
            views = cacheToJSON(cache, {
              glibc,
              include: (e) => {
                if (calls++ % 25 === 0) parseLdCache(pick(sources).bytes);
                if (calls % 40 === 0) readLdCache(source.file);
                return include(e);
              },
            });
          } else {
            views = cacheToJSON(cache, { glibc, include });
          }
          const shown = include ? expected.filter((e) => include(e)) : expected;
          expect(views.entries.length, `seed ${seed} ${source.label}`).toBe(shown.length);
          live.push({ label: `${source.label} via ${how}`, cache, views, expected: shown, glibc });
        } else if (action < 0.5) {
          // Format a cache (maybe a live one, maybe the huge one): memory can grow under every view.
          const target = random() < 0.5 ? pick(live).cache : parseLdCache(pick(sources).bytes);
          let total = 0;
          const chunks = random() < 0.5 ? formatLdconfigChunks(target, 'x') : cacheJSONChunks(target);
          for (const chunk of chunks) total += chunk.length;
          expect(total).toBeGreaterThan(0);
        } else if (action < 0.6) {
          expect(() => parseLdCache(bad, { file: 'bad' })).toThrow(/bad/);
          const parser = createLdCacheParser();
          expect(() => parser.push(bad)).toThrow();
        } else if (action < 0.7) {
          // A stream left half-way: it holds the region, then something else takes it.
          const parser = createLdCacheParser();
          const source = pick(sources);
          parser.push(source.bytes.subarray(0, Math.min(source.bytes.length, 5000)));
        } else {
          const target = pick(live);
          expectSame(target, random, 40, seed);
        }
      }
      // Finally every field of every live view, and the documents' JSON text.
      for (const target of live) {
        const got = target.views.entries.map(fieldsOf);
        expect(got, `seed ${seed}: ${target.label}`).toEqual(target.expected);
        expect(JSON.parse(JSON.stringify(target.views.entries)), `seed ${seed}: ${target.label}`).toEqual(target.expected);
        expect(cacheToJSON(target.cache, { plain: true, glibc: target.glibc }).entries.filter((e) => target.expected.some((x) => x.index === e.index))).toEqual(target.expected);
      }
    }, 60_000);
  }
});

describe('cacheToJSON views on damaged caches the parser accepts', () => {
  it('bytes changed at random in the headers, records and strings: where the parse succeeds, views equal entryToJSON and the plain objects', () => {
    let accepted = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const random = seededRandom(seed);
      const source = sources[seed % sources.length]!;
      if (source.bytes.length > 1 << 20) continue;
      const bytes = source.bytes.slice();
      for (let k = 1 + Math.floor(random() * 6); k > 0; k--) bytes[Math.floor(random() * Math.min(bytes.length, 4000))] = Math.floor(random() * 256);
      let cache: ParsedLdCache;
      try {
        cache = parseLdCache(bytes);
      } catch {
        continue;
      }
      accepted++;
      const glibc = GLIBCS[seed % GLIBCS.length]!;
      const views = cacheToJSON(cache, { glibc });
      if (seed % 2) parseLdCache(sources[0]!.bytes); // and read after eviction
      const want = Array.from({ length: cache.count }, (_, i) => entryToJSON(cache.entry(i), glibc));
      expect(views.entries.map(fieldsOf), `seed ${seed} ${source.label}`).toEqual(want);
      expect(JSON.stringify(views.entries), `seed ${seed}`).toBe(JSON.stringify(cacheToJSON(cache, { glibc, plain: true }).entries));
    }
    // Most damage leaves a cache the parser takes (names and flags are not checked for meaning).
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('cacheToJSON views over bytes the caller changes', () => {
  it('read the changed bytes as entryToJSON does, never outside them, never a trap', () => {
    for (const source of sources.filter((s) => s.label.startsWith('writer'))) {
      const bytes = source.bytes.slice();
      const cache = parseLdCache(bytes);
      const views = cacheToJSON(cache);
      // A first read while intact, then the caller scribbles over its copy (flags, hwcaps, strings).
      expect(views.entries[0]!.name).toBe(cache.entry(0).name);
      for (let i = 0; i < bytes.length; i += 3) bytes[i] = 0xff;
      const plain = Array.from({ length: cache.count }, (_, i) => entryToJSON(cache.entry(i)));
      expect(views.entries.map(fieldsOf), source.label).toEqual(plain);
      // And after another parse took the region (the cache keeps reading the caller's bytes).
      parseLdCache(sources[0]!.bytes);
      expect(views.entries.map(fieldsOf), source.label).toEqual(plain);
    }
  });
});

describeNeeding('cacheToJSON views on real ldconfig caches', ldconfig ? undefined : 'ldconfig is not installed', () => {
  it('every real layout is in the pool', () => {
    expect(sources.filter((s) => s.label.startsWith('ldconfig ')).map((s) => s.label)).toEqual(['ldconfig new', 'ldconfig compat', 'ldconfig old']);
  });
});
