// Crash safety of `nvidia-volume create`: the real CLI as a child process, killed with SIGKILL
// at random moments (30 runs: every third one aimed at the build itself, killed a random time
// after its work directory appears, since node's start-up fills most of a run; alternating hard
// links and copies, some starting from a damaged volume, which is rebuilt as a new generation
// beside it). After every kill each published
// generation is complete (or the one we damaged), judged against the root's own files (inodes,
// bytes: test/helpers/volume-judge.ts), and kills must have landed both mid-build and before a new
// generation was published; the next run always completes, prunes the older generations and
// leaves no work directory behind. Kill times come from a seeded generator: the seed is printed,
// and LDCACHE_CRASH_SEED=N replays a run's choices.
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seededRandom } from './helpers/seeded-random.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding } from './helpers/requirements.js';
import { judgeVolume } from './helpers/volume-judge.js';

const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'bin/nvidia-volume.js');
const RUNS = 30;
const SEED = Number(process.env.LDCACHE_CRASH_SEED ?? Math.floor(Date.now() % 0x7fffffff));

/** When to kill a run: a time after its start, or a time after its work directory (`.tmp-…`) appears in `watched`. */
type Kill = null | { afterStartMs: number } | { afterBuildStartsMs: number; watched: string };

function create(root: string, dir: string, copy: boolean, kill: Kill): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cli, 'create', '--root', root, '--dir', dir, ...(copy ? ['--copy'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let timer: NodeJS.Timeout | undefined;
    const killLater = (ms: number) => (timer ??= setTimeout(() => child.kill('SIGKILL'), ms));
    // inotify reports the work directory's creation as a 'rename' event of its name.
    const watcher =
      kill && 'watched' in kill ? watch(kill.watched, (_event, name) => String(name).startsWith('.tmp-') && killLater(kill.afterBuildStartsMs)) : undefined;
    if (kill && 'afterStartMs' in kill) killLater(kill.afterStartMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      watcher?.close();
      resolveRun({ code, signal, stderr });
    });
  });
}

describeNeeding('create killed at random moments', !existsSync(join(repo, 'dist/cli/nvidia-volume/create.js')) && 'dist/ is not built (npm run build)', () => {
  let built: DriverRoot;
  let work: string;
  beforeAll(async () => {
    built = await buildDriverRoot({ devices: false, ipc: false });
    work = await mkdtemp(join(tmpdir(), 'volume-crash-'));
  });
  afterAll(async () => {
    await built?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it(`leaves every published generation complete across ${RUNS} kills, and the next run completes`, async () => {
    console.log(`volume-crash seed ${SEED} (replay: LDCACHE_CRASH_SEED=${SEED})`);
    const random = seededRandom(SEED);
    const dir = join(work, 'volumes');
    const base = join(dir, 'nvidia_driver');
    const files = built.libraries.length + built.binaries.length;
    /** The published generations (`VERSION`, `VERSION-N`), newest first. */
    const generations = async (): Promise<string[]> =>
      (await readdir(base)).filter((n) => n === built.version || n.startsWith(`${built.version}-`)).sort((a, b) => b.length - a.length || b.localeCompare(a));

    // One undisturbed run of each kind gives the expected content and the time window to aim at:
    // the longer run, and later the latest run that ended before its kill (a machine that was slow
    // at first would otherwise push every kill past the end of the build).
    let window = 0;
    let build = 0; // how long the build itself took: from the work directory's creation to its publication
    for (const copy of [false, true]) {
      const started = Date.now();
      let buildStarted = 0;
      await mkdir(base, { recursive: true });
      const watcher = watch(base, (_event, name) => {
        if (String(name).startsWith('.tmp-')) buildStarted ||= Date.now();
        else if (String(name) === built.version && buildStarted) build = Math.max(build, Date.now() - buildStarted);
      });
      const full = await create(built.root, dir, copy, null);
      watcher.close();
      expect(full.code, full.stderr).toBe(0);
      window = Math.max(window, Date.now() - started);
      expect(build, "the build was seen: its work directory was made and published").toBeGreaterThan(0);
      const [only, ...others] = await generations();
      expect(others).toEqual([]);
      expect(await judgeVolume(join(base, only!), built)).toEqual({ state: 'complete', linked: copy ? 0 : files, copied: copy ? files : 0 });
      await rm(join(base, only!), { recursive: true });
    }

    let killed = 0;
    let killedBeforePublish = 0; // kills after which no complete generation was there
    let midBuild = 0; // kills that left a work directory of their own: the build was under way
    const damaged = new Set<string>(); // generations we damaged ourselves
    const DAMAGE = 'link lib64/libcuda.so.1 is missing';
    for (let run = 0; run < RUNS; run++) {
      const current = (await generations())[0];
      if (current !== undefined && (await judgeVolume(join(base, current), built)).state === 'complete') {
        // Make the next run work: remove the volume, or damage it so a new generation is built beside it.
        if (run % 3 === 0) {
          await rm(join(base, current, 'lib64', 'libcuda.so.1'));
          damaged.add(current);
        } else await rm(join(base, current), { recursive: true });
      }
      const before = new Set(await readdir(base));
      const started = Date.now();
      const aimAtBuild = run % 3 === 1;
      const kill = aimAtBuild ? { afterBuildStartsMs: Math.floor(random() * build * 0.6), watched: base } : { afterStartMs: Math.floor(random() * window * 1.2) };
      const result = await create(built.root, dir, run % 2 === 1, kill);
      if (result.signal === 'SIGKILL') {
        killed += 1;
        // A work directory of this run (an earlier killed run's may still be there) shows the build was under way.
        if ((await readdir(base)).some((n) => n.startsWith('.tmp-') && !before.has(n))) midBuild += 1;
      } else {
        expect(result.code, result.stderr).toBe(0);
        window = Date.now() - started;
      }
      // Every published generation is complete, except a damaged one we made ourselves.
      const published = await generations();
      let complete = 0;
      for (const name of published) {
        const verdict = await judgeVolume(join(base, name), built);
        if (verdict.state === 'complete') {
          complete += 1;
          continue;
        }
        expect(damaged.has(name), `run ${run} (seed ${SEED}): ${name} ${JSON.stringify(verdict)}`).toBe(true);
        expect(verdict, `run ${run} (seed ${SEED}): ${name}`).toEqual({ state: 'incomplete', problems: [DAMAGE] });
      }
      if (result.signal !== 'SIGKILL') expect(await judgeVolume(join(base, published[0]!), built), `run ${run} (seed ${SEED})`).toMatchObject({ state: 'complete' });
      else if (complete === 0) killedBeforePublish += 1;
    }
    console.log(`${killed} killed, ${midBuild} mid-build, ${killedBeforePublish} before a generation was published, window ${window} ms, build ${build} ms`);
    expect(killed, `seed ${SEED}`).toBeGreaterThan(0);
    expect(midBuild, `no kill landed mid-build (seed ${SEED})`).toBeGreaterThan(0);
    expect(killedBeforePublish, `no kill landed before publishing (seed ${SEED})`).toBeGreaterThan(0);

    const last = await create(built.root, dir, false, null);
    expect(last.code, last.stderr).toBe(0);
    // One generation is left, complete: older ones are pruned, nothing is mounted.
    const left = await generations();
    expect(left).toHaveLength(1);
    // (It may be a copied generation an earlier run completed: the last run reuses a complete one.)
    const final = await judgeVolume(join(base, left[0]!), built);
    expect(final.state === 'complete' && final.linked + final.copied).toBe(files);
    expect((await readdir(base)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
