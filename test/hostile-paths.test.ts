// Special files and impossible paths, given to the built CLIs as real processes under a time
// limit: each run must end quickly with exit 1 (or 2) and one clean line naming the file; a hang
// is killed and fails the test. Directories under /proc/self/ are paths the kernel refuses with
// ENOENT although the parent exists (Node's recursive mkdir spins forever on them).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const volumeCli = join(repo, 'bin', 'nvidia-volume.js');
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
    expectCleanFailure(run, 'nvidia-volume', `${join(scratch, 'file')} is not a directory`);
    expect(existsSync(join(scratch, 'file', 'sub'))).toBe(false);
  });
});
