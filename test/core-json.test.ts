// JSON text written by the wasm core (cacheJSONChunks) against the JS object path: every line
// is byte for byte JSON.stringify(entryToJSON(entry)) of the same entry, read through the entry
// objects, for every layout, both byte orders, glibc-hwcaps, filters, and names that need JSON
// escaping; non-ASCII names take the JS path and must give the same text.
import { describe, expect, it } from 'vitest';
import { cacheJSONChunks, cacheToJSON, entryToJSON, parseLdCache, type EntryJSON } from '../src/index.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLdconfigBytes } from '../src/index.js';
import { execFileSync } from 'node:child_process';
import { ldconfigPath } from './helpers/so-builder.js';
import { need } from './helpers/requirements.js';

const utf8 = new TextDecoder();
const text = (chunks: Iterable<Uint8Array>): string => {
  let out = '';
  for (const chunk of chunks) out += utf8.decode(chunk);
  return out;
};

const entries: WriterEntry[] = [
  { name: 'libz.so.1', path: '/usr/lib/x86_64-linux-gnu/libz.so.1', flags: 0x0303 },
  // The same name again, next to it (stored once: cacheToJSON shares the string).
  { name: 'libz.so.1', path: '/usr/lib/i386-linux-gnu/libz.so.1', flags: 0x0003 },
  { name: 'lib"quoted\\.so', path: '/opt/we\tird/lib"quoted\\.so', flags: 0x0303 },
  { name: 'libctl\u0001\u001f\u007f.so', path: '/opt/x/libctl\u0001\u001f\u007f.so', flags: 0x0003, osVersion: 0x03020000 },
  { name: 'libv3.so.1', path: '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libv3.so.1', flags: 0x0303, hwcapDir: 'x86-64-v3', isaLevel: 2 },
  { name: 'liblegacy.so', path: '/usr/lib/tls/liblegacy.so', flags: 0x0303, hwcap: 0x8000_0000_0000_0001n },
  { name: 'libneg.so', path: '/lib/libneg.so', flags: -2147482877 },
  // Escapes after the first 16 bytes (the core copies 16 at a time until one needs escaping).
  { name: 'liblong-name-without-escapes"then.so', path: '/usr/lib/x86_64-linux-gnu/odd"name\\with\ttab\u0002.so', flags: 0x0303 },
];

function expectLikeObjects(bytes: Uint8Array, label: string, include?: (e: { name: string }) => boolean): void {
  const cache = parseLdCache(bytes);
  const shown = [...cache].filter((e) => !include || include(e));
  const lines = shown.map((e) => JSON.stringify(entryToJSON(e)));
  expect(text(cacheJSONChunks(cache, { ndjson: true, include })), `${label} ndjson`).toBe(lines.map((l) => `${l}\n`).join(''));
  const doc = text(cacheJSONChunks(cache, { file: 'F', include }));
  const { entries: views, ...head } = cacheToJSON(cache, { include });
  const { entries: objects, ...plainHead } = cacheToJSON(cache, { include, plain: true });
  expect(plainHead).toEqual(head);
  expect(doc, `${label} document`).toBe(`${JSON.stringify({ file: 'F', ...head }).slice(0, -1)},"entries":[\n${lines.join(',\n')}${lines.length ? '\n' : ''}]}\n`);
  expect(JSON.parse(doc)).toEqual({ file: 'F', ...head, entries: objects });
  // The objects themselves, keys in the same order: each stringifies to its entry's line.
  expect(objects.map((o) => JSON.stringify(o)), `${label} objects`).toEqual(lines);
  // The views (the default): each stringifies the same, and every field reads the same value.
  expect(views.map((v) => JSON.stringify(v)), `${label} views`).toEqual(lines);
  const fields = views.map((v) => Object.fromEntries(Object.keys(entryToJSON(shown[0] ?? cache.entry(0))).map((key) => [key, v[key as keyof EntryJSON]])));
  expect(fields, `${label} view fields`).toEqual(shown.map((e) => entryToJSON(e)));
}

describe('JSON text from the core equals JSON.stringify of the entry objects', () => {
  for (const byteOrder of ['little', 'big'] as const) {
    for (const format of ['new', 'compat', 'old'] as const) {
      it(`${format}, ${byteOrder}-endian: escapes, hwcaps, negative flags, filters`, () => {
        const { bytes } = writeCache({ format, byteOrder, entries: format === 'old' ? entries.map(({ hwcapDir, isaLevel, hwcap, ...e }) => e) : entries, sort: false, generator: 'gen "x"' });
        expectLikeObjects(bytes, `${format} ${byteOrder}`);
        expectLikeObjects(bytes, `${format} ${byteOrder} filtered`, (e) => e.name.startsWith('libv') || e.name.startsWith('libz'));
        expectLikeObjects(bytes, `${format} ${byteOrder} nothing`, () => false);
      });
    }
  }

  it('non-ASCII names (the JS path) give the same text', () => {
    const { bytes } = writeCache({ format: 'new', entries: [...entries, { name: 'libcafé.so', path: '/opt/café/libcafé.so', flags: 0x0303 }, { name: new Uint8Array([0x6c, 0xff, 0x2e]), path: '/x/bad', flags: 0x0303 }], sort: false });
    expectLikeObjects(bytes, 'non-ASCII');
  });

  it('a 12,000-entry cache spans several chunks and stays exact', () => {
    const many: WriterEntry[] = Array.from({ length: 12_000 }, (_, i) => ({ name: `libmany${i}.so.${i % 7}`, path: `/usr/lib/x86_64-linux-gnu/d${i % 13}/libmany${i}.so.${i % 7}`, flags: i % 3 ? 0x0303 : 0x0003 }));
    const { bytes } = writeCache({ format: 'new', entries: many, sort: false });
    const cache = parseLdCache(bytes);
    // Each chunk is a view valid until the next: copy it as it comes.
    const chunks: Uint8Array[] = [];
    for (const chunk of cacheJSONChunks(cache, { ndjson: true })) chunks.push(chunk.slice());
    expect(chunks.length).toBeGreaterThan(2);
    const same = utf8.decode(Buffer.concat(chunks)) === [...cache].map((e) => `${JSON.stringify(entryToJSON(e))}\n`).join('');
    expect(same).toBe(true);
  });

  it('ldconfig -p text over several 1 MiB chunks is byte for byte ldconfig -p -C', (ctx) => {
    const ldconfig = ldconfigPath();
    need(ctx, !ldconfig && 'needs ldconfig');
    const many: WriterEntry[] = Array.from({ length: 30_000 }, (_, i) => ({ name: `libmany${i}.so.${i % 7}`, path: `/usr/lib/x86_64-linux-gnu/d${i % 13}/libmany${i}.so.${i % 7}`, flags: i % 3 ? 0x0303 : 0x0003 }));
    const dir = mkdtempSync(join(tmpdir(), 'ldcache-chunks-'));
    try {
      const file = join(dir, 'many.cache');
      const { bytes } = writeCache({ format: 'new', entries: many, generator: 'ldconfig test' });
      writeFileSync(file, bytes);
      const ours = formatLdconfigBytes(parseLdCache(bytes), file);
      expect(ours.length).toBeGreaterThan(2 << 20);
      // ldconfig's own output (more than spawnSync's default 1 MiB buffer).
      const theirs = execFileSync(ldconfig!, ['-p', '-C', file], { maxBuffer: 1 << 26, env: { ...process.env, LC_ALL: 'C' } });
      expect(theirs.length).toBe(ours.length);
      expect(Buffer.compare(Buffer.from(ours), theirs)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
