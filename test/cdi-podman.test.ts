// A real engine takes the generated spec: Debian 12's Podman 4.3 runs a busybox container with
// `--device nvidia.com/gpu=all` / `=0` / `=<UUID>` against a Debian-shaped driver root, and the
// container sees the device nodes, the driver's files (same bytes, read-only) and the soname links.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CdiSpec } from '../src/core/cdi-types.js';
import { validateCdiSpec } from '../src/core/cdi-validate.js';
import { toYaml } from '../src/core/cdi-yaml.js';
import { generateCdiSpec } from '../src/node/cdi.js';
import { allMounts, expectedMounts, gpusByIndex, TRIPLET } from './helpers/cdi-expect.js';
import { charDevices, hashes } from './helpers/container-output.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { addGlibc, createPodmanHarness, podmanSkipReason, type PodmanHarness } from './helpers/podman.js';
import { describeNeeding, need } from './helpers/requirements.js';

// Locally a skip with the reason; on CI (an unprivileged container, say) a failure.
const skipReason = podmanSkipReason();

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describeNeeding('CDI spec in Podman 4.3 (real engine)', skipReason, () => {
  let built: DriverRoot;
  let podman: PodmanHarness;
  let spec: CdiSpec;

  beforeAll(async () => {
    [built, podman] = await Promise.all([buildDriverRoot({ gpus: 2 }), createPodmanHarness()]);
    if (!built.devicesCreated) throw new Error(`mknod refused as root: ${built.devicesSkipReason}`);
    ({ spec } = await generateCdiSpec({ root: built.root }));
    expect(validateCdiSpec(spec).problems).toEqual([]);
    expect(spec.cdiVersion).toBe('0.5.0');
    await writeFile(join(podman.specDir, 'nvidia.json'), JSON.stringify(spec, null, 2));
  });
  afterAll(async () => {
    await podman?.cleanup();
    await built?.cleanup();
  });

  const nodeListing = 'ls -l /dev/nvidia* /dev/nvidia-caps/* 2>/dev/null; true';

  it('--device nvidia.com/gpu=all: every GPU node and control node, the files with their bytes, read-only, and the soname links', async () => {
    const want = expectedMounts(built);
    // Soname links also in the multiarch directory, where the linker looks by default.
    for (const lib of built.libraries) want.set(`/usr/lib/${TRIPLET[lib.abi]}/${lib.soname}`, lib.path);
    const paths = [...want.keys()];
    const cuda = built.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!;
    const cudaLink = `${cuda.path.slice(0, cuda.path.lastIndexOf('/'))}/libcuda.so.1`;
    const script = [
      nodeListing,
      `sha256sum ${paths.join(' ')}`,
      `ls -l ${cudaLink}`,
      `if echo x > ${cuda.path}; then echo WRITE-OK; else echo WRITE-REFUSED; fi 2>&1`,
      `grep ' ${cuda.path} ' /proc/mounts`,
      `ls -l ${built.ipc.map((i) => i.path).join(' ')}`,
      'env',
    ].join('; ');
    const result = await podman.run({ devices: ['nvidia.com/gpu=all'], script });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const nodes = charDevices(result.stdout);
    const wantNodes = new Map(
      built.devices.filter((d) => !d.path.startsWith('/dev/nvidia-caps/')).map((d) => [d.path, `${d.major},${d.minor}`]),
    );
    expect(nodes).toEqual(wantNodes);

    const seen = hashes(result.stdout);
    for (const [containerPath, realPath] of want) {
      expect(seen.get(containerPath), containerPath).toBe(sha256(built.root + realPath));
    }
    expect(result.stdout).toMatch(new RegExp(`^-r[-w]x.* ${cudaLink.replace(/\./g, '\\.')}$`, 'm'));
    expect(result.stdout).toContain('WRITE-REFUSED');
    expect(result.stdout).not.toContain('WRITE-OK');
    expect(result.stdout).toMatch(new RegExp(` ${cuda.path.replace(/\./g, '\\.')} \\S+ ro,`));
    expect(result.stdout).toMatch(/^s.* \/run\/nvidia-persistenced\/socket$/m);
    expect(result.stdout).toMatch(/^NVIDIA_VISIBLE_DEVICES=void$/m);
  });

  it('--device nvidia.com/gpu=0 and =<UUID>: only that GPU node, plus the control nodes', async () => {
    const gpus = gpusByIndex(built);
    const controls = built.devices.filter((d) => !/^\/dev\/nvidia\d+$/.test(d.path) && !d.path.startsWith('/dev/nvidia-caps/'));
    for (const [index, gpu] of gpus.entries()) {
      for (const device of [`nvidia.com/gpu=${index}`, `nvidia.com/gpu=${gpu.uuid}`]) {
        const result = await podman.run({ devices: [device], script: nodeListing });
        expect(result.code, `${device}: ${result.stderr}`).toBe(0);
        const want = new Map([[`/dev/nvidia${gpu.minor}`, `195,${gpu.minor}`], ...controls.map((d): [string, string] => [d.path, `${d.major},${d.minor}`])]);
        expect(charDevices(result.stdout), device).toEqual(want);
      }
    }
  });

  it('a program linked against libcuda.so.1 loads it in the container with no ld.so.cache and no hook', async (ctx) => {
    // The container gets this machine's x86-64 glibc (loader and libc at Debian's paths).
    need(ctx, process.arch !== 'x64' && `the container borrows an x86-64 glibc; this machine is ${process.arch}`);
    expect(await addGlibc(podman.rootfs), 'x86-64 Debian glibc at /lib64/ld-linux-x86-64.so.2 and /lib/x86_64-linux-gnu/libc.so.6').toBe(true);
    const cuda = built.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!;
    const source = join(podman.rootfs, 'tmp', 'uses-cuda.c');
    await writeFile(source, 'int nv_stub_entry(void);\nint main(void) { return nv_stub_entry() == 0 ? 7 : 1; }\n');
    // Linked against the driver file: DT_NEEDED is its soname, libcuda.so.1, looked up at run time.
    execFileSync('gcc', ['-o', join(podman.rootfs, 'bin', 'uses-cuda'), source, built.root + cuda.path]);
    const needed = execFileSync('readelf', ['-d', join(podman.rootfs, 'bin', 'uses-cuda')], { encoding: 'utf8' });
    expect(needed).toMatch(/\(NEEDED\)\s+Shared library: \[libcuda\.so\.1\]/);
    const result = await podman.run({ devices: ['nvidia.com/gpu=0'], script: 'test ! -e /etc/ld.so.cache && echo no-cache; uses-cuda; echo "exit=$?"' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('no-cache\nexit=7\n');
    // Without the device the library is not there: the spec, not the image, provided it.
    const without = await podman.run({ devices: [], script: 'uses-cuda; echo "exit=$?"' });
    expect(without.stdout).toMatch(/exit=127/);
  });

  it('reads the same spec written as YAML', async () => {
    await rm(join(podman.specDir, 'nvidia.json'));
    await writeFile(join(podman.specDir, 'nvidia.yaml'), toYaml(spec));
    try {
      const gpu = gpusByIndex(built)[1]!;
      const lib = allMounts(spec).find((m) => m.containerPath.endsWith('/libnvidia-ml.so.1'))!;
      const result = await podman.run({ devices: ['nvidia.com/gpu=1'], script: `${nodeListing}; sha256sum ${lib.containerPath}` });
      expect(result.code, result.stderr).toBe(0);
      expect(charDevices(result.stdout).get(`/dev/nvidia${gpu.minor}`)).toBe(`195,${gpu.minor}`);
      expect(charDevices(result.stdout).has('/dev/nvidia0')).toBe(gpu.minor === 0);
      expect(hashes(result.stdout).get(lib.containerPath)).toBe(sha256(lib.hostPath));
    } finally {
      await rm(join(podman.specDir, 'nvidia.yaml'), { force: true });
      await writeFile(join(podman.specDir, 'nvidia.json'), JSON.stringify(spec, null, 2));
    }
  });

  it('rejects a spec with a field newer than it declares, as the validator predicts', async () => {
    const bad = { ...spec, annotations: { 'example.com/x': 'y' } };
    expect(validateCdiSpec(bad).problems.map((p) => p.where)).toEqual(['annotations']);
    await writeFile(join(podman.specDir, 'nvidia.json'), JSON.stringify(bad));
    try {
      const result = await podman.run({ devices: ['nvidia.com/gpu=all'], script: 'true' });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/unresolvable CDI devices/);
    } finally {
      await writeFile(join(podman.specDir, 'nvidia.json'), JSON.stringify(spec, null, 2));
    }
  });
});
