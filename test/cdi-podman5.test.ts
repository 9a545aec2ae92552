// Podman 5 (Debian 13's podman, with crun, its default runtime, and with runc; run from a trixie
// chroot: helpers/podman5.ts) reads the
// spec that `nvidia-volume cdi --output` writes into its default /etc/cdi (YAML, as an operator
// would) and runs busybox with `--device nvidia.com/gpu=all`, `=0` and `=1` against a
// Debian-shaped driver root: the container sees exactly the expected device nodes and the
// driver's files with their bytes, read-only.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allGpusView, oneGpuViews } from './helpers/cdi-container-view.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { createPodmanHarness, type PodmanHarness } from './helpers/podman.js';
import { ensurePodman5, podman5SkipReason } from './helpers/podman5.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
// On CI (root, Debian 12, the Debian mirror reachable) the engine must run: a reason is a failure
// there (describeNeeding), a skip with the reason elsewhere.
const skipReason = await podman5SkipReason();

for (const runtime of ['crun', 'runc'] as const) {
describeNeeding(`CDI spec in Podman 5 with ${runtime} (real engine, Debian 13 chroot)`, skipReason, () => {
  let built: DriverRoot;
  let podman: PodmanHarness;

  beforeAll(async () => {
    const chroot = await ensurePodman5();
    [built, podman] = await Promise.all([buildDriverRoot({ gpus: 2 }), createPodmanHarness({ chroot, runtime })]);
    if (!built.devicesCreated) throw new Error(`mknod refused as root: ${built.devicesSkipReason}`);
    // The operator's command; the harness binds this directory at the chroot's /etc/cdi.
    execFileSync(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'cdi', '--root', built.root, '--output', join(podman.specDir, 'nvidia.yaml')]);
  }, 900_000);
  afterAll(async () => {
    await podman?.cleanup();
    await built?.cleanup();
  });

  it(`is Podman 5, running containers with ${runtime}`, async () => {
    const result = await podman.podman(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^podman version 5\.\d+/m);
    const info = await podman.podman(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout.trim()).toMatch(new RegExp(`^${runtime} \\S*/${runtime}$`));
  });

  it('--device nvidia.com/gpu=all: every GPU node and control node, every driver file with its bytes, read-only', async () => {
    const view = allGpusView(built);
    const result = await podman.run({ devices: ['nvidia.com/gpu=all'], script: view.script });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    view.check(result.stdout);
  });

  it('--device nvidia.com/gpu=0 and =1: only that GPU node plus the control nodes, and the libraries', async () => {
    for (const view of oneGpuViews(built)) {
      const result = await podman.run({ devices: [view.device], script: view.script });
      expect(result.code, result.stderr).toBe(0);
      view.check(result.stdout);
    }
  });

  it('an unknown device fails the run with the engine naming it', async () => {
    const result = await podman.run({ devices: ['nvidia.com/gpu=7'], script: 'true' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nvidia\.com\/gpu=7/);
  });
});
}
