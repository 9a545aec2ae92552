// Mutation fuzzing of the cache parser: valid caches (every layout, both byte orders, glibc-hwcaps
// and generator sections, and the host's own cache) are damaged thousands of times with a seeded
// PRNG. Only LdCacheError may escape, no parse may hang, and every successful parse must describe
// entries whose strings lie inside the buffer and end in a NUL there.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLdCache } from '../src/core/parse.js';
import { formatLdconfigBytes } from '../src/core/format-ldconfig.js';
import { LdCacheError } from '../src/core/errors.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { describeNeeding, need } from './helpers/requirements.js';

/** xorshift32: reproducible runs; the seed is in the test name. */
function prng(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

const entries: WriterEntry[] = [
  { name: 'libz.so.1', path: '/usr/lib/x86_64-linux-gnu/libz.so.1', flags: 0x0303 },
  { name: 'libm.so.6', path: '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libm.so.6', flags: 0x0303, hwcapDir: 'x86-64-v3', isaLevel: 2 },
  { name: 'libm.so.6', path: '/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v4/libm.so.6', flags: 0x0303, hwcapDir: 'x86-64-v4', isaLevel: 3 },
  { name: 'libm.so.6', path: '/usr/lib/x86_64-linux-gnu/libm.so.6', flags: 0x0303 },
  { name: 'libc.so.6', path: '/usr/lib32/libc.so.6', flags: 0x0003, osVersion: 0x00030200 },
  { name: 'libold.so.2', path: '/usr/lib/x86_64-linux-gnu/tls/libold.so.2', flags: 0x0303, hwcap: 0x8000000000000000n },
];

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const format of ['new', 'compat', 'old'] as const) {
    for (const byteOrder of ['little', 'big'] as const) {
      out.push(writeCache({ entries, format, byteOrder }).bytes);
      out.push(writeCache({ entries, format, byteOrder, strings: 'sequential', endianFlag: 0, noExtensions: true }).bytes);
    }
  }
  out.push(writeCache({ entries: [], format: 'new' }).bytes);
  return out;
}

const INTERESTING = [0, 1, 2, 3, 4, 8, 16, 24, 47, 48, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xeaa42174, 0x740a42ea];

/** One to four random damages: bit flips, bytes, interesting 32-bit values (either order), cuts, growth, copies. */
function mutate(seed: Uint8Array, random: (n: number) => number): Uint8Array {
  let b = seed.slice();
  const rounds = 1 + random(4);
  for (let r = 0; r < rounds; r++) {
    const at = b.length === 0 ? 0 : random(b.length);
    switch (random(8)) {
      case 0:
        if (b.length) b[at] ^= 1 << random(8);
        break;
      case 1:
        if (b.length) b[at] = random(256);
        break;
      case 2:
      case 3: {
        // Header fields live at 4-aligned offsets: aim there most of the time.
        const aligned = at & ~3;
        if (aligned + 4 > b.length) break;
        const candidates = [...INTERESTING, b.length, b.length - 1, b.length + 1, aligned, random(0x100000000)];
        new DataView(b.buffer).setUint32(aligned, candidates[random(candidates.length)] >>> 0, random(2) === 0);
        break;
      }
      case 4:
        b = b.slice(0, at);
        break;
      case 5: {
        const grown = new Uint8Array(b.length + 1 + random(64));
        grown.set(b);
        for (let i = b.length; i < grown.length; i++) grown[i] = random(3) === 0 ? 0 : random(256);
        b = grown;
        break;
      }
      case 6: {
        // Copy a chunk elsewhere (moves magics, headers and strings around).
        const length = Math.min(1 + random(48), b.length - at);
        const to = b.length ? random(b.length) : 0;
        b.copyWithin(to, at, at + length);
        break;
      }
      default:
        // The single bytes that steer parsing: flags byte, magic version, old pad.
        for (const spot of [28, 19, 11]) if (spot < b.length && random(3) === 0) b[spot] = random(256);
    }
  }
  return b;
}

function checkOne(bytes: Uint8Array): 'ok' | 'error' {
  let cache;
  try {
    cache = parseLdCache(bytes, { file: 'fuzz.cache' });
  } catch (err) {
    if (!(err instanceof LdCacheError)) throw new Error(`escaped: ${String(err)} for ${Buffer.from(bytes).toString('base64')}`);
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.describe().includes('\n')).toBe(false);
    return 'error';
  }
  // `?? []`: the empty-cache bug has its own test below; the fuzzing goes on past it.
  const list = cache.entries ?? [];
  expect(list.length).toBe(cache.count);
  for (const e of list) {
    for (const [offset, length] of [[e.nameOffset, e.nameLength], [e.pathOffset, e.pathLength]]) {
      if (!(offset >= 0 && length >= 0 && offset + length < bytes.length && bytes[offset + length] === 0)) {
        throw new Error(`entry ${e.index} string ${offset}+${length} outside the ${bytes.length}-byte buffer or not NUL-ended (${Buffer.from(bytes).toString('base64')})`);
      }
      if (bytes.subarray(offset, offset + length).includes(0)) throw new Error(`entry ${e.index} string contains a NUL`);
    }
  }
  formatLdconfigBytes(cache, 'fuzz.cache');
  return 'ok';
}

const hostCache = existsSync('/etc/ld.so.cache') ? readFileSync('/etc/ld.so.cache') : undefined;

for (const [build, iterations] of [['release', 20_000], ['debug', 5_000]] as const) {
  describe(`fuzzing the parser (${build} wasm)`, () => {
    beforeAll(() => {
      useWasmBinary(readFileSync(fileURLToPath(new URL(`../build/${build === 'release' ? 'ldcache.wasm' : 'ldcache.debug.wasm'}`, import.meta.url))));
    });

    const seed = 0x5eed + (build === 'debug' ? 1 : 0);
    it(`${iterations} mutations of writer caches (seed ${seed}): only LdCacheError, no hang, strings inside the buffer`, () => {
      const random = prng(seed);
      const pool = seeds();
      const tally = { ok: 0, error: 0 };
      const started = performance.now();
      let slowest = 0;
      for (let i = 0; i < iterations; i++) {
        const mutated = mutate(pool[random(pool.length)], random);
        const t = performance.now();
        tally[checkOne(mutated)]++;
        slowest = Math.max(slowest, performance.now() - t);
      }
      const elapsed = performance.now() - started;
      // Both outcomes must be common, or the mutations are too weak or too strong to test much.
      expect(tally.ok).toBeGreaterThan(iterations / 50);
      expect(tally.error).toBeGreaterThan(iterations / 10);
      expect(slowest).toBeLessThan(1000);
      expect(elapsed).toBeLessThan(60_000);
    });

    it('an empty cache has an empty entries array (and iterates as empty)', () => {
      for (const format of ['new', 'old'] as const) {
        const cache = parseLdCache(writeCache({ entries: [], format }).bytes);
        expect(cache.count).toBe(0);
        expect(cache.entries).toEqual([]);
        expect([...cache]).toEqual([]);
      }
    });

    it('1000 mutations of the host cache (seed 77)', (ctx) => {
      need(ctx, !hostCache && 'this machine has no /etc/ld.so.cache');
      const random = prng(77);
      for (let i = 0; i < 1000; i++) checkOne(mutate(hostCache!, random));
    });
  });
}

// Parsing in a loop (a CLI over many files, a benchmark, a fuzzer) must not keep every earlier
// cache alive until the loop yields: heap after a full GC stays flat within one synchronous job.
const distParse = fileURLToPath(new URL('../dist/core/parse.js', import.meta.url));
describeNeeding('repeated parses in one synchronous job', !existsSync(distParse) && 'dist/ is not built (npm run build)', () => {
  it('do not retain earlier caches (20 parses of a 20,000-entry cache, entries decoded)', () => {
    const many: WriterEntry[] = Array.from({ length: 20_000 }, (_, i) => ({ name: `libkeep${i}.so.1`, path: `/usr/lib/x86_64-linux-gnu/libkeep${i}.so.1`, flags: 0x303 }));
    const file = join(tmpdir(), `ldcache-retain-${process.pid}.cache`);
    writeFileSync(file, writeCache({ format: 'new', entries: many }).bytes);
    try {
      const script = `
        import { readFileSync } from 'node:fs';
        import { parseLdCache } from ${JSON.stringify(distParse)};
        const bytes = readFileSync(${JSON.stringify(file)});
        const touch = () => { let n = 0; for (const e of parseLdCache(bytes).entries) n += e.name.length + e.path.length; return n; };
        touch(); gc();
        const before = process.memoryUsage().heapUsed;
        for (let i = 0; i < 20; i++) touch();
        gc();
        console.log(JSON.stringify({ grewMB: (process.memoryUsage().heapUsed - before) / 1e6 }));`;
      const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const { grewMB } = JSON.parse(run.stdout) as { grewMB: number };
      // One cache with decoded entries is a few MB; twenty retained ones are far more.
      expect(grewMB).toBeLessThan(15);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
