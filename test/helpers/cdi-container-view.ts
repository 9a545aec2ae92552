// What a container started with `--device nvidia.com/gpu=…` from our CDI spec must see, for
// every engine (Docker 26, Podman 5): the scripts to run in it and the checks of their output,
// judged against the driver root on disk (device numbers, file bytes), never the generator.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { expectedMounts, gpusByIndex, TRIPLET } from './cdi-expect.js';
import { charDevices, hashes } from './container-output.js';
import type { DriverRoot } from './driver-root.js';

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const NODE_LISTING = 'ls -l /dev/nvidia* /dev/nvidia-caps/* 2>/dev/null; true';

/** The control nodes (nvidiactl, uvm, modeset, …): every node but the GPUs' and the caps'. */
function controls(built: DriverRoot): [string, string][] {
  return built.devices
    .filter((d) => !/^\/dev\/nvidia\d+$/.test(d.path) && !d.path.startsWith('/dev/nvidia-caps/'))
    .map((d) => [d.path, `${d.major},${d.minor}`]);
}

/**
 * For `nvidia.com/gpu=all`: the script, and the check of its output (every GPU and control node
 * with its numbers, every driver file with its bytes, libcuda mounted read-only and unwritable).
 */
export function allGpusView(built: DriverRoot): { script: string; check(stdout: string): void } {
  const want = expectedMounts(built);
  for (const lib of built.libraries) want.set(`/usr/lib/${TRIPLET[lib.abi]}/${lib.soname}`, lib.path);
  const cuda = built.libraries.find((l) => l.name.startsWith('libcuda.so.') && l.bits === 64)!;
  const script = [
    NODE_LISTING,
    `sha256sum ${[...want.keys()].join(' ')}`,
    `if echo x > ${cuda.path}; then echo WRITE-OK; else echo WRITE-REFUSED; fi 2>&1`,
    `grep ' ${cuda.path} ' /proc/mounts`,
  ].join('; ');
  const check = (stdout: string): void => {
    const wantNodes = new Map(
      built.devices.filter((d) => !d.path.startsWith('/dev/nvidia-caps/')).map((d) => [d.path, `${d.major},${d.minor}`]),
    );
    expect(charDevices(stdout)).toEqual(wantNodes);
    const seen = hashes(stdout);
    for (const [containerPath, realPath] of want) expect(seen.get(containerPath), containerPath).toBe(sha256(built.root + realPath));
    expect(stdout).toContain('WRITE-REFUSED');
    expect(stdout).not.toContain('WRITE-OK');
    expect(stdout).toMatch(new RegExp(` ${cuda.path.replace(/\./g, '\\.')} \\S+ ro,`));
  };
  return { script, check };
}

/**
 * For `nvidia.com/gpu=INDEX`, one per GPU: the device, the script, and the check of its output
 * (only that GPU's node plus the control nodes, and libnvidia-ml with its bytes).
 */
export function oneGpuViews(built: DriverRoot): { device: string; script: string; check(stdout: string): void }[] {
  const ml = built.libraries.find((l) => l.name.startsWith('libnvidia-ml.so.') && l.bits === 64)!;
  return gpusByIndex(built).map((gpu, index) => ({
    device: `nvidia.com/gpu=${index}`,
    script: `${NODE_LISTING}; sha256sum ${ml.path}`,
    check(stdout: string): void {
      expect(charDevices(stdout), `gpu=${index}`).toEqual(new Map([[`/dev/nvidia${gpu.minor}`, `195,${gpu.minor}`], ...controls(built)]));
      expect(hashes(stdout).get(ml.path)).toBe(sha256(built.root + ml.path));
    },
  }));
}
