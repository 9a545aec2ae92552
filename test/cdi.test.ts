// The CDI spec builder and generator on Debian-shaped driver roots (gcc-built libraries, real
// ldconfig cache, mknod device nodes), every spec checked by the strict validator.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CdiSpec } from '../src/core/cdi-types.js';
import { validateCdiSpec } from '../src/core/cdi-validate.js';
import { toYaml } from '../src/core/cdi-yaml.js';
import { buildCdiSpec, CdiSpecError, READ_ONLY_BIND } from '../src/node/cdi-build.js';
import { generateCdiSpec } from '../src/node/cdi.js';
import { defaultLinkerDir } from '../src/node/cdi-linker-dirs.js';
import { RootFs } from '../src/node/rootfs.js';
import { allMounts, discoveryFromBuiltRoot, expectedMounts, gpusByIndex, realInRoot } from './helpers/cdi-expect.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { need } from './helpers/requirements.js';

/** python3-yaml is the independent YAML reader (scripts/ensure-test-deps.mjs installs it). */
const noPythonYaml = spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status !== 0 && 'needs python3-yaml, the independent YAML 1.1 reader';
/** Why a root has no GPU device nodes (mknod refused), or false. */
const noDevices = (built: DriverRoot): string | false => !built.devicesCreated && `no device nodes (mknod refused: ${built.devicesSkipReason})`;

function expectValid(spec: CdiSpec): void {
  const { problems } = validateCdiSpec(spec);
  expect(problems).toEqual([]);
}

describe('buildCdiSpec on a Debian 535 root', () => {
  let built: DriverRoot;
  let spec: CdiSpec;
  let warnings: string[];
  beforeAll(async () => {
    built = await buildDriverRoot({ gpus: 3 });
    ({ spec, warnings } = buildCdiSpec(discoveryFromBuiltRoot(built), { resolveDir: (d) => new RootFs(built.root).tryResolve(d)?.path ?? d }));
  });
  afterAll(() => built?.cleanup());

  it('is a valid spec at the lowest version that covers it (0.5.0: GPU indexes as names)', () => {
    expectValid(spec);
    expect(spec.cdiVersion).toBe('0.5.0');
    expect(spec.kind).toBe('nvidia.com/gpu');
  });

  it('has one device per GPU by index (PCI order) and by UUID, plus all, and no warning', (ctx) => {
    need(ctx, noDevices(built));
    expect(warnings).toEqual([]);
    const gpus = gpusByIndex(built);
    const names = spec.devices.map((d) => d.name);
    expect(names).toEqual([...gpus.flatMap((g, i) => [String(i), g.uuid]), 'all']);
    gpus.forEach((gpu, i) => {
      for (const name of [String(i), gpu.uuid]) {
        const device = spec.devices.find((d) => d.name === name)!;
        expect(device.containerEdits.deviceNodes).toEqual([{ path: `/dev/nvidia${gpu.minor}`, hostPath: `${built.root}/dev/nvidia${gpu.minor}` }]);
        expect(device.containerEdits.mounts).toBeUndefined();
      }
    });
    const all = spec.devices.find((d) => d.name === 'all')!;
    expect(all.containerEdits.deviceNodes!.map((n) => n.path).sort()).toEqual(gpus.map((g) => `/dev/nvidia${g.minor}`).sort());
  });

  it('gives every device the control nodes, not the MIG capability nodes', (ctx) => {
    need(ctx, noDevices(built));
    const nodes = spec.containerEdits!.deviceNodes!;
    expect(nodes.map((n) => n.path).sort()).toEqual(['/dev/nvidia-modeset', '/dev/nvidia-uvm', '/dev/nvidia-uvm-tools', '/dev/nvidiactl']);
    for (const node of nodes) expect(node.hostPath).toBe(built.root + node.path);
  });

  it('mounts every library (64- and 32-bit), soname link, binary and firmware file read-only from inside the root', () => {
    const mounts = allMounts(spec);
    const byTarget = new Map(mounts.map((m) => [m.containerPath, m]));
    expect(byTarget.size).toBe(mounts.length); // one mount per container path
    const want = expectedMounts(built);
    expect(built.libraries.some((l) => l.bits === 32)).toBe(true);
    for (const [containerPath, realPath] of want) {
      const mount = byTarget.get(containerPath);
      expect(mount, containerPath).toBeDefined();
      expect(mount!.hostPath).toBe(built.root + realPath);
      expect(mount!.options).toEqual(READ_ONLY_BIND);
    }
    for (const mount of mounts) {
      // Every host path is a real file inside the root, never a link that leads out of it.
      expect(realInRoot(built.root, mount.hostPath), mount.hostPath).toBe(mount.hostPath.slice(built.root.length));
    }
  });

  it('puts soname links where the host linker found them, so no container ldconfig is needed', () => {
    const byTarget = new Map(allMounts(spec).map((m) => [m.containerPath, m.hostPath]));
    // Every driver library by its soname in the multiarch directory, also those not in the cache.
    for (const lib of built.libraries) {
      const multiarch = lib.abi === 'i386' ? '/usr/lib/i386-linux-gnu' : '/usr/lib/x86_64-linux-gnu';
      expect(byTarget.get(`${multiarch}/${lib.soname}`), lib.soname).toBe(built.root + lib.path);
      if (lib.name.startsWith('libvdpau_')) expect(byTarget.get(`${multiarch}/vdpau/${lib.soname}`)).toBe(built.root + lib.path);
    }
    const cuda = built.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!;
    expect(byTarget.get('/usr/lib/x86_64-linux-gnu/libcuda.so')).toBe(built.root + cuda.path);
    const glx = built.libraries.find((l) => l.name.startsWith('libGLX_nvidia.so.') && l.bits === 64)!;
    expect(byTarget.get('/usr/lib/x86_64-linux-gnu/libGLX_indirect.so.0')).toBe(built.root + glx.path);
    // The cache says /lib/...; on a merged-/usr root that is the same directory, mounted once.
    expect([...byTarget.keys()].filter((p) => p.startsWith('/lib/'))).toEqual([]);
  });

  it('mounts IPC paths without exec', () => {
    const byTarget = new Map(allMounts(spec).map((m) => [m.containerPath, m]));
    for (const ipc of built.ipc) {
      const mount = byTarget.get(ipc.path)!;
      expect(mount.hostPath).toBe(built.root + ipc.path);
      expect(mount.options).toContain('noexec');
      expect(mount.options).toContain('bind');
    }
  });

  it('writes YAML that a YAML 1.1 reader turns back into the same spec', (ctx) => {
    need(ctx, noPythonYaml);
    const text = toYaml(spec);
    const parsed = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8' });
    expect(JSON.parse(parsed)).toEqual(JSON.parse(JSON.stringify(spec)));
  });
});

describe('toYaml', () => {
  it('round-trips strings a plain YAML scalar would change, read by an independent YAML 1.1 parser', (ctx) => {
    need(ctx, noPythonYaml);
    const tricky = ['0', '1e3', '0x1f', 'yes', 'no', 'on', 'null', '~', '', ' lead', 'trail ', '- dash', 'a: b', '#hash', 'a #b', '"q"', "'s'",
      'back\\slash', 'new\nline', 'tab\t', '\u0000nul', '\u0085nel', '\u2028ls', '\u007fdel', 'é€😀', '[x]', '{y}', '*alias', '&anchor', '!tag', '%dir', '@at', '`tick`', '|', '>'];
    const doc = { cdiVersion: '0.5.0', list: tricky, nested: [{ a: tricky, b: [] }, []], empty: {}, n: 42, t: true, z: null, 'key with space': 'v', yes: 'k' };
    const text = toYaml(doc);
    const parsed = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], { input: text, encoding: 'utf8' });
    expect(JSON.parse(parsed)).toEqual(doc);
  });
});

describe('buildCdiSpec choices and refusals', () => {
  let built: DriverRoot;
  beforeAll(async () => {
    built = await buildDriverRoot({ gpus: 2, i386: false, strays: undefined });
  });
  afterAll(() => built?.cleanup());

  it('leaves out a GPU without a node, keeping the other indexes', (ctx) => {
    need(ctx, noDevices(built));
    const discovery = discoveryFromBuiltRoot(built);
    const first = gpusByIndex(built)[0]!;
    discovery.gpus = discovery.gpus.map((g) => (g.busId === first.busId ? { ...g, devicePath: null } : g));
    const { spec, warnings } = buildCdiSpec(discovery);
    expectValid(spec);
    expect(spec.devices.map((d) => d.name)).toEqual(['1', gpusByIndex(built)[1]!.uuid, 'all']);
    expect(warnings.join('\n')).toMatch(new RegExp(`GPU 0 \\(${first.busId}\\) left out`));
    // Its node is still a GPU node of the root: reachable through 'all' only.
    expect(spec.devices.at(-1)!.containerEdits.deviceNodes!.map((n) => n.path)).toContain(`/dev/nvidia${first.minor}`);
  });

  it('lists a node once in all when two GPUs claim the same minor', (ctx) => {
    need(ctx, noDevices(built));
    const discovery = discoveryFromBuiltRoot(built);
    discovery.gpus = discovery.gpus.map((g) => ({ ...g, minor: 0, devicePath: '/dev/nvidia0' }));
    const { spec } = buildCdiSpec(discovery);
    expectValid(spec);
    // nvidia0 once; the root's other GPU node, now described by no GPU, still reachable through 'all'.
    expect(spec.devices.find((d) => d.name === 'all')!.containerEdits.deviceNodes!.map((n) => n.path)).toEqual(['/dev/nvidia0', '/dev/nvidia2']);
  });

  it('with no GPU nodes, device all carries the driver files itself', () => {
    const discovery = discoveryFromBuiltRoot(built);
    discovery.gpus = [];
    discovery.devices = discovery.devices.filter((d) => d.kind !== 'gpu');
    const { spec, warnings } = buildCdiSpec(discovery);
    expectValid(spec);
    expect(spec.devices.map((d) => d.name)).toEqual(['all']);
    expect(spec.containerEdits).toBeUndefined();
    expect(spec.devices[0]!.containerEdits.mounts!.length).toBeGreaterThan(built.libraries.length);
    expect(warnings).toContain('no GPU device nodes found: device "all" has the driver files and control nodes only');
  });

  it('writes host paths for another view of the root, and omits hostPath on nodes for /', () => {
    const discovery = discoveryFromBuiltRoot(built);
    const { spec } = buildCdiSpec(discovery, { hostRoot: '/' });
    expectValid(spec);
    for (const node of [...(spec.containerEdits?.deviceNodes ?? []), ...spec.devices.flatMap((d) => d.containerEdits.deviceNodes ?? [])]) {
      expect(node.hostPath).toBeUndefined();
    }
    for (const mount of allMounts(spec)) expect(mount.hostPath.startsWith(built.root)).toBe(false);
    expect(allMounts(spec).find((m) => m.containerPath === '/usr/bin/nvidia-smi')?.hostPath).toBe('/usr/lib/nvidia/current/nvidia-smi');
    const moved = buildCdiSpec(discovery, { hostRoot: '/run/nvidia/driver' }).spec;
    expect(moved.containerEdits!.mounts!.every((m) => m.hostPath.startsWith('/run/nvidia/driver/'))).toBe(true);
    expect(() => buildCdiSpec(discovery, { hostRoot: 'relative' })).toThrow(/must be an absolute path/);
  });

  it('refuses a bad kind, a kind that needs 0.6.0 unless asked, and a too old cdiVersion', () => {
    const discovery = discoveryFromBuiltRoot(built);
    expect(() => buildCdiSpec(discovery, { kind: 'nvidia.com' })).toThrow(CdiSpecError);
    expect(() => buildCdiSpec(discovery, { kind: 'nvidia.com/gpu.v2' })).toThrow(/needs cdiVersion 0\.6\.0, newer than 0\.5\.0/);
    const { spec } = buildCdiSpec(discovery, { kind: 'nvidia.com/gpu.v2', cdiVersion: '0.6.0' });
    expect(spec.cdiVersion).toBe('0.6.0');
    expectValid(spec);
    expect(() => buildCdiSpec(discovery, { cdiVersion: '0.4.0' })).toThrow(/cdiVersion 0\.4\.0 is too old for this spec: it needs 0\.5\.0/);
    expect(() => buildCdiSpec(discovery, { cdiVersion: '9.9.9' })).toThrow(/unknown cdiVersion/);
  });

  it('refuses a root without driver libraries rather than write a spec of device nodes alone', () => {
    const discovery = discoveryFromBuiltRoot(built);
    Object.assign(discovery, { libraries: [] });
    expect(() => buildCdiSpec(discovery)).toThrow(
      `no NVIDIA driver found in ${built.root}: the kernel module says ${built.version}, but no library of that version was found`,
    );
  });

  it('never lets an unclean path into a spec', () => {
    const discovery = discoveryFromBuiltRoot(built);
    discovery.libraries.push({ ...discovery.libraries[0]!, path: '/usr/lib/../../etc/shadow' });
    discovery.firmware.push({ path: 'relative/fw.bin' });
    const { spec, warnings } = buildCdiSpec(discovery);
    expectValid(spec);
    expect(allMounts(spec).some((m) => m.hostPath.includes('..') || m.containerPath.includes('relative'))).toBe(false);
    expect(warnings.filter((w) => w.includes('not a clean absolute path')).sort()).toEqual([
      'skipped /usr/lib/../../etc/shadow: not a clean absolute path',
      'skipped relative/fw.bin: not a clean absolute path',
    ]);
  });
});

describe('generateCdiSpec with the real discovery', () => {
  let built: DriverRoot;
  beforeAll(async () => {
    // 535 with a 470 flavour's leftovers: only 535's files may reach the spec.
    built = await buildDriverRoot({ gpus: 2, strays: '470.256.02', badTls: true });
  });
  afterAll(() => built?.cleanup());

  it('mounts what the reference generator leaves out, and nothing stray', async () => {
    const { spec } = await generateCdiSpec({ root: built.root });
    expectValid(spec);
    expect(spec.cdiVersion).toBe('0.5.0');
    const byTarget = new Map(allMounts(spec).map((m) => [m.containerPath, m.hostPath]));
    for (const [containerPath, realPath] of expectedMounts(built)) {
      expect(byTarget.get(containerPath), containerPath).toBe(built.root + realPath);
    }
    // The cases of spec section 11: 32-bit, versioned sonames in the multiarch dir, binaries behind absolute links, firmware.
    expect(byTarget.get('/usr/lib/i386-linux-gnu/libnvidia-glcore.so.535.261.03')).toBe(`${built.root}/usr/lib/i386-linux-gnu/libnvidia-glcore.so.535.261.03`);
    expect(byTarget.get('/usr/bin/nvidia-smi')).toBe(`${built.root}/usr/lib/nvidia/current/nvidia-smi`);
    const hostPaths = new Set(byTarget.values());
    for (const stray of built.strayFiles) expect(hostPaths.has(built.root + stray.path), stray.path).toBe(false);
    expect([...hostPaths].some((p) => p.includes('470.256.02'))).toBe(false);
  });

  it('without an ld.so.cache, still puts sonames in the default linker directory', async () => {
    const bare = await buildDriverRoot({ gpus: 1, cache: false, i386: false, mesaLibGL: false });
    try {
      const { spec, discovery } = await generateCdiSpec({ root: bare.root });
      expectValid(spec);
      expect(discovery.libraries.every((l) => l.cachePath === null)).toBe(true);
      const byTarget = new Map(allMounts(spec).map((m) => [m.containerPath, m.hostPath]));
      for (const lib of bare.libraries) {
        expect(byTarget.get(`/usr/lib/x86_64-linux-gnu/${lib.soname}`), lib.soname).toBe(bare.root + lib.path);
      }
    } finally {
      await bare.cleanup();
    }
  });

  it('finds the default linker directory of a root: multiarch, else lib64 / lib', async () => {
    const top = await mkdtemp(join(tmpdir(), 'cdi-linker-'));
    try {
      await mkdir(join(top, 'usr/lib64'), { recursive: true });
      await symlink('usr/lib64', join(top, 'lib64'));
      const fs = new RootFs(top);
      expect(defaultLinkerDir(fs, 'x86-64', 64)).toBe('/usr/lib64');
      expect(defaultLinkerDir(fs, 'i386', 32)).toBeNull();
      await mkdir(join(top, 'usr/lib/x86_64-linux-gnu'), { recursive: true });
      expect(defaultLinkerDir(new RootFs(top), 'x86-64', 64)).toBe('/usr/lib/x86_64-linux-gnu');
      expect(defaultLinkerDir(new RootFs(top), 'i386', 32)).toBe('/usr/lib');
    } finally {
      await rm(top, { recursive: true, force: true });
    }
  });

  it('refuses a bad kind with a one-line reason', async () => {
    await expect(generateCdiSpec({ root: built.root, kind: 'nvidia' })).rejects.toThrow(/^kind 'nvidia' must be 'vendor\/class'$/);
  });
});

describe('nvidia-volume cdi', () => {
  const cli = join(process.cwd(), 'bin/nvidia-volume.js');
  let built: DriverRoot;
  let out: string;
  beforeAll(async () => {
    built = await buildDriverRoot({ gpus: 1, i386: false });
    out = await mkdtemp(join(tmpdir(), 'cdi-cli-'));
  });
  afterAll(async () => {
    await built?.cleanup();
    if (out) await rm(out, { recursive: true, force: true });
  });

  /** Runs the CLI under `umask 077`, so that the 0644 mode must be set explicitly. */
  function cdi(...args: string[]): { code: number; stdout: string; stderr: string } {
    const result = spawnSync('sh', ['-c', 'umask 077; exec "$@"', 'sh', process.execPath, cli, 'cdi', ...args], { encoding: 'utf8' });
    return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** The mounts of the printed spec whose host path is `hostPath` or under it. */
  const mountsUnder = (spec: CdiSpec, hostPath: string) => allMounts(spec).filter((m) => m.hostPath === hostPath || m.hostPath.startsWith(`${hostPath}/`));

  it('never mounts a planted /tmp/nvidia-mps: a symlink to /etc, or a directory of another user in the world-writable /tmp', async (ctx) => {
    // Any local user can make /tmp/nvidia-mps. The MPS pipe directory is mounted read-write, so a
    // link there to /etc gave every GPU container the host's /etc, writable, at /etc.
    const tmp = join(built.root, 'tmp');
    const mps = join(tmp, 'nvidia-mps');
    await chmod(tmp, 0o1777);
    await rm(mps, { recursive: true, force: true });
    await symlink('/etc', mps);
    try {
      const planted = cdi('--root', built.root);
      expect(planted.code, planted.stderr).toBe(0);
      const spec = JSON.parse(planted.stdout) as CdiSpec;
      expect(mountsUnder(spec, join(built.root, 'etc'))).toEqual([]);
      expect(allMounts(spec).filter((m) => m.containerPath === '/etc' || m.containerPath === '/tmp/nvidia-mps')).toEqual([]);
      expect(planted.stderr).toContain('/tmp/nvidia-mps: a symbolic link; not passed to containers');

      await rm(mps);
      await mkdir(mps);
      need(ctx, process.getuid?.() !== 0 && 'needs root to give /tmp/nvidia-mps to another user');
      await chown(mps, 4242, 4242);
      const foreign = cdi('--root', built.root);
      expect(foreign.code, foreign.stderr).toBe(0);
      expect(mountsUnder(JSON.parse(foreign.stdout) as CdiSpec, mps)).toEqual([]);
      expect(foreign.stderr).toContain('/tmp/nvidia-mps: owned by uid 4242 in world-writable /tmp');

      await chown(mps, 0, 0); // root's own MPS directory is passed, read-write without exec
      const own = JSON.parse(cdi('--root', built.root).stdout) as CdiSpec;
      expect(mountsUnder(own, mps)).toEqual([{ hostPath: mps, containerPath: '/tmp/nvidia-mps', options: ['nosuid', 'nodev', 'noexec', 'bind'] }]);
    } finally {
      await rm(mps, { recursive: true, force: true });
      await mkdir(mps);
      await chmod(tmp, 0o755);
    }
  });

  it("mounts root's MPS directory at /tmp/nvidia-mps in the container when the host's /tmp is a link (to var/tmp)", async () => {
    // MPS clients in the container look for /tmp/nvidia-mps: the mount's container path is that
    // name, its host path the directory the link leads to.
    const tmp = join(built.root, 'tmp');
    const varTmp = join(built.root, 'var', 'tmp');
    await mkdir(join(varTmp, 'nvidia-mps'), { recursive: true });
    await chmod(varTmp, 0o1777);
    await rm(tmp, { recursive: true, force: true });
    await symlink('var/tmp', tmp);
    try {
      const linked = cdi('--root', built.root);
      expect(linked.code, linked.stderr).toBe(0);
      const spec = JSON.parse(linked.stdout) as CdiSpec;
      expect(allMounts(spec).filter((m) => m.containerPath.includes('nvidia-mps') || m.hostPath.includes('nvidia-mps'))).toEqual([
        { hostPath: join(varTmp, 'nvidia-mps'), containerPath: '/tmp/nvidia-mps', options: ['nosuid', 'nodev', 'noexec', 'bind'] },
      ]);
    } finally {
      await rm(tmp);
      await rm(join(varTmp, 'nvidia-mps'), { recursive: true, force: true });
      await mkdir(join(tmp, 'nvidia-mps'), { recursive: true });
    }
  });

  it('prints the JSON spec that generateCdiSpec builds', async () => {
    const result = cdi('--root', built.root);
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as CdiSpec;
    expectValid(printed);
    expect(printed).toEqual((await generateCdiSpec({ root: built.root })).spec);
    const forHost = JSON.parse(cdi('--root', built.root, '--host-root', '/').stdout) as CdiSpec;
    expectValid(forHost);
    expect(allMounts(forHost).map((m) => m.hostPath)).toEqual(allMounts(printed).map((m) => m.hostPath.slice(built.root.length)));
  });

  it('writes YAML atomically, mode 0644, replacing the old file', async (ctx) => {
    need(ctx, noPythonYaml);
    const file = join(out, 'nvidia.yaml');
    await writeFile(file, 'old');
    const before = statSync(file).ino;
    const result = cdi('--root', built.root, '--output', file, '--kind', 'example.com/gpu');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    const stat = statSync(file);
    expect(stat.mode & 0o777).toBe(0o644);
    expect(stat.ino).not.toBe(before); // renamed over, not rewritten in place
    expect(readdirSync(out)).toEqual(['nvidia.yaml']); // no temp file left
    // A missing spec directory (a fresh /etc/cdi) is created, 0755.
    const nested = join(out, 'etc', 'cdi', 'nvidia.json');
    expect(cdi('--root', built.root, '--output', nested).code).toBe(0);
    expect(statSync(join(out, 'etc', 'cdi')).mode & 0o777).toBe(0o755);
    expectValid(JSON.parse(readFileSync(nested, 'utf8')) as CdiSpec);
    await rm(join(out, 'etc'), { recursive: true });
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^cdiVersion: "0\.5\.0"\nkind: "example\.com\/gpu"\n/);
    const parsed = execFileSync('python3', ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: text, encoding: 'utf8' });
    expectValid(JSON.parse(parsed) as CdiSpec);
  });

  it('refuses bad arguments with one line and a usage hint', () => {
    const mismatch = cdi('--root', built.root, '--format', 'json', '--output', join(out, 'x.yaml'));
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/^nvidia-volume: --format json does not match the extension of '.*x\.yaml'\nTry 'nvidia-volume --help' for more information\.\n$/);
    const unknown = cdi('--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("nvidia-volume: unknown option '--bogus' (known: --root, --host-root, --format, --output, -o, --kind, --cdi-version, --remove-if-no-driver, --help, -h)\n");
    const format = cdi('--format', 'toml');
    expect(format.code).toBe(2);
  });

  it('fails with one line, no stack, for a bad kind, cdiVersion, output directory or root', () => {
    for (const args of [
      ['--root', built.root, '--kind', 'nvidia'],
      ['--root', built.root, '--cdi-version', '0.4.0'],
      ['--root', built.root, '--output', join(out, 'nvidia.yaml', 'nvidia.json')], // parent is a file
      ['--root', join(out, 'no-such-root')],
      ['--root', out], // a directory with no driver in it
    ]) {
      const result = cdi(...args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).toMatch(/^nvidia-volume: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(cdi('--root', built.root, '--output', join(out, 'nvidia.yaml', 'n.json')).stderr).toMatch(/cannot write .*nvidia\.yaml\/n\.json: .*nvidia\.yaml: not a directory$/m);
    expect(readdirSync(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
