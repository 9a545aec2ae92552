// Docker Engine 26.1 (Debian 13's docker.io + containerd 1.7, Debian 12's runc; see
// helpers/docker26.ts) with `"features": {"cdi": true}` reads the spec that `nvidia-volume cdi
// --output` writes (YAML, as an operator would) and runs busybox with `--device nvidia.com/gpu=0`
// and `=all` against a Debian-shaped driver root: the container sees exactly the expected device
// nodes and the driver's files with their bytes, read-only.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allGpusView, oneGpuViews } from './helpers/cdi-container-view.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { IMAGE, type PrivateDockerd } from './helpers/dockerd.js';
import { docker26SkipReason, startDocker26 } from './helpers/docker26.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
// On CI (root, Debian 12, network to the Debian mirror) the engine must run: a reason is a failure
// there (describeNeeding), a skip with the reason elsewhere.
const skipReason = await docker26SkipReason();

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

  it('the daemon runs with CDI on and our spec directory', async () => {
    const info = await docker.docker(['info', '--format', '{{json .CDISpecDirs}}']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toEqual([specDir]);
  });

  it('--device nvidia.com/gpu=all: every GPU node and control node, every driver file with its bytes, read-only', async () => {
    const view = allGpusView(built);
    const result = await run('nvidia.com/gpu=all', view.script);
    expect(result.code, result.stderr).toBe(0);
    view.check(result.stdout);
  });

  it('--device nvidia.com/gpu=0 and =1: only that GPU node plus the control nodes, and the libraries', async () => {
    for (const view of oneGpuViews(built)) {
      const result = await run(view.device, view.script);
      expect(result.code, result.stderr).toBe(0);
      view.check(result.stdout);
    }
  });

  it('an unknown device fails the run with the engine naming it', async () => {
    const result = await run('nvidia.com/gpu=7', 'true');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nvidia\.com\/gpu=7/);
  });
});
