// Special files and impossible paths, given to the built CLIs as real processes under a time
// limit: each run must end quickly with exit 1 (or 2) and one clean line naming the file; a hang
// is killed and fails the test. Directories under /proc/self/ are paths the kernel refuses with
// ENOENT although the parent exists (Node's recursive mkdir spins forever on them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding, need } from './helpers/requirements.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const volumeCli = join(repo, 'bin', 'nvidia-volume.js');
const dumpCli = join(repo, 'bin', 'ldcache-dump.cjs');
const built = existsSync(join(repo, 'dist', 'cli', 'nvidia-volume.js'));

/** A run stopped after this long has hung: every case here must end in well under a second. */
const LIMIT_MS = 15_000;

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a built CLI, killed (SIGKILL) after LIMIT_MS. */
export function runBounded(bin: string, args: string[]): CliRun {
  const start = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: LIMIT_MS, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' } });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

/** Like runBounded, through GNU time: `maxRssMiB` is the peak resident memory the kernel measured. */
function runMeasured(bin: string, args: string[], scratch: string): CliRun & { maxRssMiB: number } {
  const out = join(scratch, `time-${Date.now()}.txt`);
  const start = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, bin, ...args], { encoding: 'utf8', timeout: LIMIT_MS, killSignal: 'SIGKILL' });
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start, maxRssMiB: kib / 1024 };
}

/** A sparse file of `size` bytes whose first bytes are `head`. */
function sparseFile(path: string, size: number, head: Uint8Array = new Uint8Array(0)): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

const GiB = 1024 ** 3;
const timeReason = existsSync('/usr/bin/time') ? undefined : 'GNU time (/usr/bin/time, Debian package time) is missing';
const isRoot = process.getuid?.() === 0;

/**
 * Exit 1, one error line on stderr starting with `prog:` and containing `names`, no stack trace.
 * Lines starting with `logPrefix` (the plugin's progress log) are not errors.
 */
export function expectCleanFailure(run: CliRun, prog: string, names: string | RegExp, logPrefix?: string): void {
  expect(run.signal, `killed after ${LIMIT_MS} ms: it hung (stderr: ${run.stderr})`).toBeNull();
  expect(run.status, run.stderr).toBe(1);
  const lines = run.stderr.split('\n').filter((line) => line !== '' && !(logPrefix && line.startsWith(logPrefix)));
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`${prog}: `), lines[0]).toBe(true);
  if (typeof names === 'string') expect(lines[0]).toContain(names);
  else expect(lines[0]).toMatch(names);
  expect(run.stderr).not.toMatch(/\n\s+at |Error: |node:internal/);
}

describeNeeding('directories that cannot be made (built nvidia-volume)', !built && 'dist/ is not built (npm run build)', () => {
  let root: DriverRoot;
  let scratch: string;
  beforeAll(async () => {
    root = await buildDriverRoot({ gpus: 1, i386: false });
    scratch = await mkdtemp(join(tmpdir(), 'hostile-paths-'));
  });
  afterAll(async () => {
    await root?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  for (const [what, args, named] of [
    ['create --dir', (r: string) => ['create', '--root', r, '--dir', '/proc/self/nv/volumes'], '/proc/self/nv'],
    ['create --dir (deeper)', (r: string) => ['create', '--root', r, '--dir', '/proc/self/fd/a/b/c'], '/proc/self/fd/a'],
    ['cdi --output', (r: string) => ['cdi', '--root', r, '--output', '/proc/self/cdi/nvidia.yaml'], '/proc/self/cdi'],
    ['plugin --socket', (r: string) => ['plugin', '--root', r, '--dir', join(scratch, 'v'), '--socket', '/proc/self/plugins/nv.sock'], '/proc/self/plugins'],
  ] as const) {
    it(`${what} under /proc/self/ fails at once, naming the directory`, () => {
      const run = runBounded(volumeCli, args(root.root));
      expectCleanFailure(run, 'nvidia-volume', named, 'nvidia-volume plugin: ');
      expect(run.stderr).toContain('cannot create directory');
    });
  }

  it('a regular file on the way is named as not a directory, nothing is created', async () => {
    await writeFile(join(scratch, 'file'), 'x');
    const run = runBounded(volumeCli, ['cdi', '--root', root.root, '--output', join(scratch, 'file', 'sub', 'nvidia.json')]);
    expectCleanFailure(run, 'nvidia-volume', `${join(scratch, 'file')}: not a directory`);
    expect(existsSync(join(scratch, 'file', 'sub'))).toBe(false);
  });
});

describeNeeding('hostile cache files (built ldcache-dump)', !built && 'dist/ is not built (npm run build)', () => {
  let scratch: string;
  let cache: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hostile-files-'));
    // A real cache, written by the real ldconfig from this machine's libc directory.
    cache = join(scratch, 'real.cache');
    const conf = join(scratch, 'ld.so.conf');
    await writeFile(conf, '/lib/x86_64-linux-gnu\n');
    execFileSync('ldconfig', ['-X', '-C', cache, '-f', conf]);
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('--root whose etc/ld.so.cache is a FIFO: refused unopened (opening it would block)', () => {
    const root = join(scratch, 'fifo-root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'etc/ld.so.cache')]);
    const run = runBounded(dumpCli, ['--root', root]);
    expectCleanFailure(run, 'ldcache-dump', `${root}/etc/ld.so.cache: /etc/ld.so.cache is not a regular file`);
  });

  it('--root whose etc/ld.so.cache is a character device (/dev/zero\'s numbers): refused unopened', (ctx) => {
    need(ctx, !isRoot && 'mknod needs root');
    const root = join(scratch, 'chardev-root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    execFileSync('mknod', [join(root, 'etc/ld.so.cache'), 'c', '1', '5']);
    expectCleanFailure(runBounded(dumpCli, ['--root', root]), 'ldcache-dump', 'is not a regular file');
  });

  it('a pipe given directly still works: <(cat FILE) prints what ldconfig -p prints for FILE', () => {
    const r = spawnSync('bash', ['-c', 'exec "$1" "$2" <(cat "$3")', 'bash', process.execPath, dumpCli, cache], { encoding: 'utf8', timeout: LIMIT_MS, killSignal: 'SIGKILL' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = execFileSync('ldconfig', ['-p', '-C', cache], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    // The header names the file as given (/dev/fd/N here); every entry line is ldconfig's.
    expect(r.stdout.split('\n').slice(1)).toEqual(theirs.split('\n').slice(1));
    expect(r.stdout.split('\n')[0]).toMatch(/^\d+ libs found in cache `\/dev\/fd\/\d+'$/);
  });

  it('a 2 GiB file of zeros fails on its magic, unread: quick and small', (ctx) => {
    need(ctx, timeReason);
    const zeros = join(scratch, 'zeros.cache');
    sparseFile(zeros, 2 * GiB);
    const run = runMeasured(dumpCli, [zeros], scratch);
    expectCleanFailure(run, 'ldcache-dump', `${zeros}: `);
    expect(run.stderr).toContain('(at byte 0)');
    // Reading it whole took 2.1 GB of memory; the head is 64 bytes.
    expect(run.maxRssMiB).toBeLessThan(300);
  });

  for (const [what, size] of [['2.5 GiB', 2.5 * GiB], ['3.5 GiB', 3.5 * GiB], ['5 GiB', 5 * GiB]] as const) {
    it(`a ${what} file with a cache magic is refused by its size, unread, with the reason`, (ctx) => {
      need(ctx, timeReason);
      const huge = join(scratch, `huge-${size}.cache`);
      sparseFile(huge, size, readFileSync(cache));
      const run = runMeasured(dumpCli, [huge], scratch);
      expectCleanFailure(run, 'ldcache-dump', `${huge}: ${size} bytes: larger than any ld.so.cache (the limit is ${256 * 1024 * 1024} bytes)`);
      expect(run.maxRssMiB).toBeLessThan(300);
      rmSync(huge);
    });
  }

  it('/proc/self/maps (stat says 0 bytes) is read as a stream: not a cache, rather than "empty"', () => {
    const run = runBounded(dumpCli, ['/proc/self/maps']);
    expectCleanFailure(run, 'ldcache-dump', '/proc/self/maps: ');
    expect(run.stderr).not.toMatch(/empty/i);
    expect(run.stderr).toMatch(/magic/);
  });

  it('/dev/zero given directly: endless, fails on its first bytes', () => {
    const run = runBounded(dumpCli, ['/dev/zero']);
    expectCleanFailure(run, 'ldcache-dump', '/dev/zero: ');
    expect(run.stderr).toContain('(at byte 0)');
  });

  it('an endless stream that starts like a cache stops at the size limit', () => {
    const r = spawnSync('bash', ['-c', 'exec "$1" "$2" <(head -c 64 "$3"; cat /dev/zero)', 'bash', process.execPath, dumpCli, cache], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim()).toMatch(/^ldcache-dump: \/dev\/fd\/\d+: more than 268435456 bytes: larger than any ld\.so\.cache/);
  });
});

describeNeeding('hostile files in a driver root (built nvidia-volume discover)', !built && 'dist/ is not built (npm run build)', () => {
  let root: DriverRoot;
  let scratch: string;
  beforeAll(async () => {
    root = await buildDriverRoot({ gpus: 1, i386: false });
    scratch = await mkdtemp(join(tmpdir(), 'hostile-root-'));
  });
  afterAll(async () => {
    await root?.cleanup();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Runs discover --json with the file at `inside` replaced by `make(hostPath)`, then restores it. */
  function discoverWith(inside: string, make: (path: string) => void): CliRun & { doc: DiscoverDoc | null } {
    const path = join(root.root, inside);
    const saved = join(scratch, 'saved');
    renameSync(path, saved);
    try {
      make(path);
      const run = runBounded(volumeCli, ['discover', '--root', root.root, '--json']);
      return { ...run, doc: run.status === 0 ? (JSON.parse(run.stdout) as DiscoverDoc) : null };
    } finally {
      rmSync(path, { force: true });
      renameSync(saved, path);
    }
  }

  const libcuda = (): string => root.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!.path;

  for (const [what, make, missing] of [
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p]), undefined],
    ['a character device with /dev/zero\'s numbers', (p: string) => execFileSync('mknod', [p, 'c', '1', '5']), !isRoot && 'mknod needs root'],
  ] as const) {
    it(`libcuda's real file is ${what}: rejected as not a regular file, never opened`, (ctx) => {
      need(ctx, missing);
      const run = discoverWith(libcuda(), make);
      expect(run.signal, 'hung').toBeNull();
      expect(run.status, run.stderr).toBe(0);
      const rejected = run.doc!.rejected.find((r) => r.path === libcuda());
      expect(rejected?.reason, JSON.stringify(run.doc!.rejected)).toMatch(/not a regular file/);
      expect(run.doc!.libraries.map((l) => l.path)).not.toContain(libcuda());
    });

    it(`etc/ld.so.cache is ${what}: a warning, and the library directories are scanned instead`, (ctx) => {
      need(ctx, missing);
      const run = discoverWith('etc/ld.so.cache', make);
      expect(run.signal, 'hung').toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(run.doc!.warnings.join('\n')).toMatch(/\/etc\/ld\.so\.cache: .*not a regular file; scanning library directories instead/);
      expect(run.doc!.librarySource).toBe('directories');
    });

    it(`proc/driver/nvidia/version is ${what}: the version comes from the library names`, (ctx) => {
      need(ctx, missing);
      const run = discoverWith('proc/driver/nvidia/version', make);
      expect(run.signal, 'hung').toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(run.doc!.versionSource).toBe('libraries');
      expect(run.doc!.driverVersion).toBe(root.version);
    });
  }

  it('libcuda grown to a 6 GiB sparse file: only its headers are read (quick, small), it stays selected', (ctx) => {
    need(ctx, timeReason);
    const real = join(root.root, libcuda());
    const original = readFileSync(real);
    const run = (() => {
      const copy = join(scratch, 'libcuda-huge');
      sparseFile(copy, 6 * GiB, original);
      const saved = join(scratch, 'saved-libcuda');
      renameSync(real, saved);
      renameSync(copy, real);
      try {
        return runMeasured(volumeCli, ['discover', '--root', root.root, '--json'], scratch);
      } finally {
        rmSync(real);
        renameSync(saved, real);
      }
    })();
    expect(run.signal, 'hung').toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as DiscoverDoc).libraries.map((l) => l.path)).toContain(libcuda());
    expect(run.maxRssMiB).toBeLessThan(300);
  });

  it('etc/ld.so.cache grown to 1 GiB (a valid start): refused by its size, unread, with a warning', () => {
    const run = discoverWith('etc/ld.so.cache', (p) => sparseFile(p, GiB, readFileSync(join(scratch, 'saved'))));
    expect(run.signal, 'hung').toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(run.doc!.warnings.join('\n')).toContain(`/etc/ld.so.cache: ${GiB} bytes: larger than any ld.so.cache`);
    expect(run.doc!.librarySource).toBe('directories');
  });

  it('proc/devices grown to 1 GiB: refused by its size (never cut short), with a warning', () => {
    const run = discoverWith('proc/devices', (p) => sparseFile(p, GiB, readFileSync(join(scratch, 'saved'))));
    expect(run.signal, 'hung').toBeNull();
    expect(run.doc?.warnings.join('\n') ?? run.stderr).toMatch(/\/proc\/devices.*larger than/);
  });
});

interface DiscoverDoc {
  driverVersion: string | null;
  versionSource: string;
  librarySource: string;
  libraries: { path: string }[];
  rejected: { path: string; reason: string }[];
  warnings: string[];
}

describe('hostile cache files (library API: readLdCache and readLdCacheStream)', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'hostile-api-'));
    mkdirSync(join(scratch, 'root/etc'), { recursive: true });
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('a FIFO inside a root is refused unopened by both readers (READ_FAILED naming it)', async () => {
    const { readLdCache, readLdCacheStream } = await import('../src/node/read-cache.js');
    const root = join(scratch, 'root');
    execFileSync('mkfifo', [join(root, 'etc/ld.so.cache')]);
    const expected = { code: 'READ_FAILED', file: `${root}/etc/ld.so.cache`, message: '/etc/ld.so.cache is not a regular file' };
    expect(() => readLdCache({ root })).toThrow(expect.objectContaining(expected));
    await expect(readLdCacheStream({ root })).rejects.toThrow(expect.objectContaining(expected));
    rmSync(join(root, 'etc/ld.so.cache'));
  });

  it('a 3 GiB file with a cache magic: TOO_LARGE from both readers; 3 GiB of zeros: BAD_MAGIC at byte 0', async () => {
    const { readLdCache, readLdCacheStream, MAX_CACHE_BYTES } = await import('../src/node/read-cache.js');
    const magic = join(scratch, 'magic.cache');
    sparseFile(magic, 3 * GiB, new TextEncoder().encode('glibc-ld.so.cache1.1'));
    const tooLarge = { code: 'TOO_LARGE', file: magic, message: `${3 * GiB} bytes: larger than any ld.so.cache (the limit is ${MAX_CACHE_BYTES} bytes)` };
    expect(() => readLdCache(magic)).toThrow(expect.objectContaining(tooLarge));
    await expect(readLdCacheStream(magic)).rejects.toThrow(expect.objectContaining(tooLarge));
    const zeros = join(scratch, 'zeros.cache');
    sparseFile(zeros, 3 * GiB);
    expect(() => readLdCache(zeros)).toThrow(expect.objectContaining({ code: 'BAD_MAGIC', offset: 0 }));
    await expect(readLdCacheStream(zeros)).rejects.toThrow(expect.objectContaining({ code: 'BAD_MAGIC', offset: 0 }));
  });
});
