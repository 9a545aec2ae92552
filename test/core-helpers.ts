// Fixtures for the core tests: a temp root of gcc-built shared objects (test/helpers/so-builder.ts,
// the one ELF builder) with caches written by the real ldconfig (`-r ROOT`). The real
// `ldconfig -p` output to compare with comes from so-builder's ldconfigPrint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSharedObject, canBuild, ldconfigPath, runLdconfig, type ObjectBits } from './helpers/so-builder.js';

/** gcc and ldconfig are both here (ldconfig -r chroots as root; without root it prefixes the root itself). */
export const canBuildCaches = ldconfigPath() !== undefined && canBuild(64);

export type LibKind = ObjectBits;

export interface LibSpec {
  /** Directory inside the root, e.g. `/lib` or `/lib/glibc-hwcaps/x86-64-v3`. */
  dir: string;
  soname: string;
  kind?: LibKind;
  /** File name (default: the soname). */
  file?: string;
}

export interface TempRoot {
  root: string;
  /** Writes a cache of `format` at ROOT/NAME with ldconfig -r ROOT; returns its host path. */
  cache(format: 'new' | 'compat' | 'old', name?: string): string;
  cleanup(): void;
}

/** A temp root holding the given libraries (and an /etc/ld.so.conf naming lib32/libx32 when used). */
export function makeRoot(libs: readonly LibSpec[]): TempRoot {
  const root = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? tmpdir(), 'ldcache-core-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'ld.so.conf'), libs.some((l) => l.dir.startsWith('/usr/lib32') || l.dir.startsWith('/usr/libx32')) ? '/usr/lib32\n/usr/libx32\n' : '');
  for (const lib of libs) buildSharedObject({ dir: join(root, lib.dir), file: lib.file ?? lib.soname, soname: lib.soname, bits: lib.kind ?? 64 });
  return {
    root,
    cache(format, name = `${format}.cache`) {
      const result = runLdconfig(['-r', root, '-c', format, '-C', `/${name}`, '-X']);
      if (result.status !== 0) throw new Error(`ldconfig -r ${root} -c ${format} failed (${result.status ?? result.signal}): ${result.stderr.toString()}`);
      return join(root, name);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Whether gcc can build objects of this kind here (i386/x32 need a multilib-capable gcc and binutils). */
export const canCompile = canBuild;
