// Fixtures for the core tests: real caches written by the real ldconfig from gcc-built objects
// in a temp root, and the real `ldconfig -p` output to compare with.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const LDCONFIG = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((path) => existsSync(path)) ?? 'ldconfig';

export function hasTool(command: string, args: string[] = ['--version']): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error;
}

export const haveLdconfig = hasTool(LDCONFIG, ['--version']);
export const haveGcc = hasTool('gcc');
/** ldconfig -r chroots when it can (root); without root it prefixes the root itself, which works too. */
export const canBuildCaches = haveLdconfig && haveGcc;

export type LibKind = 64 | 32 | 'x32';

export interface LibSpec {
  /** Directory inside the root, e.g. `/lib` or `/lib/glibc-hwcaps/x86-64-v3`. */
  dir: string;
  soname: string;
  kind?: LibKind;
  /** File name (default: the soname). */
  file?: string;
}

const compiled = new Map<string, Buffer>();

/** A tiny shared object with DT_SONAME `soname`, built by gcc. */
function sharedObject(scratch: string, soname: string, kind: LibKind): Buffer {
  const key = `${kind}:${soname}`;
  let bytes = compiled.get(key);
  if (!bytes) {
    const out = join(scratch, `obj-${compiled.size}.so`);
    const flags = kind === 64 ? ['-m64'] : kind === 32 ? ['-m32', '-nostdlib'] : ['-mx32', '-nostdlib'];
    execFileSync('gcc', [...flags, '-shared', '-fPIC', `-Wl,-soname,${soname}`, '-o', out, '-x', 'c', '-'], { input: 'int ldcache_test_symbol;\n' });
    bytes = readFileSync(out);
    compiled.set(key, bytes);
  }
  return bytes;
}

export interface TempRoot {
  root: string;
  /** Writes a cache of `format` at ROOT/NAME with ldconfig -r ROOT; returns its host path. */
  cache(format: 'new' | 'compat' | 'old', name?: string): string;
  cleanup(): void;
}

/** A temp root holding the given libraries (and an empty /etc/ld.so.conf). */
export function makeRoot(libs: readonly LibSpec[]): TempRoot {
  const root = mkdtempSync(join(tmpdir(), 'ldcache-core-'));
  const scratch = join(root, '.scratch');
  mkdirSync(scratch);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'ld.so.conf'), libs.some((l) => l.dir.startsWith('/usr/lib32') || l.dir.startsWith('/usr/libx32')) ? '/usr/lib32\n/usr/libx32\n' : '');
  for (const lib of libs) {
    const target = join(root, lib.dir, lib.file ?? lib.soname);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, sharedObject(scratch, lib.soname, lib.kind ?? 64));
  }
  rmSync(scratch, { recursive: true, force: true });
  return {
    root,
    cache(format, name = `${format}.cache`) {
      execFileSync(LDCONFIG, ['-r', root, '-c', format, '-C', `/${name}`, '-X'], { stdio: ['ignore', 'ignore', 'pipe'] });
      return join(root, name);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The real `ldconfig -p -C FILE` output (bytes), exit status and stderr. */
export function ldconfigPrint(file: string): { stdout: Buffer; status: number | null; stderr: string } {
  const result = spawnSync(LDCONFIG, ['-p', '-C', file], { env: { ...process.env, LC_ALL: 'C' } });
  return { stdout: result.stdout, status: result.status, stderr: result.stderr.toString() };
}

/** Whether gcc can build objects of this kind here (i386/x32 need multilib gcc). */
export function canCompile(kind: LibKind): boolean {
  if (!haveGcc) return false;
  const dir = mkdtempSync(join(tmpdir(), 'ldcache-probe-'));
  try {
    sharedObject(dir, `libprobe${kind}.so.1`, kind);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
