// nvidia-docker's argv handling: where the driver arguments go for every shape of docker
// command line, GPU selection (NV_GPU), and the wrapper process itself (built bin) run with
// NV_DOCKER pointing at a recording script: argv order, environment, exit codes and signals.
// The real-engine behaviour is in docker-engine.test.ts.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    // After `--` docker takes every word for the image and its command: the options go before it.
    [['run', '--', 'img', '--rm'], ['run', '<INJECTED>', '--', 'img', '--rm']],
    [['run', '--rm', '-e', 'A=1', '--', 'img'], ['run', '--rm', '-e', 'A=1', '<INJECTED>', '--', 'img']],
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
    discovery = discoverDriver({ root: built.root });
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
    const prefix = built.gpus[2]!.uuid.slice(0, 20);
    expect(() => selectGpus(gpus, prefix)).toThrow(`NV_GPU: '${prefix}' matches 3 GPUs (0, 1, 2); give more of the UUID`);
    const valid = `valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void`;
    expect(() => selectGpus(gpus, '3')).toThrow(`NV_GPU: unknown GPU '3' (${valid})`);
    expect(() => selectGpus(gpus, 'GPU-ffff')).toThrow(`NV_GPU: unknown GPU 'GPU-ffff' (${valid})`);
    expect(() => selectGpus(gpus, 'nvidia0')).toThrow(`NV_GPU: unknown GPU 'nvidia0'`);
    expect(() => selectGpus(gpus, '-1')).toThrow(`NV_GPU: unknown GPU '-1'`);
    expect(() => selectGpus(gpus, 'MIG-0a1b')).toThrow(`NV_GPU: 'MIG-0a1b' is a MIG device, which is not supported`);
    // The words, upper case UUIDs, and bus ids with or without the domain (nvidia-smi prints 8 digits).
    expect(selectGpus(gpus, 'all')).toEqual(gpus);
    expect(selectGpus(gpus, 'none')).toEqual([]);
    expect(selectGpus(gpus, built.gpus[1]!.uuid.toUpperCase())).toEqual([gpus[1]]);
    expect(selectGpus(gpus, `0000${built.gpus[2]!.busId.toUpperCase()}`)).toEqual([gpus[2]]);
    expect(selectGpus(gpus, built.gpus[0]!.busId.slice(built.gpus[0]!.busId.indexOf(':') + 1))).toEqual([gpus[0]]);
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
    // Records its argv and DOCKER_HOST, then ends as $END says (exit code or a signal). Asked for
    // an image's Env (`image inspect`), it answers $IMAGE_ENV (JSON; default null: no Env) and
    // appends that argv to $INSPECT_LOG.
    fakeDocker = join(work, 'docker-recorder');
    await writeFile(
      fakeDocker,
      '#!/bin/sh\ncase " $* " in *" image inspect "*) [ -n "$INSPECT_LOG" ] && echo "$*" >> "$INSPECT_LOG"; echo "${IMAGE_ENV:-null}"; exit 0;; esac\n' +
        'for a in "$@"; do printf "%s\\n" "$a"; done\necho "DOCKER_HOST=$DOCKER_HOST"\n' +
        'case "$END" in sig*) kill -${END#sig} $$;; *) exit ${END:-0};; esac\n',
    );
    await chmod(fakeDocker, 0o755);
  });
  afterAll(async () => {
    await built?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const wrapper = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    // Run as users run it: through its shebang (which ends node's own options).
    runCommand(nvidiaDocker, args, { env: { ...process.env, NV_DOCKER: fakeDocker, DOCKER_HOST: 'unix:///x.sock', ...env } });

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
    const valid = `valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void`;
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([1, '', `nvidia-docker: NV_GPU: unknown GPU '5' (${valid})\n`]);
    const empty = await mkdtemp(join(work, 'empty-root-'));
    const none = await wrapper(['--root', empty, 'create', 'img']);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(none.stderr).toContain(empty);
  });

  /** The --device values docker received, and whether the volume was passed. */
  const injected = (stdout: string): { devices: string[]; volume: boolean; argv: string[] } => {
    const argv = stdout.trim().split('\n').slice(0, -1); // the last line is DOCKER_HOST
    return {
      devices: argv.filter((a) => a.startsWith('--device=')).map((a) => a.slice('--device='.length).split(':')[1]!),
      volume: argv.includes(`--volume=nvidia_driver_${built.version}:/usr/local/nvidia:ro`),
      argv,
    };
  };
  const control = () => (built.devicesCreated ? ['/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidia-modeset'] : []);
  const gpuNode = (i: number) => `/dev/nvidia${built.gpus[i]!.minor}`;

  /** [what, environment, run options, the device nodes passed or 'unchanged' (docker's argv untouched)]. */
  type SelectionCase = [string, NodeJS.ProcessEnv, string[], string[] | 'unchanged'];
  const expectSelections = async (cases: SelectionCase[]): Promise<void> => {
    for (const [what, env, runOptions, expected] of cases) {
      const argv = ['run', '--rm', ...runOptions, 'img', 'true'];
      const result = await wrapper(['--root', built.root, ...argv], { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined, ...env });
      expect([what, result.code, result.stderr]).toEqual([what, 0, '']);
      const got = injected(result.stdout);
      if (expected === 'unchanged') expect([what, got.argv]).toEqual([what, argv]);
      else expect([what, got.devices, got.volume]).toEqual([what, expected, true]);
    }
  };

  it('selects GPUs as NV_GPU and NVIDIA_VISIBLE_DEVICES are typed: all, none, void, empty, lists, -e', async () => {
    const all = [...control(), ...built.gpus.map((_, i) => gpuNode(i))];
    const cases: SelectionCase[] = [
      ['nothing set', {}, [], all],
      ['NV_GPU=all', { NV_GPU: 'all' }, [], all],
      ['NV_GPU=1', { NV_GPU: '1' }, [], [...control(), gpuNode(1)]],
      ['NVIDIA_VISIBLE_DEVICES=all', { NVIDIA_VISIBLE_DEVICES: 'all' }, [], all],
      ['NVIDIA_VISIBLE_DEVICES=none: the driver, no GPU', { NVIDIA_VISIBLE_DEVICES: 'none' }, [], control()],
      ['NVIDIA_VISIBLE_DEVICES=void: nothing', { NVIDIA_VISIBLE_DEVICES: 'void' }, [], 'unchanged'],
      ['NVIDIA_VISIBLE_DEVICES empty: nothing, as the runtime', { NVIDIA_VISIBLE_DEVICES: '' }, [], 'unchanged'],
      ['NVIDIA_VISIBLE_DEVICES=" 1 , UUID"', { NVIDIA_VISIBLE_DEVICES: ` 1 , ${built.gpus[0]!.uuid}` }, [], [...control(), gpuNode(1), gpuNode(0)]],
      ['-e NVIDIA_VISIBLE_DEVICES=1 on the command line', {}, ['-e', 'NVIDIA_VISIBLE_DEVICES=1'], [...control(), gpuNode(1)]],
      ['--env=NVIDIA_VISIBLE_DEVICES=void beats the environment', { NVIDIA_VISIBLE_DEVICES: '0' }, ['--env=NVIDIA_VISIBLE_DEVICES=void'], 'unchanged'],
      ['-e NVIDIA_VISIBLE_DEVICES passes the environment\'s', { NVIDIA_VISIBLE_DEVICES: 'none' }, ['-e', 'NVIDIA_VISIBLE_DEVICES'], control()],
      ['NV_GPU beats -e', { NV_GPU: '0' }, ['-e', 'NVIDIA_VISIBLE_DEVICES=1'], [...control(), gpuNode(0)]],
    ];
    await expectSelections(cases);
  });

  it('reads --env-file as docker does (-e wins), and the image\'s own ENV last, asking the same engine', async () => {
    const all = [...control(), ...built.gpus.map((_, i) => gpuNode(i))];
    const file = (name: string, text: string): string => {
      const path = join(work, name);
      writeFileSync(path, text);
      return path;
    };
    const one = file('one.env', '# GPUs\n\n  NVIDIA_VISIBLE_DEVICES=1\r\nOTHER=x\n');
    const voidFile = file('void.env', '\uFEFFNVIDIA_VISIBLE_DEVICES=void\n');
    const bare = file('bare.env', 'NVIDIA_VISIBLE_DEVICES\n');
    const image1 = JSON.stringify(['PATH=/bin', 'NVIDIA_VISIBLE_DEVICES=1']);
    const cases: SelectionCase[] = [
      ['--env-file', {}, ['--env-file', one], [...control(), gpuNode(1)]],
      ['--env-file=FILE, void: nothing', {}, [`--env-file=${voidFile}`], 'unchanged'],
      ['-e after --env-file wins', {}, ['--env-file', one, '-e', 'NVIDIA_VISIBLE_DEVICES=0'], [...control(), gpuNode(0)]],
      ['-e wins even when written before --env-file', {}, ['-e', 'NVIDIA_VISIBLE_DEVICES=0', '--env-file', one], [...control(), gpuNode(0)]],
      ['a bare name in the file passes the environment\'s', { NVIDIA_VISIBLE_DEVICES: 'none' }, ['--env-file', bare], control()],
      ['the image\'s ENV', { IMAGE_ENV: image1 }, [], [...control(), gpuNode(1)]],
      ['the image\'s ENV void: nothing', { IMAGE_ENV: '["NVIDIA_VISIBLE_DEVICES=void"]' }, [], 'unchanged'],
      ['-e beats the image', { IMAGE_ENV: image1 }, ['-e', 'NVIDIA_VISIBLE_DEVICES=0'], [...control(), gpuNode(0)]],
      ['the environment beats the image', { IMAGE_ENV: image1, NVIDIA_VISIBLE_DEVICES: '0' }, [], [...control(), gpuNode(0)]],
      ['NV_GPU beats the image', { IMAGE_ENV: image1, NV_GPU: 'all' }, [], all],
      ['-e NAME, unset here, removes the image\'s value (docker does): every GPU', { IMAGE_ENV: image1 }, ['-e', 'NVIDIA_VISIBLE_DEVICES'], all],
    ];
    await expectSelections(cases);
    // The image is asked of the engine the command names (global options), only when nothing else decided.
    const log = join(work, 'inspect.log');
    await wrapper(['--root', built.root, '-H', 'unix:///y.sock', 'container', 'run', 'img:tag'], { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined, INSPECT_LOG: log });
    await wrapper(['--root', built.root, 'run', '-e', 'NVIDIA_VISIBLE_DEVICES=0', 'img:tag'], { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined, INSPECT_LOG: log });
    expect(readFileSync(log, 'utf8')).toBe('-H unix:///y.sock image inspect --format {{json .Config.Env}} -- img:tag\n');
    // A bad env file is one line naming it; docker is not run.
    const missing = await wrapper(['--root', built.root, 'run', '--env-file', join(work, 'nope.env'), 'img'], { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined });
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([1, '', `nvidia-docker: --env-file ${join(work, 'nope.env')}: no such file\n`]);
    const spaced = file('spaced.env', 'A=1\nMY VAR=2\n');
    const bad = await wrapper(['--root', built.root, 'run', '--env-file', spaced, 'img'], { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined });
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([1, '', `nvidia-docker: --env-file ${spaced}: line 2: variable 'MY VAR' contains white space\n`]);
  });

  it('with void, runs docker unchanged even where there is no driver', async () => {
    const empty = await mkdtemp(join(work, 'void-root-'));
    const result = await wrapper(['--root', empty, 'run', 'img'], { NVIDIA_VISIBLE_DEVICES: 'void', NV_GPU: undefined });
    expect([result.code, result.stdout, result.stderr]).toEqual([0, 'run\nimg\nDOCKER_HOST=unix:///x.sock\n', '']);
    const unknown = await wrapper(['--root', built.root, 'run', '-e', 'NVIDIA_VISIBLE_DEVICES=GPU-0000', 'img'], { NV_GPU: undefined });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`nvidia-docker: NVIDIA_VISIBLE_DEVICES (-e): unknown GPU 'GPU-0000' (valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void)\n`);
  });

  it('puts the driver arguments before a -- that ends the options', async () => {
    const result = await wrapper(['--root', built.root, 'run', '--rm', '--', 'img', '--rm']);
    const argv = injected(result.stdout).argv;
    expect(argv.slice(-3)).toEqual(['--', 'img', '--rm']);
    expect(argv[argv.length - 4]).toBe(`--volume=nvidia_driver_${built.version}:/usr/local/nvidia:ro`);
    expect(argv.indexOf('--')).toBe(argv.length - 3);
  });
});

describeNeeding('nvidia-volume docker-args GPU selection', !distBuilt && 'dist/ is not built (npm run build)', () => {
  let built: DriverRoot;
  beforeAll(async () => {
    built = await buildDriverRoot({ i386: false, binaries: false, firmware: false });
  });
  afterAll(() => built?.cleanup());
  const cli = (env: NodeJS.ProcessEnv, root = built.root) =>
    runCommand(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'docker-args', '--root', root, '--json'], { env: { ...process.env, NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined, ...env } });

  it('reads NV_GPU and NVIDIA_VISIBLE_DEVICES as nvidia-docker does', async () => {
    const devices = async (env: NodeJS.ProcessEnv) => (JSON.parse((await cli(env)).stdout) as { Devices: string[] }).Devices.map((d) => d.split(':')[1]);
    const gpuNodes = built.gpus.map((g) => `/dev/nvidia${g.minor}`);
    expect((await devices({ NV_GPU: 'all' })).filter((d) => gpuNodes.includes(d!))).toEqual(gpuNodes);
    expect((await devices({ NVIDIA_VISIBLE_DEVICES: 'none' })).filter((d) => gpuNodes.includes(d!))).toEqual([]);
    expect((await devices({ NVIDIA_VISIBLE_DEVICES: built.gpus[1]!.busId })).filter((d) => gpuNodes.includes(d!))).toEqual([gpuNodes[1]]);
    const empty = await mkdtemp(join(tmpdir(), 'docker-args-void-'));
    try {
      expect(await cli({ NVIDIA_VISIBLE_DEVICES: 'void' }, empty)).toEqual({ code: 0, stdout: '{"VolumeDriver":"","Volumes":[],"Devices":[]}\n', stderr: '' });
      const text = await runCommand(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'docker-args', '--root', empty], { env: { ...process.env, NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: '' } });
      expect(text).toEqual({ code: 0, stdout: '\n', stderr: '' });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const unknown = await cli({ NV_GPU: '9' });
    expect([unknown.code, unknown.stderr]).toEqual([1, `nvidia-volume: NV_GPU: unknown GPU '9' (valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void)\n`]);
  });
});
