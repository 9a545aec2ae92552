// Podman 5 (Debian 13's podman and runc, run from a trixie chroot: helpers/podman5.ts) reads the
// spec that `nvidia-volume cdi --output` writes into its default /etc/cdi (YAML, as an operator
// would) and runs busybox with `--device nvidia.com/gpu=all`, `=0` and `=1` against a
// Debian-shaped driver root: the container sees exactly the expected device nodes and the
// driver's files with their bytes, read-only.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectedMounts, gpusByIndex, TRIPLET } from './helpers/cdi-expect.js';
import { charDevices, hashes } from './helpers/container-output.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { createPodmanHarness, type PodmanHarness } from './helpers/podman.js';
import { ensurePodman5, podman5SkipReason } from './helpers/podman5.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
// On CI (root, Debian 12, the Debian mirror reachable) the engine must run: a reason is a failure
// there (describeNeeding), a skip with the reason elsewhere.
const skipReason = await podman5SkipReason();

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describeNeeding('CDI spec in Podman 5 (real engine, Debian 13 chroot)', skipReason, () => {
  let built: DriverRoot;
  let podman: PodmanHarness;

  beforeAll(async () => {
    const chroot = await ensurePodman5();
    [built, podman] = await Promise.all([buildDriverRoot({ gpus: 2 }), createPodmanHarness({ chroot })]);
    if (!built.devicesCreated) throw new Error(`mknod refused as root: ${built.devicesSkipReason}`);
    // The operator's command; the harness binds this directory at the chroot's /etc/cdi.
    execFileSync(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'cdi', '--root', built.root, '--output', join(podman.specDir, 'nvidia.yaml')]);
  }, 900_000);
  afterAll(async () => {
    await podman?.cleanup();
    await built?.cleanup();
  });

  const nodeListing = 'ls -l /dev/nvidia* /dev/nvidia-caps/* 2>/dev/null; true';
  const controls = (): [string, string][] =>
    built.devices
      .filter((d) => !/^\/dev\/nvidia\d+$/.test(d.path) && !d.path.startsWith('/dev/nvidia-caps/'))
      .map((d) => [d.path, `${d.major},${d.minor}`]);

  it('is Podman 5', async () => {
    const result = await podman.podman(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^podman version 5\.\d+/m);
  });

  it('--device nvidia.com/gpu=all: every GPU node and control node, every driver file with its bytes, read-only', async () => {
    const want = expectedMounts(built);
    for (const lib of built.libraries) want.set(`/usr/lib/${TRIPLET[lib.abi]}/${lib.soname}`, lib.path);
    const cuda = built.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!;
    const script = [
      nodeListing,
      `sha256sum ${[...want.keys()].join(' ')}`,
      `if echo x > ${cuda.path}; then echo WRITE-OK; else echo WRITE-REFUSED; fi 2>&1`,
      `grep ' ${cuda.path} ' /proc/mounts`,
    ].join('; ');
    const result = await podman.run({ devices: ['nvidia.com/gpu=all'], script });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const wantNodes = new Map(
      built.devices.filter((d) => !d.path.startsWith('/dev/nvidia-caps/')).map((d) => [d.path, `${d.major},${d.minor}`]),
    );
    expect(charDevices(result.stdout)).toEqual(wantNodes);
    const seen = hashes(result.stdout);
    for (const [containerPath, realPath] of want) expect(seen.get(containerPath), containerPath).toBe(sha256(built.root + realPath));
    expect(result.stdout).toContain('WRITE-REFUSED');
    expect(result.stdout).not.toContain('WRITE-OK');
    expect(result.stdout).toMatch(new RegExp(` ${cuda.path.replace(/\./g, '\\.')} \\S+ ro,`));
  });

  it('--device nvidia.com/gpu=0 and =1: only that GPU node plus the control nodes, and the libraries', async () => {
    const ml = built.libraries.find((l) => l.name.startsWith('libnvidia-ml.so.') && l.bits === 64)!;
    for (const [index, gpu] of gpusByIndex(built).entries()) {
      const result = await podman.run({ devices: [`nvidia.com/gpu=${index}`], script: `${nodeListing}; sha256sum ${ml.path}` });
      expect(result.code, result.stderr).toBe(0);
      expect(charDevices(result.stdout), `gpu=${index}`).toEqual(new Map([[`/dev/nvidia${gpu.minor}`, `195,${gpu.minor}`], ...controls()]));
      expect(hashes(result.stdout).get(ml.path)).toBe(sha256(built.root + ml.path));
    }
  });

  it('an unknown device fails the run with the engine naming it', async () => {
    const result = await podman.run({ devices: ['nvidia.com/gpu=7'], script: 'true' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nvidia\.com\/gpu=7/);
  });
});
