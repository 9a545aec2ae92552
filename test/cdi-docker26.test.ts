// Docker Engine 26.1 (Debian 13's docker.io + containerd 1.7, Debian 12's runc; see
// helpers/docker26.ts) with `"features": {"cdi": true}` reads the spec that `nvidia-volume cdi
// --output` writes (YAML, as an operator would) and runs busybox with `--device nvidia.com/gpu=0`
// and `=all` against a Debian-shaped driver root: the container sees exactly the expected device
// nodes and the driver's files with their bytes, read-only.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectedMounts, gpusByIndex, TRIPLET } from './helpers/cdi-expect.js';
import { charDevices, hashes } from './helpers/container-output.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { IMAGE, type PrivateDockerd } from './helpers/dockerd.js';
import { docker26SkipReason, startDocker26 } from './helpers/docker26.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
// On CI (root, Debian 12, network to the Debian mirror) the engine must run: a reason is a failure
// there (describeNeeding), a skip with the reason elsewhere.
const skipReason = await docker26SkipReason();

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describeNeeding('CDI spec in Docker Engine 26 (real engine)', skipReason, () => {
  let built: DriverRoot;
  let docker: PrivateDockerd;
  let specDir: string;

  beforeAll(async () => {
    specDir = await mkdtemp(join(tmpdir(), 'cdi-docker26-'));
    built = await buildDriverRoot({ gpus: 2 });
    if (!built.devicesCreated) throw new Error(`mknod refused as root: ${built.devicesSkipReason}`);
    docker = await startDocker26({ cdiSpecDirs: [specDir] });
    // The operator's command, written where cdi-spec-dirs points after the daemon started: Docker
    // reads the spec directories again for each run, so a refreshed spec needs no restart.
    execFileSync(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'cdi', '--root', built.root, '--output', join(specDir, 'nvidia.yaml')]);
  });
  afterAll(async () => {
    await docker?.stop();
    await built?.cleanup();
    if (specDir) await rm(specDir, { recursive: true, force: true });
  });

  const run = (device: string, script: string) =>
    docker.docker(['run', '--rm', '--network', 'none', '--device', device, IMAGE, 'sh', '-c', script]);
  const nodeListing = 'ls -l /dev/nvidia* /dev/nvidia-caps/* 2>/dev/null; true';
  const controls = (): [string, string][] =>
    built.devices
      .filter((d) => !/^\/dev\/nvidia\d+$/.test(d.path) && !d.path.startsWith('/dev/nvidia-caps/'))
      .map((d) => [d.path, `${d.major},${d.minor}`]);

  it('the daemon runs with CDI on and our spec directory', async () => {
    const info = await docker.docker(['info', '--format', '{{json .CDISpecDirs}}']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toEqual([specDir]);
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
    const result = await run('nvidia.com/gpu=all', script);
    expect(result.code, result.stderr).toBe(0);
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
      const result = await run(`nvidia.com/gpu=${index}`, `${nodeListing}; sha256sum ${ml.path}`);
      expect(result.code, result.stderr).toBe(0);
      expect(charDevices(result.stdout), `gpu=${index}`).toEqual(new Map([[`/dev/nvidia${gpu.minor}`, `195,${gpu.minor}`], ...controls()]));
      expect(hashes(result.stdout).get(ml.path)).toBe(sha256(built.root + ml.path));
    }
  });

  it('an unknown device fails the run with the engine naming it', async () => {
    const result = await run('nvidia.com/gpu=7', 'true');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nvidia\.com\/gpu=7/);
  });
});
