// The test suite's writers (test/helpers/*.ts: the ld.so.cache writer, the ELF writer), loaded by
// the benchmarks through esbuild, so that tests and benchmarks make their files with one writer
// each. Each is compiled into the temp directory, imported, and removed.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(tmpdir(), 'ldcache-bench');

/** Imports test/helpers/NAME.ts (e.g. `cache-writer`, `elf-writer`). */
export async function loadTestHelper(name) {
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}.${process.pid}.mjs`);
  await build({ entryPoints: [join(here, '..', 'test', 'helpers', `${name}.ts`)], outfile: out, format: 'esm', platform: 'node', bundle: true, logLevel: 'warning' });
  try {
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(out, { force: true });
  }
}
