// Streaming: chunks of any size give the same cache as a one-shot parse; bad magic fails as soon
// as the first bytes are in; parsers and caches sharing the wasm input region do not disturb
// each other.
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheToJSON, createLdCacheParser, formatLdconfigBytes, LdCacheError, parseLdCache, parseLdCacheStream, type LdCache } from '../src/index.js';
import { readLdCache, readLdCacheStream } from '../src/node/read-cache.js';
import { canBuildCaches, makeRoot, type TempRoot } from './core-helpers.js';
import { describeNeeding } from './helpers/requirements.js';

/** Everything observable about a cache, as plain data. */
function snapshot(cache: LdCache): unknown {
  return {
    json: cacheToJSON(cache, { plain: true }),
    ldconfig: Buffer.from(formatLdconfigBytes(cache, 'x')).toString('base64'),
    offsets: cache.entries.map((e) => [e.nameOffset, e.nameLength, e.pathOffset, e.pathLength]),
  };
}

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

function streamInChunks(bytes: Uint8Array, size: number, sizeHint?: number): LdCache {
  const parser = createLdCacheParser({ file: 'chunks', sizeHint });
  for (const chunk of chunks(bytes, size)) parser.push(chunk);
  expect(parser.length).toBe(bytes.length);
  return parser.end();
}

describeNeeding('streaming equals one-shot', !canBuildCaches && 'needs gcc and ldconfig', () => {
  let root: TempRoot;
  const files: Record<string, Uint8Array> = {};
  beforeAll(() => {
    const libs = [];
    for (let i = 0; i < 40; i++) libs.push({ dir: i % 2 ? '/lib' : '/usr/lib', soname: `libstream${i}.so.${i % 5}` });
    libs.push({ dir: '/lib/glibc-hwcaps/x86-64-v3', soname: 'libstream1.so.1' });
    root = makeRoot(libs);
    for (const format of ['new', 'compat', 'old'] as const) files[format] = new Uint8Array(readFileSync(root.cache(format)));
  });
  afterAll(() => root.cleanup());

  for (const format of ['new', 'compat', 'old']) {
    it(`${format}: chunks of 1, 7, 4096 bytes and the whole file`, () => {
      const bytes = files[format];
      const expected = snapshot(parseLdCache(bytes));
      for (const size of [1, 7, 4096, bytes.length]) expect(snapshot(streamInChunks(bytes, size))).toEqual(expected);
      // A size hint smaller or larger than the truth changes nothing.
      expect(snapshot(streamInChunks(bytes, 7, 10))).toEqual(expected);
      expect(snapshot(streamInChunks(bytes, 7, bytes.length * 3))).toEqual(expected);
    });
  }

  it('parseLdCacheStream takes a Node stream, an async generator and a web ReadableStream', async () => {
    const bytes = files.new;
    const expected = snapshot(parseLdCache(bytes));
    expect(snapshot(await parseLdCacheStream(Readable.from(chunks(bytes, 13))))).toEqual(expected);
    async function* generate(): AsyncGenerator<Uint8Array> {
      for (const chunk of chunks(bytes, 5)) yield chunk;
    }
    expect(snapshot(await parseLdCacheStream(generate()))).toEqual(expected);
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks(bytes, 11)) controller.enqueue(chunk);
        controller.close();
      },
    });
    expect(snapshot(await parseLdCacheStream(web))).toEqual(expected);
    expect(snapshot(await parseLdCacheStream(createReadStream(root.cache('new', 'file.cache'), { highWaterMark: 64 })))).toEqual(expected);
  });

  it('readLdCacheStream equals readLdCache', async () => {
    const file = root.cache('compat', 'read.cache');
    expect(snapshot(await readLdCacheStream(file))).toEqual(snapshot(readLdCache(file)));
    await expect(readLdCacheStream('/nonexistent/ld.so.cache')).rejects.toMatchObject({ code: 'READ_FAILED', file: '/nonexistent/ld.so.cache' });
  });

  it('interleaved parsers and one-shot parses do not disturb each other', () => {
    const a = createLdCacheParser({ file: 'a' });
    const b = createLdCacheParser({ file: 'b' });
    const aChunks = chunks(files.new, 9);
    const bChunks = chunks(files.old, 5);
    let other: LdCache | undefined;
    for (let i = 0; i < Math.max(aChunks.length, bChunks.length); i++) {
      if (i < aChunks.length) a.push(aChunks[i]);
      if (i < bChunks.length) b.push(bChunks[i]);
      // A one-shot parse in the middle takes the region from both.
      if (i === 20) other = parseLdCache(files.compat);
    }
    const cacheA = a.end();
    const cacheB = b.end();
    expect(snapshot(cacheA)).toEqual(snapshot(parseLdCache(files.new)));
    expect(snapshot(cacheB)).toEqual(snapshot(parseLdCache(files.old)));
    expect(snapshot(other!)).toEqual(snapshot(parseLdCache(files.compat)));
  });
});

describe('streaming errors', () => {
  it('bad magic fails on the first bytes that rule out both magics, before the rest arrives', () => {
    const parser = createLdCacheParser({ file: 'bad' });
    parser.push(new TextEncoder().encode('glibc-'));
    let error: unknown;
    try {
      parser.push(new TextEncoder().encode('ld.so.cachX'));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LdCacheError);
    expect(error).toMatchObject({ code: 'BAD_MAGIC', offset: 16, file: 'bad' });
    expect(() => parser.end()).toThrow();
  });

  it('a stream of garbage is rejected on its first chunk; the stream is cancelled', async () => {
    let pulled = 0;
    let cancelled = false;
    const web = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(4096).fill(0x41));
      },
      cancel() {
        cancelled = true;
      },
    });
    await expect(parseLdCacheStream(web, { file: 'garbage' })).rejects.toMatchObject({ code: 'BAD_MAGIC', offset: 0 });
    expect(pulled).toBeLessThan(4);
    expect(cancelled).toBe(true);
  });

  it('an empty stream is EMPTY; a truncated one fails like the one-shot parse', async () => {
    await expect(parseLdCacheStream(Readable.from([]))).rejects.toMatchObject({ code: 'EMPTY' });
    const header = new Uint8Array(48);
    header.set(new TextEncoder().encode('glibc-ld.so.cache1.1'));
    header[20] = 3; // three entries, none present
    header[28] = 2;
    await expect(parseLdCacheStream(Readable.from([header.subarray(0, 30), header.subarray(30)]))).rejects.toMatchObject({
      code: 'TABLE_TRUNCATED',
      offset: 20,
    });
  });
});
