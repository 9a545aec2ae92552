// Check-then-use races in `create` (the CVE-2024-0132 class), attacked as an attacker would: a
// gcc-built helper (helpers/race-swapper.c) swaps a driver file, or a directory on its path,
// with a symlink leading out of the root, atomically (renameat2 RENAME_EXCHANGE), at chosen
// moments: in a tight loop, after a random delay, when staging starts, right after the file or
// directory is opened. Over many seeded runs, hard links and copies, the evidence is taken
// independently of the package: every inode and every byte under the volumes directory against
// the outside "secret" files and the genuine driver files. Each run must either refuse cleanly
// (one line naming the file) or build a complete volume of the genuine files only.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { RootFs } from '../src/node/rootfs.js';
import { createDriverVolume } from '../src/node/volume.js';
import { seededRandom } from './helpers/seeded-random.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { recordedDiscovery } from './helpers/recorded-discovery.js';
import { runCommand } from './helpers/dockerd.js';
import { need } from './helpers/requirements.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.RACE_RUNS ?? 32);
const SEED = Number(process.env.RACE_SEED ?? Date.now() % 2 ** 31);

const discoveryOf = (built: DriverRoot): DriverDiscovery => recordedDiscovery(built, { abis: ['x86-64'] });

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const SECRET = 'OUTSIDE-SECRET';

interface Swapper {
  ready: Promise<void>;
  /** Closes its stdin: it restores both names and exits; resolves with the number of swaps. */
  stop(): Promise<number>;
}

function startSwapper(helper: string, args: string[]): Swapper {
  const child = spawn(helper, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const ready = new Promise<void>((resolveReady, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolveReady();
    });
    void exited.then(() => reject(new Error(`swapper exited before it was ready: ${err}`)));
  });
  return {
    ready,
    async stop() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`swapper ${args.join(' ')} failed (${code}): ${err}`);
      return Number(err.trim().split('\n').at(-1));
    },
  };
}

describe('create under a swapping attacker', () => {
  let built: DriverRoot;
  let work: string;
  let helper: string;
  let outside: string;
  /** Genuine content by volume path (`lib64/NAME`, `bin/NAME`), read before any attack. */
  const genuine = new Map<string, string>();
  /** Every outside inode that must never appear in a volume (`dev:ino`). */
  const secretInodes = new Set<string>();
  let fileTarget: { a: string; b: string };
  let dirTarget: { a: string; b: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'volume-race-'));
    helper = join(work, 'race-swapper');
    await run('gcc', ['-O2', '-Wall', '-o', helper, join(repo, 'test/helpers/race-swapper.c')]);
    built = await buildDriverRoot({ dir: work, devices: false, ipc: false, i386: false, firmware: false });
    for (const lib of built.libraries) genuine.set(`lib64/${lib.name}`, sha(await readFile(join(built.root, lib.path))));
    for (const bin of built.binaries) genuine.set(`bin/${bin.name}`, sha(await readFile(join(built.root, bin.path))));

    // The attacker's files outside the root, on the same filesystem (hard links to them would work).
    outside = join(work, 'outside');
    const cuda = built.libraries.find((l) => l.soname === 'libcuda.so.1')!;
    const libDir = dirname(join(built.root, cuda.path));
    const mirror = join(outside, 'mirror');
    await mkdir(join(mirror, 'OUTSIDE-ONLY-NAME'), { recursive: true });
    await mkdir(mirror, { recursive: true });
    await writeFile(join(outside, 'secret'), `${SECRET} file\n`, { mode: 0o600 });
    for (const name of await readdir(libDir)) {
      if ((await lstat(join(libDir, name))).isFile()) await writeFile(join(mirror, name), `${SECRET} ${name}\n`, { mode: 0o600 });
    }
    for (const name of ['secret', ...(await readdir(mirror)).filter((n) => !n.startsWith('OUTSIDE-ONLY')).map((n) => `mirror/${n}`)]) {
      const info = await lstat(join(outside, name));
      secretInodes.add(`${info.dev}:${info.ino}`);
    }
    // A: the driver file; B: an absolute symlink beside it to the secret. A: the library
    // directory; B: a symlink beside it to a mirror directory of secrets with the same names.
    fileTarget = { a: join(built.root, cuda.path), b: join(libDir, '.swap-file') };
    await symlink(join(outside, 'secret'), fileTarget.b);
    dirTarget = { a: libDir, b: join(dirname(libDir), '.swap-dir') };
    await symlink(mirror, dirTarget.b);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Everything under `dir`, judged by lstat and bytes only: no outside inode, content or link. */
  async function assertNothingOutside(dir: string): Promise<void> {
    const walk = async (d: string): Promise<void> => {
      for (const name of await readdir(d)) {
        const path = join(d, name);
        const info = await lstat(path);
        if (info.isDirectory()) {
          await walk(path);
        } else if (info.isSymbolicLink()) {
          const target = await readlink(path);
          // Volume links name a file beside them: nothing absolute, nothing that climbs.
          expect(target, `${path} -> ${target}`).toMatch(/^[^/]+$/);
          expect(target).not.toBe('..');
        } else {
          expect(info.isFile(), `${path} is not a regular file`).toBe(true);
          expect(secretInodes.has(`${info.dev}:${info.ino}`), `${path} is an outside inode`).toBe(false);
          const bytes = await readFile(path);
          expect(bytes.includes(SECRET), `${path} holds outside content`).toBe(false);
        }
      }
    };
    await walk(dir);
  }

  /** A complete volume of genuine files: every expected file, with the genuine bytes. */
  async function assertGenuineVolume(path: string): Promise<void> {
    for (const [file, hash] of genuine) {
      const info = await lstat(join(path, file));
      expect(info.isFile(), `${file} missing`).toBe(true);
      expect(sha(await readFile(join(path, file))), `${file} differs from the driver's`).toBe(hash);
    }
  }

  it(`places only checked in-root inodes across ${RUNS} seeded runs (hard links and copies)`, async () => {
    console.log(`race harness seed ${SEED} (replay with RACE_SEED=${SEED})`);
    const next = seededRandom(SEED);
    const modes = ['loop', 'delay', 'staging', 'staging-loop', 'open'] as const;
    const tally = { refused: 0, built: 0, swaps: 0 };
    const dir = join(work, 'volumes');
    const base = join(dir, 'nvidia_driver');
    for (let i = 0; i < RUNS; i++) {
      const mode = modes[Math.floor(next() * modes.length)]!;
      const target = next() < 0.5 ? fileTarget : dirTarget;
      const strategy = next() < 0.5 ? 'auto' : 'copy';
      const extra =
        mode === 'delay' ? [String(Math.floor(next() * 20_000))] :
        mode === 'staging' || mode === 'staging-loop' ? [base] :
        mode === 'open' ? [target.a] : [];
      const label = `run ${i}: ${mode} ${target === fileTarget ? 'file' : 'directory'} ${strategy}`;
      await mkdir(base, { recursive: true });
      const swapper = startSwapper(helper, [mode, target.a, target.b, ...extra]);
      await swapper.ready;
      let volume: Awaited<ReturnType<typeof createDriverVolume>> | null = null;
      let error: Error | null = null;
      try {
        volume = await createDriverVolume({ discovery: discoveryOf(built), dir, strategy });
      } catch (err) {
        error = err as Error;
      }
      tally.swaps += await swapper.stop();
      await assertNothingOutside(dir);
      let outcome: string;
      if (volume !== null) {
        await assertGenuineVolume(volume.path);
        outcome = 'built';
        tally.built += 1;
      } else {
        const message = error!.message;
        expect(message, label).not.toContain('\n');
        expect(message, label).toContain(built.root); // names the driver file (or its directory)
        expect((await readdir(base)).filter((n) => n.startsWith('.tmp-')), label).toEqual([]);
        outcome = 'refused';
        tally.refused += 1;
      }
      expect(outcome).toMatch(/built|refused/);
      await rm(dir, { recursive: true, force: true });
    }
    // The attacker's files are untouched.
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe(`${SECRET} file\n`);
    expect((await lstat(join(outside, 'secret'))).mode & 0o777).toBe(0o600);
    console.log(`race harness: ${tally.built} built, ${tally.refused} refused, ${tally.swaps} swaps`);
    expect(tally.built + tally.refused).toBe(RUNS);
    expect(tally.swaps).toBeGreaterThan(0);
  });

  it('lists a driver directory through the opened directory, never what is swapped in', async () => {
    const cuda = built.libraries.find((l) => l.soname === 'libcuda.so.1')!;
    const inside = dirname(cuda.path);
    const swapper = startSwapper(helper, ['loop', dirTarget.a, dirTarget.b]);
    await swapper.ready;
    let listed = 0;
    try {
      for (let i = 0; i < 400; i++) {
        const { names } = new RootFs(built.root).readdir(inside);
        expect(names).not.toContain('OUTSIDE-ONLY-NAME');
        if (names.includes(cuda.name)) listed += 1;
      }
    } finally {
      await swapper.stop();
    }
    expect(listed).toBeGreaterThan(0); // some listings happened between swaps
  });

  it('the CLI refuses with exit 1 and one line when the directory is swapped at staging', async (ctx) => {
    need(ctx, !existsSync(join(repo, 'dist/cli/nvidia-volume/create.js')) && 'dist/ is not built (npm run build)');
    const dir = join(work, 'cli-volumes');
    const base = join(dir, 'nvidia_driver');
    let refused = 0;
    for (let i = 0; i < 3; i++) {
      await mkdir(base, { recursive: true });
      const swapper = startSwapper(helper, ['staging-loop', dirTarget.a, dirTarget.b, base]);
      await swapper.ready;
      const result = await runCommand(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'create', '--root', built.root, '--dir', dir, ...(i % 2 ? ['--copy'] : [])]);
      await swapper.stop();
      await assertNothingOutside(dir);
      if (result.code === 0) {
        const path = /at (\S+) \(/.exec(result.stdout)![1]!;
        expect(basename(path)).toMatch(new RegExp(`^${built.version.replace(/\./g, '\\.')}`));
      } else {
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/^nvidia-volume: [^\n]+\n$/);
        refused += 1;
      }
      await rm(dir, { recursive: true, force: true });
    }
    expect(refused).toBeGreaterThan(0);
  });
});
