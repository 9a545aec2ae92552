// Generates big ld.so.cache files for the benchmarks with the test writer
// (test/helpers/cache-writer.ts, byte-identical to ldconfig 2.36 for the same entries),
// compiled on the fly with esbuild (bench/test-helpers.mjs). ldconfig itself is quadratic at this size (spec 15.6).
// Files are kept in the temp directory and reused.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTestHelper } from './test-helpers.mjs';

const cacheDir = join(tmpdir(), 'ldcache-bench');


/** Entries shaped like a big real cache: x86-64 and i386 libraries, glibc-hwcaps variants, versioned sonames. */
function makeEntries(count) {
  const entries = [];
  for (let i = 0; entries.length < count; i++) {
    const name = `lib${['gtk', 'qt', 'nvidia-', 'boost_', 'x', 'av', 'ssl'][i % 7]}${i}.so.${i % 12}`;
    entries.push({ name, path: `/usr/lib/x86_64-linux-gnu/${name}`, flags: 0x0303 });
    if (i % 10 === 3 && entries.length < count) entries.push({ name, path: `/usr/lib/i386-linux-gnu/${name}`, flags: 0x0003 });
    if (i % 50 === 7 && entries.length < count) {
      entries.push({ name, path: `/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/${name}`, flags: 0x0303, hwcapDir: 'x86-64-v3', isaLevel: 2 });
    }
  }
  return entries;
}

/** Path of a `count`-entry cache (format `new` unless told), generated once. */
export async function benchCache(count = 200_000, { format = 'new', byteOrder = 'little' } = {}) {
  const file = join(cacheDir, `cache-${format}-${byteOrder}-${count}.bin`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  const { writeCache } = await loadTestHelper('cache-writer');
  const { bytes } = writeCache({ format, byteOrder, entries: makeEntries(count), sort: true, generator: 'ldconfig (ldcache bench) stable release version 2.36' });
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
  return file;
}

/**
 * The layout a bench runs on: `LDCACHE_BENCH_LAYOUT=FORMAT[/ORDER]` (`new`, `compat` or `old`;
 * `little` or `big`), new little-endian by default.
 */
export function benchLayout() {
  const [format = 'new', byteOrder = 'little'] = (process.env.LDCACHE_BENCH_LAYOUT ?? '').split('/').map((part) => part || undefined);
  if (!['new', 'compat', 'old'].includes(format) || !['little', 'big'].includes(byteOrder)) {
    throw new Error(`LDCACHE_BENCH_LAYOUT=${process.env.LDCACHE_BENCH_LAYOUT}: want FORMAT[/ORDER], FORMAT new|compat|old, ORDER little|big`);
  }
  return { format, byteOrder };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await benchCache(Number(process.argv[2] ?? 200_000), { format: process.argv[3] ?? 'new' }));
}
