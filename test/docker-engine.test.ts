// The plugin and the wrapper against a real Docker engine (a private dockerd, see
// helpers/dockerd.ts): volume create/inspect/ls/rm through the plugin, a container that sees the
// driver volume read-only, nvidia-docker passing device nodes (NV_GPU included), a plugin
// restart that keeps the volume, and docker commands passed through untouched.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { parseEnvFile } from '../src/node/container-env.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPluginProcess } from './helpers/plugin-process.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { dockerdSkipReason, IMAGE, runCommand, startDockerd, type PrivateDockerd } from './helpers/dockerd.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const nvidiaVolume = join(repo, 'bin/nvidia-volume.js');
const nvidiaDocker = join(repo, 'bin/nvidia-docker.js');
const pluginName = `nvidia-docker-test-${process.pid}`;
const pluginSocket = `/run/docker/plugins/${pluginName}.sock`;

const skipReason = (await dockerdSkipReason()) ?? (existsSync(join(repo, 'dist/cli/nvidia-docker.js')) ? undefined : 'dist/ is not built (npm run build)');

describeNeeding('with a real Docker engine', skipReason, () => {
  let dockerd: PrivateDockerd;
  let built: DriverRoot;
  let work: string;
  let dir: string;
  let plugin: ChildProcess | null = null;
  let pluginLog = (): string => '';
  const volume = (): string => `nvidia_driver_${built.version}`;

  async function startPlugin(): Promise<void> {
    const started = await startPluginProcess(nvidiaVolume, ['--name', pluginName, '--root', built.root, '--dir', dir, '--verbose']);
    plugin = started.child;
    pluginLog = started.log;
  }

  async function stopPlugin(): Promise<number | null> {
    const child = plugin;
    plugin = null;
    if (child === null || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
  }

  // Run through its shebang, as users run it (it ends node's own options: `run --env-file` reaches the wrapper).
  const wrapper = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCommand(nvidiaDocker, ['--root', built.root, '--plugin-name', pluginName, ...args], { env: { ...dockerd.env, ...env } });

  beforeAll(async () => {
    [built, dockerd] = await Promise.all([buildDriverRoot({ i386: false }), startDockerd()]);
    work = await mkdtemp(join(tmpdir(), 'docker-engine-test-'));
    dir = join(work, 'volumes');
    await startPlugin();
  });

  afterAll(async () => {
    await stopPlugin();
    await dockerd?.stop();
    await rm(pluginSocket, { force: true });
    await built?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('creates, inspects and lists the driver volume through the plugin', async () => {
    const created = await dockerd.docker(['volume', 'create', '-d', pluginName, volume()]);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe(volume());
    const inspect = JSON.parse((await dockerd.docker(['volume', 'inspect', volume()])).stdout) as Array<Record<string, unknown>>;
    expect(inspect[0]).toMatchObject({ Name: volume(), Driver: pluginName, Mountpoint: join(dir, 'nvidia_driver', built.version), Scope: 'local' });
    const ls = await dockerd.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    expect(ls.stdout.split('\n')).toContain(`${pluginName} ${volume()}`);

    const wrong = await dockerd.docker(['volume', 'create', '-d', pluginName, 'nvidia_driver_1.0']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('invalid volume version: nvidia_driver_1.0');
  });

  it('mounts the volume read-only with the libraries and binaries', async () => {
    const listing = await dockerd.docker(['run', '--rm', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'ls', '-R', '/usr/local/nvidia']);
    expect(listing.stderr).toBe('');
    for (const lib of built.libraries) expect(listing.stdout).toContain(lib.name);
    expect(listing.stdout).toMatch(/^libcuda\.so\.1$/m);
    expect(listing.stdout).toMatch(/^nvidia-smi$/m);
    const smi = await dockerd.docker(['run', '--rm', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'cat', '/usr/local/nvidia/bin/nvidia-smi']);
    expect(smi.stdout).toBe(await readFile(join(built.root, built.binaries.find((b) => b.name === 'nvidia-smi')!.path), 'utf8'));
    const write = await dockerd.docker(['run', '--rm', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'sh', '-c', 'echo x > /usr/local/nvidia/x']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('Read-only file system');
    // Every Mount was matched by its Unmount.
    const state = JSON.parse(await readFile(join(dir, `.plugin-${pluginName}.mounts.json`), 'utf8')) as { mounts: object };
    expect(state.mounts).toEqual({});
    expect(pluginLog()).toMatch(/VolumeDriver\.Mount .*"ID":"[0-9a-f]{64}"/);
  });

  it('records a running container mount, so nvidia-volume remove refuses the volume until it stops', async () => {
    const started = await dockerd.docker(['run', '-d', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'sleep', '60']);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    try {
      const state = JSON.parse(await readFile(join(dir, `.plugin-${pluginName}.mounts.json`), 'utf8')) as { mounts: Record<string, object> };
      expect(Object.keys(state.mounts[volume()] ?? {})).toHaveLength(1);
      const refused = await runCommand(process.execPath, [nvidiaVolume, 'remove', '--dir', dir, volume()]);
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('is mounted (1 mount recorded by the plugin)')]);
    } finally {
      await dockerd.docker(['rm', '-f', id]);
    }
    const after = JSON.parse(await readFile(join(dir, `.plugin-${pluginName}.mounts.json`), 'utf8')) as { mounts: object };
    expect(after.mounts).toEqual({});
    expect(existsSync(join(dir, 'nvidia_driver', built.version))).toBe(true);
  });

  it('keeps a running container\'s driver files when a driver file changes and another container mounts the volume', async () => {
    const smi = join(built.root, built.binaries.find((b) => b.name === 'nvidia-smi')!.path);
    const original = await stat(smi);
    const content = await readFile(smi, 'utf8');
    const base = join(dir, 'nvidia_driver');
    const started = await dockerd.docker(['run', '-d', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'sleep', '60']);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    try {
      await utimes(smi, original.atime, new Date(original.mtimeMs + 60_000)); // a reinstall of the same version
      const second = await dockerd.docker(['run', '--rm', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'cat', '/usr/local/nvidia/bin/nvidia-smi']);
      expect([second.code, second.stdout]).toEqual([0, content]);
      // The first container still has every file it mounted; both generations are on disk.
      const still = await dockerd.docker(['exec', id, 'sh', '-c', 'ls /usr/local/nvidia/lib64; cat /usr/local/nvidia/bin/nvidia-smi']);
      expect(still.code, still.stderr).toBe(0);
      for (const lib of built.libraries) expect(still.stdout).toContain(lib.name);
      expect(still.stdout.endsWith(content)).toBe(true);
      expect((await readdir(base)).sort()).toEqual([built.version, `${built.version}-2`]);
    } finally {
      await dockerd.docker(['rm', '-f', id]);
      await utimes(smi, original.atime, original.mtime);
    }
    // Its Unmount released the old generation: only the current one is left.
    expect(await readdir(base)).toEqual([`${built.version}-2`]);
  });

  it('nvidia-docker run passes the device nodes and the volume; NV_GPU selects GPUs', async () => {
    const script = 'ls /dev; ls /usr/local/nvidia/lib64/libcuda.so.1';
    const all = await wrapper(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', script]);
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    const nodes = all.stdout.split('\n').filter((l) => l.startsWith('nvidia'));
    expect(nodes.sort()).toEqual(['nvidia-modeset', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidiactl', ...built.gpus.map((g) => `nvidia${g.minor}`)].sort());
    expect(all.stdout).toContain('/usr/local/nvidia/lib64/libcuda.so.1');

    const second = built.gpus[1]!;
    const one = await wrapper(['run', '--rm', '--network', 'none', IMAGE, 'ls', '/dev'], { NV_GPU: '1' });
    expect(one.stdout.split('\n').filter((l) => /^nvidia[0-9]+$/.test(l))).toEqual([`nvidia${second.minor}`]);
    const byUuid = await wrapper(['container', 'run', '--rm', '--network=none', IMAGE, 'ls', '/dev'], { NV_GPU: built.gpus[0]!.uuid });
    expect(byUuid.stdout.split('\n').filter((l) => /^nvidia[0-9]+$/.test(l))).toEqual([`nvidia${built.gpus[0]!.minor}`]);

    // As nvidia-container-runtime reads it: -e in the command; none = the driver without GPUs.
    // And after `--` (the options go before it: docker would take them for the image).
    const fromEnv = await wrapper(['run', '--rm', '-e', 'NVIDIA_VISIBLE_DEVICES=1', '--network', 'none', '--', IMAGE, 'ls', '/dev']);
    expect([fromEnv.code, fromEnv.stdout.split('\n').filter((l) => /^nvidia[0-9]+$/.test(l))]).toEqual([0, [`nvidia${second.minor}`]]);
    const none = await wrapper(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', script], { NVIDIA_VISIBLE_DEVICES: 'none' });
    expect(none.code).toBe(0);
    expect(none.stdout.split('\n').filter((l) => l.startsWith('nvidia')).sort()).toEqual(['nvidia-modeset', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidiactl']);
    expect(none.stdout).toContain('/usr/local/nvidia/lib64/libcuda.so.1');

    const invalid = await wrapper(['run', '--rm', IMAGE, 'true'], { NV_GPU: '0,7' });
    expect([invalid.code, invalid.stderr.trim()]).toEqual([1, `nvidia-docker: NV_GPU: unknown GPU '7' (valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void)`]);
  });

  it('reads an env file as docker does, and the image\'s own ENV NVIDIA_VISIBLE_DEVICES as the runtime would', async () => {
    // The env-file reader against docker's own: the environment docker gives the container.
    const envFile = join(work, 'tricky.env');
    await writeFile(envFile, '\uFEFFFIRST=1\n# a comment\n\n   INDENTED=two words \r\nEQUALS=a=b=c\nPASSED\nNOT_HERE\nEMPTY=\n');
    const callerEnv = { ...dockerd.env, PASSED: 'from the caller' };
    const seen = await runCommand('docker', ['run', '--rm', '--network', 'none', '--env-file', envFile, IMAGE, 'env'], { env: callerEnv });
    expect(seen.code, seen.stderr).toBe(0);
    const names = ['FIRST', 'INDENTED', 'EQUALS', 'PASSED', 'NOT_HERE', 'EMPTY'];
    const fromDocker = seen.stdout.split('\n').filter((line) => names.includes(line.split('=')[0]!));
    expect(parseEnvFile(await readFile(envFile, 'utf8'), envFile, callerEnv)).toEqual(fromDocker);
    expect(fromDocker).toContain('PASSED=from the caller');

    // An image whose ENV selects GPU 1, as CUDA images set NVIDIA_VISIBLE_DEVICES.
    const base = await dockerd.docker(['create', IMAGE, 'true']);
    expect(base.code, base.stderr).toBe(0);
    const committed = await dockerd.docker(['commit', '--change', 'ENV NVIDIA_VISIBLE_DEVICES=1', base.stdout.trim(), 'nvidia-env-test:1']);
    expect(committed.code, committed.stderr).toBe(0);
    await dockerd.docker(['rm', base.stdout.trim()]);
    const gpus = (stdout: string): string[] => stdout.split('\n').filter((l) => /^nvidia[0-9]+$/.test(l)).sort();
    const clean = { NV_GPU: undefined, NVIDIA_VISIBLE_DEVICES: undefined };
    const fromImage = await wrapper(['run', '--rm', '--network', 'none', 'nvidia-env-test:1', 'ls', '/dev'], clean);
    expect([fromImage.code, fromImage.stderr, gpus(fromImage.stdout)]).toEqual([0, '', [`nvidia${built.gpus[1]!.minor}`]]);
    await writeFile(join(work, 'gpu0.env'), 'NVIDIA_VISIBLE_DEVICES=0\n');
    const fromFile = await wrapper(['run', '--rm', '--network', 'none', '--env-file', join(work, 'gpu0.env'), 'nvidia-env-test:1', 'ls', '/dev'], clean);
    expect([fromFile.code, fromFile.stderr, gpus(fromFile.stdout)]).toEqual([0, '', [`nvidia${built.gpus[0]!.minor}`]]);
    // `-e NAME` with NAME unset removes the image's value in docker: the wrapper then passes every GPU.
    const removed = await wrapper(['run', '--rm', '--network', 'none', '-e', 'NVIDIA_VISIBLE_DEVICES', 'nvidia-env-test:1', 'sh', '-c', 'env; ls /dev'], clean);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).not.toContain('NVIDIA_VISIBLE_DEVICES=');
    expect(gpus(removed.stdout)).toEqual(built.gpus.map((g) => `nvidia${g.minor}`).sort());
    await dockerd.docker(['rmi', 'nvidia-env-test:1']);
  });

  it('passes other commands through and ends with docker exit code', async () => {
    const version = await wrapper(['version', '--format', '{{.Server.APIVersion}}']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^1\.\d+$/);
    const exit3 = await wrapper(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'exit 3']);
    expect(exit3.code).toBe(3);
    const missing = await runCommand(process.execPath, [nvidiaDocker, 'ps'], { env: { ...dockerd.env, NV_DOCKER: 'no-such-docker-here' } });
    expect([missing.code, missing.stderr]).toEqual([127, 'nvidia-docker: no-such-docker-here: command not found (set NV_DOCKER to the docker command)\n']);
  });

  it('keeps the volume across a plugin restart, then removes it', async () => {
    expect(await stopPlugin()).toBe(0);
    expect(existsSync(pluginSocket)).toBe(false);
    await startPlugin();
    const inspect = await dockerd.docker(['volume', 'inspect', '--format', '{{.Driver}}', volume()]);
    expect(inspect.stdout.trim()).toBe(pluginName);
    const run = await dockerd.docker(['run', '--rm', '--network', 'none', '-v', `${volume()}:/usr/local/nvidia:ro`, IMAGE, 'ls', '/usr/local/nvidia/bin']);
    expect(run.stdout).toContain('nvidia-smi');

    const removed = await dockerd.docker(['volume', 'rm', volume()]);
    expect(removed.code).toBe(0);
    expect(existsSync(join(dir, 'nvidia_driver', built.version))).toBe(false);
    // This plugin's volumes only: dockerd also lists legacy plugins of other test files that
    // share /run/docker/plugins (image-check serves the same driver version).
    const left = await dockerd.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
    expect(left.code).toBe(0);
    expect(left.stdout.split('\n')).not.toContain(`${pluginName} ${volume()}`);
  });
});
