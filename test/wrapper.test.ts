// nvidia-docker's argv handling: where the driver arguments go for every shape of docker
// command line, GPU selection (NV_GPU), and the wrapper process itself (built bin) run with
// NV_DOCKER pointing at a recording script: argv order, environment, exit codes and signals.
// The real-engine behaviour is in docker-engine.test.ts.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDriver } from '../src/node/discover.js';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { driverInjection, findImage, injectBeforeImage, injectionArgs, selectableGpus, selectGpus } from '../src/node/docker-args.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { runCommand } from './helpers/dockerd.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const nvidiaDocker = join(repo, 'bin/nvidia-docker.js');
const distBuilt = existsSync(join(repo, 'dist/cli/nvidia-docker.js'));
const I = ['<INJECTED>'];

describe('findImage / injectBeforeImage', () => {
  const cases: Array<[string[], string[] | null]> = [
    [['run', 'ubuntu'], ['run', '<INJECTED>', 'ubuntu']],
    [['run', '--rm', '-it', 'ubuntu', 'bash'], ['run', '--rm', '-it', '<INJECTED>', 'ubuntu', 'bash']],
    [['create', '-e', 'A=1', '--name', 'x', 'img:1', '-e', 'not-an-option'], ['create', '-e', 'A=1', '--name', 'x', '<INJECTED>', 'img:1', '-e', 'not-an-option']],
    [['run', '--env=A=1', '--network=none', '-v', '/a:/b', 'img'], ['run', '--env=A=1', '--network=none', '-v', '/a:/b', '<INJECTED>', 'img']],
    [['run', '-itv', '/a:/b', 'img'], ['run', '-itv', '/a:/b', '<INJECTED>', 'img']],
    [['run', '-p80:80', '-d', 'img'], ['run', '-p80:80', '-d', '<INJECTED>', 'img']],
    [['run', '--sig-proxy=false', '--init', '--privileged', '-P', 'img'], ['run', '--sig-proxy=false', '--init', '--privileged', '-P', '<INJECTED>', 'img']],
    [['run', '-u', '1000', '-w', '/tmp', '-h', 'host', 'img', 'ls', '-l'], ['run', '-u', '1000', '-w', '/tmp', '-h', 'host', '<INJECTED>', 'img', 'ls', '-l']],
    [['run', '--', 'img', '--rm'], ['run', '--', '<INJECTED>', 'img', '--rm']],
    [['container', 'run', '--rm', 'img'], ['container', 'run', '--rm', '<INJECTED>', 'img']],
    [['container', 'create', 'img'], ['container', 'create', '<INJECTED>', 'img']],
    [['-H', 'tcp://x:2375', '--context', 'c', '--tlsverify', '-D', 'run', 'img'], ['-H', 'tcp://x:2375', '--context', 'c', '--tlsverify', '-D', 'run', '<INJECTED>', 'img']],
    [['--host=unix:///x.sock', '-l', 'debug', 'container', 'run', '-t', 'img'], ['--host=unix:///x.sock', '-l', 'debug', 'container', 'run', '-t', '<INJECTED>', 'img']],
    [['--config', 'run', 'ps'], null], // `run` is --config's value: the command is ps
    [['ps', '-a'], null],
    [['images', 'run'], null],
    [['container', 'ls'], null],
    [['run', '--help'], null],
    [['run'], null],
    [['exec', '-it', 'c', 'run', 'img'], null],
    [[], null],
  ];
  for (const [argv, expected] of cases) {
    it(`docker ${argv.join(' ') || '(nothing)'}`, () => {
      expect(injectBeforeImage(argv, I)).toEqual(expected ?? argv);
      expect(findImage(argv) === null).toBe(expected === null);
    });
  }
});

describe('GPU selection and injected arguments', () => {
  let built: DriverRoot;
  let discovery: DriverDiscovery;
  beforeAll(async () => {
    built = await buildDriverRoot({ i386: false, gpus: 3 });
    discovery = await discoverDriver({ root: built.root });
  });
  afterAll(() => built?.cleanup());

  it('numbers GPUs in bus order and selects by index or UUID prefix, as v1', () => {
    const gpus = selectableGpus(discovery);
    expect(gpus.map((g) => [g.uuid, g.devicePath])).toEqual(built.gpus.map((g) => [g.uuid, `/dev/nvidia${g.minor}`]));
    expect(selectGpus(gpus, undefined)).toEqual(gpus);
    expect(selectGpus(gpus, ' ')).toEqual(gpus);
    expect(selectGpus(gpus, '2, 0')).toEqual([gpus[2], gpus[0]]);
    expect(selectGpus(gpus, `1 ${built.gpus[1]!.uuid}`)).toEqual([gpus[1]]);
    expect(selectGpus(gpus, built.gpus[2]!.uuid)).toEqual([gpus[2]]);
    expect(() => selectGpus(gpus, built.gpus[2]!.uuid.slice(0, 20))).toThrow(`invalid device: ${built.gpus[2]!.uuid.slice(0, 20)} (matches 3 GPUs)`);
    expect(() => selectGpus(gpus, '3')).toThrow('invalid device: 3');
    expect(() => selectGpus(gpus, 'GPU-ffff')).toThrow('invalid device: GPU-ffff');
    expect(() => selectGpus(gpus, 'nvidia0')).toThrow('invalid device: nvidia0');
    expect(() => selectGpus(gpus, '-1')).toThrow('invalid device: -1');
  });

  it('passes control nodes first, then GPUs, each as ROOT/dev/X:/dev/X, then the volume', () => {
    const args = injectionArgs(driverInjection(discovery, { gpus: '1', pluginName: 'p' }));
    const dev = (name: string): string => `--device=${built.root}/dev/${name}:/dev/${name}`;
    const expected = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset']
      .filter(() => built.devicesCreated)
      .map(dev);
    expected.push(dev(`nvidia${built.gpus[1]!.minor}`));
    expected.push('--volume-driver=p', `--volume=nvidia_driver_${built.version}:/usr/local/nvidia:ro`);
    expect(args).toEqual(expected);
  });
});

describeNeeding('the nvidia-docker process', !distBuilt && 'dist/ is not built (npm run build)', () => {
  let built: DriverRoot;
  let work: string;
  let fakeDocker: string;
  beforeAll(async () => {
    built = await buildDriverRoot({ i386: false });
    work = await mkdtemp(join(tmpdir(), 'wrapper-test-'));
    // Records its argv and DOCKER_HOST, then ends as $END says (exit code or a signal).
    fakeDocker = join(work, 'docker-recorder');
    await writeFile(
      fakeDocker,
      '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\necho "DOCKER_HOST=$DOCKER_HOST"\n' +
        'case "$END" in sig*) kill -${END#sig} $$;; *) exit ${END:-0};; esac\n',
    );
    await chmod(fakeDocker, 0o755);
  });
  afterAll(async () => {
    await built?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const wrapper = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCommand(process.execPath, [nvidiaDocker, ...args], { env: { ...process.env, NV_DOCKER: fakeDocker, DOCKER_HOST: 'unix:///x.sock', ...env } });

  it('inserts the driver arguments before the image and keeps the environment', async () => {
    const result = await wrapper(['--root', built.root, '-H', 'unix:///y.sock', 'run', '--rm', '-e', 'A=b', 'img:tag', 'sh', '-c', 'echo hi']);
    expect(result.stderr).toBe('');
    const argv = result.stdout.trim().split('\n');
    const at = argv.indexOf('img:tag');
    expect(argv.slice(0, 5)).toEqual(['-H', 'unix:///y.sock', 'run', '--rm', '-e']);
    expect(argv[at - 1]).toBe(`--volume=nvidia_driver_${built.version}:/usr/local/nvidia:ro`);
    expect(argv[at - 2]).toBe('--volume-driver=nvidia-docker');
    expect(argv.slice(at)).toEqual(['img:tag', 'sh', '-c', 'echo hi', 'DOCKER_HOST=unix:///x.sock']);
  });

  it('passes other commands through untouched, without discovery', async () => {
    const result = await wrapper(['--root', join(work, 'no-such-root'), 'volume', 'ls', '--format', '{{.Name}}']);
    expect([result.code, result.stdout]).toEqual([0, 'volume\nls\n--format\n{{.Name}}\nDOCKER_HOST=unix:///x.sock\n']);
  });

  it('ends as docker ends: exit code or signal', async () => {
    expect((await wrapper(['ps'], { END: '42' })).code).toBe(42);
    const killed = await new Promise<NodeJS.Signals | null>((resolveSignal) => {
      import('node:child_process').then(({ spawn }) => {
        const child = spawn(process.execPath, [nvidiaDocker, 'ps'], { env: { ...process.env, NV_DOCKER: fakeDocker, END: 'sigTERM' }, stdio: 'ignore' });
        child.once('exit', (_code, signal) => resolveSignal(signal));
      });
    });
    expect(killed).toBe('SIGTERM');
  });

  it('fails with one line for an unknown GPU or a root without a driver, running no docker', async () => {
    const bad = await wrapper(['--root', built.root, 'run', 'img'], { NV_GPU: '5' });
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([1, '', 'nvidia-docker: invalid device: 5\n']);
    const empty = await mkdtemp(join(work, 'empty-root-'));
    const none = await wrapper(['--root', empty, 'create', 'img']);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(none.stderr).toContain(empty);
  });
});
