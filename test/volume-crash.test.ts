// Crash safety of `nvidia-volume create`: the real CLI as a child process, killed with SIGKILL
// at random moments (30 runs, alternating hard links and copies, some starting from a damaged
// volume that must be moved aside). After every kill the final name is either absent or a
// complete volume; the next run always completes and leaves no work directory behind.
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
    for (let run = 0; run < RUNS; run++) {
      const before = await verifyVolume(final, built.version);
      if (before.complete) {
        // Make the next run work: remove the volume, or damage it so it must be moved aside.
        if (run % 3 === 0) await rm(join(final, 'lib64', 'libcuda.so.1'));
        else await rm(final, { recursive: true });
      }
      const result = await create(built.root, dir, run % 2 === 1, Math.floor(Math.random() * window * 1.2));
      if (result.signal === 'SIGKILL') killed += 1;
      else expect(result.code, result.stderr).toBe(0);

      if (result.signal === 'SIGKILL' && (await readdir(join(dir, 'nvidia_driver'))).some((n) => n.startsWith('.tmp-'))) midBuild += 1;
      const after = await verifyVolume(final, built.version);
      if (after.complete) {
        expect(after.manifest.files).toHaveLength(expectedFiles);
        sawComplete += 1;
      } else {
        // A damaged volume we made ourselves may still sit there if the kill came before the
        // rename; anything else under the final name must be absent.
        if (after.reason !== 'absent') expect(after.reason).toMatch(/libcuda\.so\.1 is missing|link .* is missing/);
        sawAbsent += 1;
      }
    }
    console.log(`${killed} killed, ${midBuild} mid-build, window ${window} ms, ${sawAbsent} absent / ${sawComplete} complete after`);
    expect(killed).toBeGreaterThan(0);
    expect(sawAbsent + sawComplete).toBe(RUNS);

    const last = await create(built.root, dir, false, null);
    expect(last.code, last.stderr).toBe(0);
    const verdict = await verifyVolume(final, built.version);
    expect(verdict.complete).toBe(true);
    expect(await readdir(join(dir, 'nvidia_driver'))).toEqual([built.version]);
  });
});
