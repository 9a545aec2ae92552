// Only proven NVIDIA device nodes reach a container. Real nodes made with mknod in a built driver
// root, then the roots an attacker would hand over: /dev/mem's numbers (c 1:1) under NVIDIA
// names, with and without proc/devices, a proc/devices that lies, wrong minors, a symlink to the
// host's /dev/mem. The built CLI's docker-args and cdi output are checked with stat(2) of every
// node they name (independent of discovery): each must be 195:* or the dynamic major the root's
// proc/devices gives nvidia-uvm / nvidia-caps, and every refused node is in `rejected` with why.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repo, 'bin', 'nvidia-volume.js');
const built = existsSync(join(repo, 'dist', 'cli', 'nvidia-volume.js'));
const isRoot = process.getuid?.() === 0;

function volume(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return volumeWith({}, ...args);
}

function volumeWith(env: Record<string, string>, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NV_GPU' && k !== 'NVIDIA_VISIBLE_DEVICES'));
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL', env: { ...clean, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// glibc's dev_t split, as in <sys/sysmacros.h>.
const majorOf = (rdev: number): number => Number(((BigInt(rdev) >> 32n) & 0xfffff000n) | ((BigInt(rdev) >> 8n) & 0xfffn));

interface Doc {
  devices: { path: string; major: number; minor: number }[];
  rejected: { path: string; reason: string }[];
  warnings: string[];
  gpus: { devicePath: string | null }[];
}

describeNeeding('only proven NVIDIA device nodes reach a container (built CLI, mknod)', (!built && 'dist/ is not built (npm run build)') || (!isRoot && 'mknod needs root'), () => {
  let root: DriverRoot;
  let procDevices = '';
  beforeAll(async () => {
    root = await buildDriverRoot({ gpus: 1, i386: false });
    procDevices = readFileSync(join(root.root, 'proc/devices'), 'utf8');
  });
  afterAll(async () => {
    await root?.cleanup();
  });

  const host = (inside: string): string => join(root.root, inside);
  const mknod = (inside: string, major: number, minor: number): void => {
    rmSync(host(inside), { force: true });
    execFileSync('mknod', ['-m', '666', host(inside), 'c', String(major), String(minor)]);
  };
  /** Runs `body` with the root changed by `change`, then puts every node and proc/devices back. */
  function withChanges(change: () => void, body: () => void): void {
    try {
      change();
      body();
    } finally {
      writeFileSync(host('proc/devices'), procDevices);
      for (const d of root.devices) mknod(d.path, d.major, d.minor);
    }
  }

  function discover(): Doc {
    const r = volume('discover', '--root', root.root, '--json');
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Doc;
  }

  /** The host paths docker-args and the CDI spec pass; each stat'ed. */
  function passedMajors(): Map<string, number> {
    const passed = new Map<string, number>();
    const args = volume('docker-args', '--root', root.root, '--json');
    expect(args.status, args.stderr).toBe(0);
    for (const device of (JSON.parse(args.stdout) as { Devices: string[] }).Devices) {
      const hostPath = device.split(':')[0]!;
      passed.set(hostPath, majorOf(statSync(hostPath).rdev));
    }
    const cdi = volume('cdi', '--root', root.root);
    expect(cdi.status, cdi.stderr).toBe(0);
    type Edits = { deviceNodes?: { path: string; hostPath?: string }[] } | undefined;
    const spec = JSON.parse(cdi.stdout) as { devices: { containerEdits?: Edits }[]; containerEdits?: Edits };
    for (const edits of [spec.containerEdits, ...spec.devices.map((d) => d.containerEdits)]) {
      for (const node of edits?.deviceNodes ?? []) {
        const hostPath = node.hostPath ?? node.path;
        passed.set(hostPath, majorOf(statSync(hostPath).rdev));
      }
    }
    return passed;
  }

  /** Every passed node is 195:* or the dynamic major the unchanged proc/devices gives its owner. */
  function expectOnlyNvidia(passed: Map<string, number>): void {
    const allowed = new Set([195, root.majors.uvm, root.majors.caps]);
    for (const [path, major] of passed) expect(allowed.has(major), `${path} has major ${major}`).toBe(true);
    expect([...passed.values()]).not.toContain(1);
  }

  it('the built root passes its control nodes, GPU and uvm nodes (the baseline the attacks change)', () => {
    const passed = passedMajors();
    expectOnlyNvidia(passed);
    expect(passed.get(host('/dev/nvidiactl'))).toBe(195);
    expect(passed.get(host('/dev/nvidia-uvm'))).toBe(root.majors.uvm);
    expect(passed.get(host(`/dev/nvidia${root.gpus[0]!.minor}`))).toBe(195);
  });

  it("no proc/devices and dev/nvidia-uvm is c 1:1 (/dev/mem): rejected with the reason and a warning; 195's nodes still pass", () => {
    withChanges(() => {
      rmSync(host('proc/devices'));
      mknod('/dev/nvidia-uvm', 1, 1);
    }, () => {
      const doc = discover();
      expect(doc.devices.map((d) => d.path)).not.toContain('/dev/nvidia-uvm');
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-uvm')?.reason).toBe("c 1:1: major 1 cannot be proven NVIDIA's: nvidia-uvm's major is dynamic and the root has no /proc/devices to tell it");
      expect(doc.warnings.join('\n')).toMatch(/no \/proc\/devices: \d+ nvidia-uvm\/nvidia-caps nodes? left out/);
      // Even a real uvm major is unprovable without proc/devices: the tools node is left out too.
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-uvm-tools')?.reason).toMatch(/cannot be proven/);
      const passed = passedMajors();
      expectOnlyNvidia(passed);
      expect(passed.has(host('/dev/nvidia-uvm'))).toBe(false);
      expect(passed.get(host('/dev/nvidiactl'))).toBe(195);
    });
  });

  it('a proc/devices that names major 1 nvidia-uvm is not believed: 1 is no dynamic major', () => {
    withChanges(() => {
      writeFileSync(host('proc/devices'), procDevices.replace(`${root.majors.uvm} nvidia-uvm`, '1 nvidia-uvm'));
      mknod('/dev/nvidia-uvm', 1, 1);
    }, () => {
      const doc = discover();
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-uvm')?.reason).toMatch(/^c 1:1: major 1 is not a dynamic major/);
      expectOnlyNvidia(passedMajors());
    });
  });

  it("a dynamic major that proc/devices also gives another driver is not nvidia-uvm's", () => {
    withChanges(() => {
      writeFileSync(host('proc/devices'), procDevices.replace('Character devices:\n', `Character devices:\n${root.majors.uvm} hidraw\n`));
    }, () => {
      const doc = discover();
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-uvm')?.reason).toMatch(new RegExp(`major ${root.majors.uvm} is also listed for hidraw`));
      expect(passedMajors().has(host('/dev/nvidia-uvm'))).toBe(false);
    });
  });

  it('a GPU node with /dev/mem\'s numbers is neither the GPU\'s node nor passed (docker-args, CDI)', () => {
    const gpu = root.devices.find((d) => /\/nvidia\d+$/.test(d.path))!;
    withChanges(() => mknod(gpu.path, 1, 1), () => {
      const doc = discover();
      expect(doc.rejected.find((r) => r.path === gpu.path)?.reason).toMatch(/^c 1:1: major 1 is not NVIDIA's/);
      expect(doc.gpus.map((g) => g.devicePath)).not.toContain(gpu.path);
      const passed = passedMajors();
      expectOnlyNvidia(passed);
      expect(passed.has(host(gpu.path))).toBe(false);
      // Asked for by index, it is refused with the reason, not guessed.
      const r = volumeWith({ NV_GPU: '0' }, 'docker-args', '--root', root.root);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`nvidia-volume: GPU 0 (${root.gpus[0]!.busId}): ${gpu.path} is not a proven NVIDIA device node (c 1:1: major 1 is not NVIDIA's (${gpu.path} must be 195:*, the major devices.txt assigns to NVIDIA)); refusing to pass it`);
    });
  });

  it('wrong minors under 195 (nvidiactl 195:0, nvidia-modeset 195:1) are rejected', () => {
    withChanges(() => {
      mknod('/dev/nvidiactl', 195, 0);
      mknod('/dev/nvidia-modeset', 195, 1);
    }, () => {
      const doc = discover();
      expect(doc.rejected.find((r) => r.path === '/dev/nvidiactl')?.reason).toBe('c 195:0: minor 0 is not the minor of /dev/nvidiactl (255)');
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-modeset')?.reason).toBe('c 195:1: minor 1 is not the minor of /dev/nvidia-modeset (254)');
      expect(passedMajors().has(host('/dev/nvidiactl'))).toBe(false);
    });
  });

  it("a symlink to a host device of /dev/mem's major (/dev/null, 1:3) is no character device of the root: rejected", () => {
    withChanges(() => {
      rmSync(host('/dev/nvidia-uvm'));
      symlinkSync('/dev/null', host('/dev/nvidia-uvm'));
    }, () => {
      const doc = discover();
      expect(doc.rejected.find((r) => r.path === '/dev/nvidia-uvm')?.reason).toBe('not a character device');
      expect(passedMajors().has(host('/dev/nvidia-uvm'))).toBe(false);
    });
  });
});

