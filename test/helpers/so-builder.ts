// Real ELF objects and the real ldconfig, for tests. Objects are compiled once per kind
// (bits + DT_NEEDED list) with gcc into a template whose DT_SONAME is a long placeholder;
// each object is then a copy of the template with the placeholder patched to the wanted
// soname, so a test can build thousands of libraries quickly and give them any bytes as
// soname (tabs, `%`, invalid UTF-8), which no command line could pass through.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 64 = x86-64, 32 = i386 (`-m32`), 'x32' = the x32 ABI (`-mx32`). */
export type ObjectBits = 64 | 32 | 'x32';

export interface SharedObjectOptions {
  /** Directory to write into (created when missing). */
  dir: string;
  /** File name inside `dir`; bytes allow names that are not valid UTF-8. */
  file: string | Uint8Array;
  /** DT_SONAME (at most 240 bytes, no NUL); omitted = no soname (ldconfig then uses the file name). */
  soname?: string | Uint8Array;
  /** Default 64. */
  bits?: ObjectBits;
  /** DT_NEEDED entries, e.g. `['libc.so.6']` (makes ldconfig mark an i386 object libc6 rather than ELF). */
  needed?: readonly string[];
  /** Extra linker options, e.g. `['-z', 'x86-64-v3']` (a GNU_PROPERTY_X86_ISA_1_NEEDED note). */
  linkerOptions?: readonly string[];
}

export interface ExecutableOptions {
  dir: string;
  file: string;
  bits?: ObjectBits;
  needed?: readonly string[];
  /** Exit status of the program when run (default 0). */
  exitCode?: number;
}

const SONAME_PLACEHOLDER = Buffer.from('@'.repeat(240));
const BITS_FLAG: Record<string, string> = { '64': '-m64', '32': '-m32', x32: '-mx32' };

let workDir: string | undefined;
const templates = new Map<string, Buffer>();

function scratch(): string {
  if (!workDir) {
    // Under the run's scratch directory (test/global-setup.ts), which is removed at the end.
    const dir = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? tmpdir(), 'ldcache-so-builder-'));
    workDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return workDir;
}

function gcc(args: string[]): void {
  const result = spawnSync('gcc', args, { encoding: 'utf8' });
  if (result.error) throw new Error(`gcc could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`gcc ${args.join(' ')} failed:\n${result.stderr}`);
}

/** True when gcc can build objects of this kind here (x32/i386 need multilib gcc, no libc). */
export function canBuild(bits: ObjectBits = 64): boolean {
  try {
    buildTemplate(bits, [], true);
    return true;
  } catch {
    return false;
  }
}

/** A stub library whose only purpose is to carry `soname`, so that linking against it records DT_NEEDED. */
function neededStub(bits: ObjectBits, soname: string): string {
  const path = join(scratch(), `stub-${bits}-${Buffer.from(soname).toString('hex')}.so`);
  const source = join(scratch(), 'stub.c');
  writeFileSync(source, 'int ldcache_test_stub(void) { return 0; }\n');
  gcc([BITS_FLAG[String(bits)], '-nostdlib', '-shared', '-fPIC', `-Wl,-soname,${soname}`, '-o', path, source]);
  return path;
}

function linkArgs(bits: ObjectBits, needed: readonly string[]): string[] {
  if (needed.length === 0) return [];
  return ['-Wl,--no-as-needed', ...needed.map((name) => neededStub(bits, name))];
}

function buildTemplate(bits: ObjectBits, needed: readonly string[], withSoname: boolean, linkerOptions: readonly string[] = []): Buffer {
  const key = `${bits}|${withSoname}|${needed.join('\0')}|${linkerOptions.join('\0')}`;
  const cached = templates.get(key);
  if (cached) return cached;
  const dir = scratch();
  const source = join(dir, 'lib.c');
  writeFileSync(source, 'int ldcache_test_value(void) { return 42; }\n');
  const out = join(dir, `template-${templates.size}.so`);
  const soname = withSoname ? [`-Wl,-soname,${SONAME_PLACEHOLDER.toString()}`] : [];
  gcc([BITS_FLAG[String(bits)], '-nostdlib', '-shared', '-fPIC', ...soname, ...linkerOptions.map((o) => `-Wl,${o}`), '-o', out, source, ...linkArgs(bits, needed)]);
  const bytes = readFileSync(out);
  if (withSoname && bytes.indexOf(SONAME_PLACEHOLDER) !== bytes.lastIndexOf(SONAME_PLACEHOLDER)) {
    throw new Error('soname placeholder found twice in the template object');
  }
  templates.set(key, bytes);
  return bytes;
}

function joinPath(dir: string, file: string | Uint8Array): string | Buffer {
  if (typeof file === 'string') return join(dir, file);
  return Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(file)]);
}

/** Writes a real shared object (gcc-built, patched soname) and returns its path (a Buffer when `file` is bytes). */
export function buildSharedObject(options: SharedObjectOptions & { file: string }): string;
export function buildSharedObject(options: SharedObjectOptions): string | Buffer;
export function buildSharedObject(options: SharedObjectOptions): string | Buffer {
  const { dir, file, soname, bits = 64, needed = [], linkerOptions = [] } = options;
  const template = buildTemplate(bits, needed, soname !== undefined, linkerOptions);
  const bytes = Buffer.from(template);
  if (soname !== undefined) {
    const name = Buffer.from(soname);
    if (name.length === 0 || name.length > SONAME_PLACEHOLDER.length || name.includes(0)) {
      throw new Error(`soname must be 1..${SONAME_PLACEHOLDER.length} bytes without NUL`);
    }
    const at = bytes.indexOf(SONAME_PLACEHOLDER);
    bytes.fill(0, at, at + SONAME_PLACEHOLDER.length);
    name.copy(bytes, at);
  }
  mkdirSync(dir, { recursive: true });
  const path = joinPath(dir, file);
  writeFileSync(path, bytes);
  chmodSync(path, 0o755);
  return path;
}

/** Writes a real ELF executable (no libc: `_start` makes the exit syscall with `exitCode`). i386/x32 ones run only where the kernel has that emulation. */
export function buildExecutable(options: ExecutableOptions): string {
  const { dir, file, bits = 64, needed = [], exitCode = 0 } = options;
  mkdirSync(dir, { recursive: true });
  const source = join(scratch(), `exe-${bits}-${exitCode}.c`);
  // A raw exit syscall per ABI, so that the program runs without any libc.
  const exitCall: Record<string, string> = {
    '64': `__asm__ volatile("syscall" :: "a"(60), "D"(${exitCode}));`,
    x32: `__asm__ volatile("syscall" :: "a"(0x40000000 | 60), "D"(${exitCode}));`,
    '32': `__asm__ volatile("int $0x80" :: "a"(1), "b"(${exitCode}));`,
  };
  writeFileSync(source, `void _start(void) { ${exitCall[String(bits)]} for (;;) {} }\n`);
  const path = join(dir, file);
  const link = needed.length === 0 ? ['-static'] : ['-no-pie', ...linkArgs(bits, needed)];
  gcc([BITS_FLAG[String(bits)], '-nostdlib', '-fno-pie', '-o', path, source, ...link]);
  chmodSync(path, 0o755);
  return path;
}

export interface ToolResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

function asToolResult(result: SpawnSyncReturns<Buffer>): ToolResult {
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Path of the real ldconfig, or undefined when there is none. */
export function ldconfigPath(): string | undefined {
  for (const candidate of ['/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (!probe.error && probe.status === 0) return candidate;
  }
  return undefined;
}

/** The glibc version of the real ldconfig (`2.36`), or undefined. */
export function ldconfigVersion(): string | undefined {
  const path = ldconfigPath();
  if (!path) return undefined;
  const first = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  return /(\d+\.\d+)\s*$/.exec(first)?.[1];
}

/** Runs the real ldconfig with the C locale (English messages). Arguments may be bytes-as-latin1 free strings. */
export function runLdconfig(args: readonly string[]): ToolResult {
  const path = ldconfigPath();
  if (!path) throw new Error('ldconfig is not installed');
  return asToolResult(spawnSync(path, args, { env: { ...process.env, LC_ALL: 'C', LANGUAGE: '' } }));
}

/** `ldconfig -p -C FILE`: the exact bytes glibc prints for a cache file. */
export function ldconfigPrint(cacheFile: string): ToolResult {
  return runLdconfig(['-p', '-C', cacheFile]);
}

export type LdconfigFormat = 'old' | 'compat' | 'new';

export interface LdconfigRootOptions {
  /** The root directory (libraries already built inside it). */
  root: string;
  /** Library directories inside the root (absolute, e.g. `/usr/lib/x86_64-linux-gnu`), written to the root's `etc/ld.so.conf`. */
  dirs: readonly string[];
  /** `-c FORMAT`; default `new` (what 2.36 writes by default). */
  format?: LdconfigFormat;
  /** Cache path inside the root (default `/etc/ld.so.cache`). */
  cacheFile?: string;
  /** Extra ldconfig arguments. */
  extraArgs?: readonly string[];
}

/**
 * Writes a cache for a root with the real ldconfig (`-r ROOT -X -c FORMAT -C FILE -f /etc/ld.so.conf`)
 * and returns the cache's path on the host. Only the root's own directories are scanned.
 */
export function writeCacheWithLdconfig(options: LdconfigRootOptions): string {
  const { root, dirs, format = 'new', cacheFile = '/etc/ld.so.cache', extraArgs = [] } = options;
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'ld.so.conf'), dirs.map((d) => `${d}\n`).join(''));
  const result = runLdconfig(['-X', '-c', format, '-r', root, '-C', cacheFile, '-f', '/etc/ld.so.conf', ...extraArgs]);
  if (result.status !== 0) throw new Error(`ldconfig -c ${format} -r ${root} failed (${result.status ?? result.signal}): ${result.stderr.toString()}`);
  return join(root, cacheFile);
}

/** A fresh temporary directory and a function that removes it. */
export function makeTempDir(prefix = 'ldcache-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
