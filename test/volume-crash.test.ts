// Crash safety of `nvidia-volume create`: the real CLI as a child process, killed with SIGKILL
// at random moments (30 runs, alternating hard links and copies, some starting from a damaged
// volume, which is rebuilt as a new generation beside it). After every kill each published
// generation is complete (or the one we damaged); the next run always completes, prunes the
// older generations and leaves no work directory behind.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyVolume } from '../src/node/volume-manifest.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'bin/nvidia-volume.js');
const RUNS = 30;

function create(root: string, dir: string, copy: boolean, killAfterMs: number | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cli, 'create', '--root', root, '--dir', dir, ...(copy ? ['--copy'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
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

  it(`leaves the final name absent or complete across ${RUNS} kills, and the next run completes`, async () => {
    const dir = join(work, 'volumes');
    const final = join(dir, 'nvidia_driver', built.version);

    // One undisturbed run of each kind gives the expected content and the time window to aim at.
    let window = 0;
    let expectedFiles = 0;
    for (const copy of [false, true]) {
      const started = Date.now();
      const full = await create(built.root, dir, copy, null);
      expect(full.code, full.stderr).toBe(0);
      window = Math.max(window, Date.now() - started);
      const verdict = await verifyVolume(final, built.version);
      if (!verdict.complete) throw new Error(verdict.reason);
      expectedFiles = verdict.manifest.files.length;
      await rm(final, { recursive: true });
    }

    let killed = 0;
    let sawAbsent = 0;
    let sawComplete = 0;
    let midBuild = 0; // kills that left a work directory: the build was under way
    const base = join(dir, 'nvidia_driver');
    /** The published generations (`VERSION`, `VERSION-N`), newest first. */
    const generations = async (): Promise<string[]> =>
      (await readdir(base)).filter((n) => n === built.version || n.startsWith(`${built.version}-`)).sort((a, b) => b.length - a.length || b.localeCompare(a));
    for (let run = 0; run < RUNS; run++) {
      const current = (await generations())[0];
      if (current !== undefined && (await verifyVolume(join(base, current), built.version)).complete) {
        // Make the next run work: remove the volume, or damage it so a new generation is built beside it.
        if (run % 3 === 0) await rm(join(base, current, 'lib64', 'libcuda.so.1'));
        else await rm(join(base, current), { recursive: true });
      }
      const result = await create(built.root, dir, run % 2 === 1, Math.floor(Math.random() * window * 1.2));
      if (result.signal === 'SIGKILL') killed += 1;
      else expect(result.code, result.stderr).toBe(0);

      if (result.signal === 'SIGKILL' && (await readdir(base)).some((n) => n.startsWith('.tmp-'))) midBuild += 1;
      // Every published generation is complete, except a damaged one we made ourselves.
      const published = await generations();
      let complete = 0;
      for (const name of published) {
        const verdict = await verifyVolume(join(base, name), built.version);
        if (verdict.complete) {
          expect(verdict.manifest.files).toHaveLength(expectedFiles);
          complete += 1;
        } else {
          expect(verdict.reason).toMatch(/libcuda\.so\.1 is missing|link .* is missing/);
        }
      }
      if (complete > 0) sawComplete += 1;
      else sawAbsent += 1;
    }
    console.log(`${killed} killed, ${midBuild} mid-build, window ${window} ms, ${sawAbsent} absent / ${sawComplete} complete after`);
    expect(killed).toBeGreaterThan(0);
    expect(sawAbsent + sawComplete).toBe(RUNS);

    const last = await create(built.root, dir, false, null);
    expect(last.code, last.stderr).toBe(0);
    // One generation is left, complete: older ones are pruned, nothing is mounted.
    const left = await generations();
    expect(left).toHaveLength(1);
    expect((await verifyVolume(join(base, left[0]!), built.version)).complete).toBe(true);
    expect((await readdir(base)).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
