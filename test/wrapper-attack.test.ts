// nvidia-docker under attack: env files that are no files (a FIFO with no writer, /dev/zero, a
// directory, a file of gigabytes), an engine that never answers `image inspect`, floods it, or
// answers garbage, and an image name that looks like an option. The engine is a fake docker
// script (NV_DOCKER), as in wrapper.test.ts; the wrapper is the built bin, run as users run it.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { runCommand } from './helpers/dockerd.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const nvidiaDocker = join(repo, 'bin/nvidia-docker.js');
const distBuilt = existsSync(join(repo, 'dist/cli/nvidia-docker.js'));

describeNeeding('nvidia-docker attacked', !distBuilt && 'dist/ is not built (npm run build)', () => {
  let built: DriverRoot;
  let work: string;
  let fakeDocker: string;
  beforeAll(async () => {
    built = await buildDriverRoot({ i386: false, binaries: false, firmware: false });
    work = await mkdtemp(join(tmpdir(), 'wrapper-attack-'));
    // `image inspect` answers as $INSPECT says (hang: a shell that waits on a child holding the
    // pipe; flood: endless output; garbage: not JSON; else null), logging its argv to $INSPECT_LOG;
    // any other command prints its argv.
    fakeDocker = join(work, 'docker');
    await writeFile(
      fakeDocker,
      '#!/bin/sh\ncase " $* " in *" image inspect "*)\n  [ -n "$INSPECT_LOG" ] && printf "%s\\n" "$*" >> "$INSPECT_LOG"\n' +
        '  case "$INSPECT" in hang) sleep 60; exit 0;; flood) exec yes \'["A=1",\';; garbage) echo "Error: cannot talk HTTP"; exit 0;; obj) echo \'{"NVIDIA_VISIBLE_DEVICES":"none"}\'; exit 0;; *) echo null; exit 0;; esac;;\nesac\n' +
        'for a in "$@"; do printf "%s\\n" "$a"; done\n',
    );
    await chmod(fakeDocker, 0o755);
  });
  afterAll(async () => {
    await built?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });
  const wrapper = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCommand(nvidiaDocker, ['--root', built.root, ...args], { timeoutMs: 20_000, env: { ...process.env, NV_DOCKER: fakeDocker, NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined, ...env } });

  it('env files that are no regular files are one line, at once: a FIFO no one writes hung it, /dev/zero filled memory', async () => {
    const fifo = join(work, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const r = await wrapper(['run', '--env-file', fifo, 'img']);
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(`nvidia-docker: --env-file ${fifo}: not a regular file (a pipe, FIFO or device: what nvidia-docker read, docker would not find); write the variables to a file, or give -e NVIDIA_VISIBLE_DEVICES=…\n`);
    expect(Date.now() - started).toBeLessThan(15_000);
    const zero = await wrapper(['run', '--env-file', '/dev/zero', 'img']);
    expect([zero.code, zero.stderr]).toEqual([1, `nvidia-docker: --env-file /dev/zero: not a regular file (a pipe, FIFO or device: what nvidia-docker read, docker would not find); write the variables to a file, or give -e NVIDIA_VISIBLE_DEVICES=…\n`]);
    const dir = join(work, 'envdir');
    mkdirSync(dir);
    const d = await wrapper(['run', '--env-file', dir, 'img']);
    expect([d.code, d.stderr]).toEqual([1, `nvidia-docker: --env-file ${dir}: is a directory\n`]);
    // 3 GiB (sparse): read whole, it took 3 GiB before failing as a string too long.
    const huge = join(work, 'huge.env');
    writeFileSync(huge, 'A=1\n');
    truncateSync(huge, 3 * 1024 ** 3);
    const h = await wrapper(['run', '--env-file', huge, 'img']);
    expect([h.code, h.stderr]).toEqual([1, `nvidia-docker: --env-file ${huge}: ${3 * 1024 ** 3} bytes, more than the 16 MiB an env file may have\n`]);
    // -e wins over env files (docker's order): then the FIFO is never opened, and docker gets it untouched.
    const e = await wrapper(['run', '--env-file', fifo, '-e', 'NVIDIA_VISIBLE_DEVICES=void', 'img']);
    expect([e.code, e.stderr, e.stdout]).toEqual([0, '', `run\n--env-file\n${fifo}\n-e\nNVIDIA_VISIBLE_DEVICES=void\nimg\n`]);
  }, 60_000);

  it('an engine that never answers image inspect, floods it or answers garbage: one line, no GPUs guessed', async () => {
    const override = 'set NV_GPU or -e NVIDIA_VISIBLE_DEVICES to choose the GPUs without asking';
    const asked = `'${fakeDocker} image inspect --format {{json .Config.Env}} -- img'`;
    const started = Date.now();
    const hang = await wrapper(['run', 'img'], { INSPECT: 'hang', NV_DOCKER_INSPECT_TIMEOUT: '1' });
    expect([hang.code, hang.stdout, hang.stderr]).toEqual([1, '', `nvidia-docker: ${asked} gave no answer in 1 s (NV_DOCKER_INSPECT_TIMEOUT); ${override}\n`]);
    expect(Date.now() - started).toBeLessThan(15_000); // not the fake's 60 s
    const flood = await wrapper(['run', 'img'], { INSPECT: 'flood' });
    expect([flood.code, flood.stdout, flood.stderr]).toEqual([1, '', `nvidia-docker: ${asked} answered more than 4 MiB; ${override}\n`]);
    const garbage = await wrapper(['run', 'img'], { INSPECT: 'garbage' });
    expect([garbage.code, garbage.stdout, garbage.stderr]).toEqual([1, '', `nvidia-docker: ${asked} answered what is not an environment list ('Error: cannot talk HTTP'); ${override}\n`]);
    // An object is not an Env list either: before, it read as "no Env" and every GPU was given.
    const obj = await wrapper(['run', 'img'], { INSPECT: 'obj' });
    expect([obj.code, obj.stdout]).toEqual([1, '']);
    expect(obj.stderr).toMatch(/answered what is not an environment list \('\{"NVIDIA_VISIBLE_DEVICES":"none"\}'\)/);
    const badTimeout = await wrapper(['run', 'img'], { NV_DOCKER_INSPECT_TIMEOUT: 'soon' });
    expect([badTimeout.code, badTimeout.stderr]).toEqual([1, `nvidia-docker: NV_DOCKER_INSPECT_TIMEOUT must be a number of seconds above 0 (got 'soon')\n`]);
    // NV_GPU decides without asking: the hanging engine is never asked.
    const decided = await wrapper(['run', 'img'], { INSPECT: 'hang', NV_GPU: 'none' });
    expect([decided.code, decided.stderr]).toEqual([0, '']);
    expect(decided.stdout.trim().split('\n').at(-1)).toBe('img');
  }, 60_000);

  it('an image name that looks like an option is never an option of inspect', async () => {
    const log = join(work, 'inspect.log');
    const r = await wrapper(['-H', 'unix:///y.sock', 'run', '--', '--host=tcp://203.0.113.1:2375'], { INSPECT_LOG: log });
    expect(r.code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('-H unix:///y.sock image inspect --format {{json .Config.Env}} -- --host=tcp://203.0.113.1:2375\n');
  }, 30_000);
});
