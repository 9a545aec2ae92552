// The volume plugin over a real unix socket with Node's HTTP client speaking dockerd's wire
// format (POST, JSON + newline, no Content-Type): protocol replies, malformed and hostile
// requests, on-demand builds, 50 parallel Mount/Unmount pairs, state across a restart, stale
// sockets, and v1's REST API on a loopback port.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { DriverVolumePlugin } from '../src/node/plugin-handlers.js';
import { PLUGIN_CONTENT_TYPE, startPluginServer, type PluginServer } from '../src/node/plugin-server.js';
import { startRestApi } from '../src/node/rest-api.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { recordedDiscovery } from './helpers/recorded-discovery.js';
import { runCommand } from './helpers/dockerd.js';
import { tree } from './helpers/fs-tree.js';
import { describeNeeding } from './helpers/requirements.js';
import { judgeVolume } from './helpers/volume-judge.js';

const repo = resolve(import.meta.dirname, '..');

const run = promisify(execFile);

const discoveryOf = (built: DriverRoot): DriverDiscovery => recordedDiscovery(built, { devices: true });

interface Reply {
  status: number;
  type: string | undefined;
  body: Record<string, unknown>;
}

/** One call as dockerd makes it. */
function call(socket: string, method: string, body: string | object = '', httpMethod = 'POST'): Promise<Reply> {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, agent: false, path: method, method: httpMethod, headers: { Accept: 'application/vnd.docker.plugins.v1.2+json', Host: '' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: JSON.parse(raw) as Record<string, unknown> });
          } catch {
            reject(new Error(`not JSON: ${raw}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

let built: DriverRoot;
let work: string;
const name = (): string => `nvidia_driver_${built.version}`;

async function startPlugin(dir: string, socket: string, pluginName = 'test-plugin'): Promise<{ plugin: DriverVolumePlugin; server: PluginServer }> {
  const plugin = await DriverVolumePlugin.open({ name: pluginName, dir, discover: async () => discoveryOf(built) });
  return { plugin, server: await startPluginServer({ socket, plugin }) };
}

beforeAll(async () => {
  built = await buildDriverRoot({ devices: false, ipc: false, i386: false });
  work = await mkdtemp(join(tmpdir(), 'plugin-test-'));
});
afterAll(async () => {
  await built?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('volume plugin protocol', () => {
  let server: PluginServer;
  let socket: string;
  let dir: string;
  beforeAll(async () => {
    dir = join(work, 'proto', 'volumes');
    socket = join(work, 'proto.sock');
    ({ server } = await startPlugin(dir, socket));
  });
  afterAll(() => server?.close());

  it('answers Activate and Capabilities with the plugin content type on a 0600 socket', async () => {
    expect((await lstat(socket)).mode & 0o777).toBe(0o600);
    const activate = await call(socket, '/Plugin.Activate');
    expect(activate).toEqual({ status: 200, type: PLUGIN_CONTENT_TYPE, body: { Implements: ['VolumeDriver'] } });
    expect((await call(socket, '/VolumeDriver.Capabilities', {})).body).toEqual({ Capabilities: { Scope: 'local' } });
  });

  it('creates only the running version, then serves it through Get, List and Path', async () => {
    expect((await call(socket, '/VolumeDriver.Get', { Name: name() })).body).toEqual({ Err: `no such volume: ${name()}` });
    expect((await call(socket, '/VolumeDriver.List', {})).body).toEqual({ Volumes: [], Err: '' });
    const wrong = await call(socket, '/VolumeDriver.Create', { Name: 'nvidia_driver_1.0', Opts: null });
    expect(wrong.body.Err).toMatch(/^invalid volume version: nvidia_driver_1\.0 \(the running driver is /);
    expect((await call(socket, '/VolumeDriver.Create', { Name: name(), Opts: { foo: 'bar' } })).body).toEqual({ Err: '' });

    const mountpoint = join(dir, 'nvidia_driver', built.version);
    const got = (await call(socket, '/VolumeDriver.Get', { Name: name() })).body as { Volume: Record<string, unknown>; Err: string };
    expect(got.Err).toBe('');
    expect(got.Volume.Name).toBe(name());
    expect(got.Volume.Mountpoint).toBe(mountpoint);
    expect(Number.isNaN(Date.parse(got.Volume.CreatedAt as string))).toBe(false);
    expect(await judgeVolume(mountpoint, built)).toMatchObject({ state: 'complete' });
    expect((await call(socket, '/VolumeDriver.List', {})).body).toEqual({ Volumes: [{ Name: name(), Mountpoint: mountpoint }], Err: '' });
    expect((await call(socket, '/VolumeDriver.Path', { Name: name() })).body).toEqual({ Mountpoint: mountpoint, Err: '' });
  });

  it('answers malformed and hostile requests with an Err and writes nothing outside DIR', async () => {
    const parent = join(work, 'proto');
    const before = (await tree(parent)).filter((p) => !p.startsWith(dir));
    const bad: Array<[string, string | object, RegExp]> = [
      ['/VolumeDriver.Create', '{"Name":', /not valid JSON/],
      ['/VolumeDriver.Create', '[1,2]', /not a JSON object/],
      ['/VolumeDriver.Create', {}, /missing Name/],
      ['/VolumeDriver.Mount', { Name: 42, ID: 'x' }, /missing Name/],
      ['/VolumeDriver.Create', { Name: '../x' }, /bad volume format/],
      ['/VolumeDriver.Create', { Name: '/abs' }, /bad volume format/],
      ['/VolumeDriver.Mount', { Name: 'nvidia_driver_1.0/../..', ID: 'x' }, /bad volume format/],
      ['/VolumeDriver.Remove', { Name: `nvidia_driver_${built.version}/../../..` }, /bad volume format/],
      ['/VolumeDriver.Remove', { Name: 'nvidia_driver_../../etc' }, /bad volume format/],
      ['/VolumeDriver.Get', { Name: 'x'.repeat(10_000) }, /bad volume format/],
      ['/VolumeDriver.Nope', {}, /unknown method/],
    ];
    for (const [method, body, expected] of bad) {
      const reply = await call(socket, method, body);
      expect(reply.body.Err, `${method} ${JSON.stringify(body).slice(0, 60)}`).toMatch(expected);
    }
    expect((await call(socket, '/VolumeDriver.Get', '', 'GET')).status).toBe(404);
    expect((await call(socket, '/VolumeDriver.Get', `{"Name":"${'y'.repeat(100_000)}"}`)).status).toBe(413);
    expect((await call(socket, '/Plugin.Activate')).body).toEqual({ Implements: ['VolumeDriver'] }); // still alive
    expect((await tree(parent)).filter((p) => !p.startsWith(dir))).toEqual(before);
  });

  it('counts 50 parallel Mount/Unmount pairs per ID and refuses Remove while mounted', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => i.toString(16).padStart(64, '0'));
    const mounts = await Promise.all(ids.map((ID) => call(socket, '/VolumeDriver.Mount', { Name: name(), ID })));
    const mountpoint = join(dir, 'nvidia_driver', built.version);
    for (const m of mounts) expect(m.body).toEqual({ Mountpoint: mountpoint, Err: '' });
    const stateFile = join(dir, '.plugin-test-plugin.mounts.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { mounts: Record<string, Record<string, number>> };
    expect(Object.keys(state.mounts[name()]!).sort()).toEqual(ids);
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toMatch(/in use \(50 mounts\)/);

    // Unmount of one ID must not release another (docker runs mount twice with distinct IDs).
    await Promise.all(ids.slice(0, 49).map((ID) => call(socket, '/VolumeDriver.Unmount', { Name: name(), ID })));
    expect((await call(socket, '/VolumeDriver.Get', { Name: name() })).body).toMatchObject({ Volume: { Status: { Mounts: 1 } } });
    expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toMatch(/in use \(1 mount\)/);
    await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: ids[49] });
    const after = JSON.parse(await readFile(stateFile, 'utf8')) as { mounts: Record<string, unknown> };
    expect(after.mounts).toEqual({});
    expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body).toEqual({ Err: '' });
    expect((await call(socket, '/VolumeDriver.Get', { Name: name() })).body.Err).toBe(`no such volume: ${name()}`);
  });

  it('builds the volume on Mount when it is missing', async () => {
    await rm(join(dir, 'nvidia_driver', built.version), { recursive: true, force: true });
    const mounted = await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'f'.repeat(64) });
    expect(mounted.body.Err).toBe('');
    expect(await judgeVolume(mounted.body.Mountpoint as string, built)).toMatchObject({ state: 'complete' });
    await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: 'f'.repeat(64) });
    expect((await call(socket, '/VolumeDriver.Mount', { Name: 'nvidia_driver_1.0', ID: 'a' })).body.Err).toBe('no such volume: nvidia_driver_1.0');
  });
});

describe('mounted volumes and hostile IDs', () => {
  it('keeps a mounted generation when a driver file changes: a second Mount gets a new one beside it', async () => {
    const dir = join(work, 'generations');
    const socket = join(work, 'gen.sock');
    const { server } = await startPlugin(dir, socket);
    const bin = built.binaries.find((b) => b.name === 'nvidia-smi')!;
    const source = join(built.root, bin.path);
    const original = await stat(source);
    try {
      const first = await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'a'.repeat(64) });
      const firstPath = first.body.Mountpoint as string;
      const firstIno = (await lstat(join(firstPath, 'bin', 'nvidia-smi'))).ino;
      expect(firstIno).toBe(original.ino);
      // A reinstall of the same version: the file's mtime changes.
      await utimes(source, original.atime, new Date(original.mtimeMs + 60_000));
      const second = await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'b'.repeat(64) });
      const secondPath = second.body.Mountpoint as string;
      expect(second.body.Err).toBe('');
      expect(secondPath).not.toBe(firstPath);
      // The first container's files are still there, unchanged (independent evidence: lstat, bytes).
      expect((await lstat(join(firstPath, 'bin', 'nvidia-smi'))).ino).toBe(firstIno);
      for (const lib of built.libraries) {
        expect(await readFile(join(firstPath, 'lib64', lib.name))).toEqual(await readFile(join(built.root, lib.path)));
      }
      // Docker sees one volume: the current generation, with both mounts.
      const got = (await call(socket, '/VolumeDriver.Get', { Name: name() })).body as { Volume: { Mountpoint: string; Status: { Mounts: number } } };
      expect([got.Volume.Mountpoint, got.Volume.Status.Mounts]).toEqual([secondPath, 2]);
      expect((await call(socket, '/VolumeDriver.Path', { Name: name() })).body.Mountpoint).toBe(secondPath);
      expect((await call(socket, '/VolumeDriver.List', {})).body).toEqual({ Volumes: [{ Name: name(), Mountpoint: secondPath }], Err: '' });
      // The same ID mounting again keeps the generation it holds.
      expect((await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'a'.repeat(64) })).body.Mountpoint).toBe(firstPath);
      await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: 'a'.repeat(64) });
      expect(existsSync(firstPath)).toBe(true); // still held once
      expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toMatch(/in use \(2 mounts\)/);
      await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: 'a'.repeat(64) });
      expect(existsSync(firstPath)).toBe(false); // released and no longer current: gone
      expect(existsSync(join(secondPath, 'bin', 'nvidia-smi'))).toBe(true);
      await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: 'b'.repeat(64) });
      expect(existsSync(secondPath)).toBe(true); // the current generation stays
    } finally {
      await utimes(source, original.atime, original.mtime);
      await server.close();
    }
  });

  it('counts mount IDs named like prototype properties, on disk and across a restart', async () => {
    const dir = join(work, 'proto-ids');
    const socket = join(work, 'proto-ids.sock');
    const ids = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    let { server } = await startPlugin(dir, socket);
    try {
      for (const ID of ids) expect((await call(socket, '/VolumeDriver.Mount', { Name: name(), ID })).body.Err).toBe('');
      const got = (await call(socket, '/VolumeDriver.Get', { Name: name() })).body as { Volume: { Status: { Mounts: unknown } } };
      expect(got.Volume.Status.Mounts).toBe(ids.length);
      const onDisk = JSON.parse(await readFile(join(dir, '.plugin-test-plugin.mounts.json'), 'utf8')) as { mounts: Record<string, object> };
      expect(Object.keys(onDisk.mounts[name()]!).sort()).toEqual([...ids].sort());
      await server.close();
      ({ server } = await startPlugin(dir, socket));
      const again = (await call(socket, '/VolumeDriver.Get', { Name: name() })).body as { Volume: { Status: { Mounts: unknown } } };
      expect(again.Volume.Status.Mounts).toBe(ids.length);
      expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toMatch(/in use \(5 mounts\)/);
      for (const ID of ids) await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID });
      expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toBe('');
    } finally {
      await server.close();
    }
  });
});

describe('plugin lifecycle', () => {
  it('keeps volumes and mounts across a restart', async () => {
    const dir = join(work, 'restart');
    const socket = join(work, 'restart.sock');
    let { server } = await startPlugin(dir, socket);
    expect((await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'a'.repeat(64) })).body.Err).toBe('');
    await server.close();
    await expect(lstat(socket)).rejects.toThrow(/ENOENT/);
    ({ server } = await startPlugin(dir, socket));
    try {
      expect((await call(socket, '/VolumeDriver.List', {})).body).toMatchObject({ Volumes: [{ Name: name() }] });
      expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toMatch(/in use/);
      await call(socket, '/VolumeDriver.Unmount', { Name: name(), ID: 'a'.repeat(64) });
      expect((await call(socket, '/VolumeDriver.Remove', { Name: name() })).body.Err).toBe('');
    } finally {
      await server.close();
    }
  });

  it('starts without a driver, serves what is on disk, and says why Create fails', async () => {
    const dir = join(work, 'nodriver');
    const plugin = await DriverVolumePlugin.open({ name: 'no-driver', dir, discover: async () => { throw new Error('/empty: no NVIDIA driver found'); } });
    expect(plugin.startupNotes()).toContain('no NVIDIA driver found in /: /empty: no NVIDIA driver found');
    expect((await plugin.handle('/VolumeDriver.Create', `{"Name":"${name()}"}\n`)).body.Err).toBe(
      `cannot create ${name()}: no NVIDIA driver found in /: /empty: no NVIDIA driver found`,
    );
    expect((await plugin.handle('/VolumeDriver.Mount', `{"Name":"${name()}","ID":"a"}\n`)).body.Err).toBe(`no such volume: ${name()}`);
    expect((await plugin.handle('/VolumeDriver.List', '{}\n')).body).toEqual({ Volumes: [], Err: '' });
  });

  it('replaces a stale socket file, refuses a live one and any other file', async () => {
    const dir = join(work, 'stale');
    const socket = join(work, 'stale.sock');
    // A socket file whose server exited, as a killed plugin leaves it.
    await run(process.execPath, ['-e', `require('node:net').createServer().listen(process.argv[1], () => process.exit(0))`, socket]);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const { server } = await startPlugin(dir, socket);
    try {
      expect((await call(socket, '/Plugin.Activate')).status).toBe(200);
      await expect(startPlugin(dir, socket)).rejects.toThrow(/another plugin is listening/);
    } finally {
      await server.close();
    }
    const plain = join(work, 'plain.sock');
    await writeFile(plain, 'not a socket');
    await expect(startPlugin(dir, plain)).rejects.toThrow(/not a socket/);
    expect(await readFile(plain, 'utf8')).toBe('not a socket');
  });
});

describe('REST API', () => {
  it('serves /gpu/info and /docker/cli from discovery data', async () => {
    const discovery = discoveryOf(built);
    const api = await startRestApi({ listen: '127.0.0.1:0', pluginName: 'nvidia-docker', discovery: () => discovery });
    const base = `http://127.0.0.1:${api.address.port}`;
    try {
      const info = (await (await fetch(`${base}/v1.0/gpu/info/json`)).json()) as { Version: unknown; Devices: Array<Record<string, unknown>> };
      expect(info.Version).toEqual({ Driver: built.version, CUDA: null });
      expect(info.Devices.map((d) => [d.UUID, d.Path])).toEqual(built.gpus.map((g) => [g.uuid, `/dev/nvidia${g.minor}`]));
      expect(info.Devices[0]!.Power).toBeNull();
      expect(await (await fetch(`${base}/gpu/info`)).text()).toContain(`Driver version:          ${built.version}`);

      const cli = await (await fetch(`${base}/v1.0/docker/cli?dev=1&vol=nvidia_driver`)).text();
      expect(cli.trim()).toBe(
        `--volume-driver=nvidia-docker --volume=${name()}:/usr/local/nvidia:ro --device=${built.root}/dev/nvidiactl:/dev/nvidiactl ` +
          `--device=${built.root}/dev/nvidia-uvm:/dev/nvidia-uvm --device=${built.root}/dev/nvidia${built.gpus[1]!.minor}:/dev/nvidia${built.gpus[1]!.minor}`,
      );
      const json = (await (await fetch(`${base}/docker/cli/json?dev=${encodeURIComponent(built.gpus[0]!.uuid)}`)).json()) as { Devices: string[] };
      expect(json.Devices.at(-1)).toBe(`${built.root}/dev/nvidia${built.gpus[0]!.minor}:/dev/nvidia${built.gpus[0]!.minor}`);

      const invalid = await fetch(`${base}/v1.0/docker/cli?dev=7`);
      expect([invalid.status, (await invalid.text()).trim()]).toEqual([400, `dev: unknown GPU '7' (valid: ${built.gpus.map((g, i) => `${i} (${g.uuid})`).join(', ')}, or all, none, void)`]);
      expect((await fetch(`${base}/docker/cli?vol=other`)).status).toBe(400);
      expect((await fetch(`${base}/v1.0/gpu/info`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/v1.0/nothing`)).status).toBe(404);
    } finally {
      await api.close();
    }
  });
});



describeNeeding('nvidia-volume plugin (built CLI, real discovery)', !existsSync(join(repo, 'dist/cli/nvidia-volume/plugin.js')) && 'dist/ is not built (npm run build)', () => {
  it('serves the socket and the REST API, and stops cleanly on SIGINT and SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const socket = join(work, `cli-${signal}.sock`);
      const child = spawn(
        process.execPath,
        [join(repo, 'bin/nvidia-volume.js'), 'plugin', '--name', `t-${process.pid}`, '--socket', socket, '--root', built.root, '--dir', join(work, 'cli-volumes'), '--rest', '127.0.0.1:0'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (code, sig) => r([code, sig])));
      const deadline = Date.now() + 20_000;
      while (!/listening on .* and http:\/\/127\.0\.0\.1:(\d+)/.test(log)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`plugin did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(log)![1];
      expect(log).toContain(`driver version ${built.version}`);
      expect((await lstat(socket)).mode & 0o777).toBe(0o600);
      expect((await call(socket, '/VolumeDriver.Create', { Name: name(), Opts: null })).body).toEqual({ Err: '' });
      const cli = (await (await fetch(`http://127.0.0.1:${port}/v1.0/docker/cli/json`)).json()) as { Volumes: string[] };
      expect(cli.Volumes).toEqual([`${name()}:/usr/local/nvidia:ro`]);
      child.kill(signal);
      expect(await exited).toEqual([0, null]);
      expect(existsSync(socket)).toBe(false);
    }
  });

  it('--copy: a Mount serves copies, so a container mounting the volume without :ro cannot write the host driver files', async () => {
    // Docker mounts a named volume read-write unless :ro is asked for; a hard-linked volume hands
    // such a container the host's own driver inodes. With --copy no placed file is a root inode.
    const socket = join(work, 'copy.sock');
    const child = spawn(
      process.execPath,
      [join(repo, 'bin/nvidia-volume.js'), 'plugin', '--copy', '--name', `copy-${process.pid}`, '--socket', socket, '--root', built.root, '--dir', join(work, 'copy-volumes')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<unknown>((r) => child.once('exit', r));
    try {
      const deadline = Date.now() + 20_000;
      while (!log.includes('listening on')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`plugin did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const mounted = await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'c'.repeat(64) });
      const mountpoint = (mounted.body as { Mountpoint: string }).Mountpoint;
      expect(typeof mountpoint).toBe('string');
      for (const lib of built.libraries) {
        const placed = join(mountpoint, lib.bits === 64 ? 'lib64' : 'lib', lib.name);
        const [a, b] = await Promise.all([lstat(placed), lstat(join(built.root, lib.path))]);
        expect([lib.name, a.ino === b.ino && a.dev === b.dev]).toEqual([lib.name, false]);
        expect(await readFile(placed)).toEqual(await readFile(join(built.root, lib.path)));
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('keeps answering Mount on the plugin socket while 2000 idle connections flood the REST port', async () => {
    const socket = join(work, 'flood.sock');
    // A low descriptor limit (soft and hard, so Node cannot raise it) makes starvation certain if the REST listener took them.
    const child = spawn(
      'sh',
      ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, join(repo, 'bin/nvidia-volume.js'), 'plugin', '--name', `flood-${process.pid}`, '--socket', socket, '--root', built.root, '--dir', join(work, 'flood-volumes'), '--rest', '127.0.0.1:0'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const clients: Socket[] = [];
    try {
      const deadline = Date.now() + 20_000;
      while (!/listening on .* and http:\/\/127\.0\.0\.1:(\d+)/.test(log)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`plugin did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(log)![1]);
      expect((await call(socket, '/VolumeDriver.Mount', { Name: name(), ID: 'warm' })).body.Err).toBe('');

      const started = Date.now();
      await Promise.all(Array.from({ length: 2000 }, () => new Promise<void>((settle) => {
        const client = connect(port, '127.0.0.1');
        clients.push(client);
        client.once('connect', () => settle());
        client.once('error', () => settle());
        client.once('close', () => settle());
      })));
      // Docker-style calls while the flood holds its connections open.
      const ids = Array.from({ length: 20 }, (_, i) => `flood-${i}`);
      const within = <T,>(work: Promise<T>): Promise<T> =>
        Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('plugin socket did not answer within 5 s')), 5_000))]);
      for (const ID of ids) expect((await within(call(socket, '/VolumeDriver.Mount', { Name: name(), ID }))).body.Err).toBe('');
      for (const ID of ids) expect((await within(call(socket, '/VolumeDriver.Unmount', { Name: name(), ID }))).body.Err).toBe('');
      expect(Date.now() - started).toBeLessThan(30_000);
      for (const client of clients) client.destroy();
      // Once the flood is gone, the REST API answers again.
      const info = await fetch(`http://127.0.0.1:${port}/v1.0/gpu/info/json`);
      expect(info.status).toBe(200);
    } finally {
      for (const client of clients) client.destroy();
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('refuses a plugin name that cannot be a file name', async () => {
    const result = await runCommand(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'plugin', '--name', '../x']);
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([2, "nvidia-volume: invalid plugin name '../x'"]);
  });
});
