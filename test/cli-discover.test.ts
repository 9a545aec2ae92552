// `nvidia-volume discover` as a user runs it (the built bin/ script in a child process).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDriver } from '../src/node/discover.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';

const bin = fileURLToPath(new URL('../bin/nvidia-volume.js', import.meta.url));
const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const result = spawnSync(process.execPath, [bin, 'discover', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

let built: DriverRoot;
let empty: string;

beforeAll(async () => {
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
  built = await buildDriverRoot({ strays: '470.256.02' });
  empty = mkdtempSync(join(tmpdir(), 'cli-discover-empty-'));
});
afterAll(async () => {
  await built?.cleanup();
  rmSync(empty, { recursive: true, force: true });
});

describe('nvidia-volume discover', () => {
  it('prints a readable report of the root', () => {
    const { status, stdout, stderr } = cli('--root', built.root);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain(`NVIDIA driver ${built.version} (from /proc/driver/nvidia/version) in ${built.root}`);
    expect(stdout).toContain(`Libraries: ${built.libraries.length} (from ld.so.cache; ABIs x86-64, i386)`);
    expect(stdout).toContain(`GPUs: ${built.gpus.length}`);
    for (const gpu of built.gpus) expect(stdout).toContain(gpu.uuid);
    expect(stdout).toContain(`Binaries: ${built.binaries.length}`);
    expect(stdout).toContain('nvidia-smi  /usr/bin/nvidia-smi -> /usr/lib/nvidia/current/nvidia-smi');
    expect(stdout).toMatch(/Rejected: \d+\n.*version 470\.256\.02 is not the driver version 535\.261\.03/);
    const bits64 = built.libraries.filter((l) => l.bits === 64).length;
    const line = /64-bit \(x86-64\): (.*)/.exec(stdout)![1]!;
    expect([...line.matchAll(/ (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)).toBe(bits64);
    if (built.devicesCreated) expect(stdout).toContain('/dev/nvidiactl  c 195:255  0666  control');
  });

  it('prints the DriverDiscovery object with --json', async () => {
    const { status, stdout } = cli('--root', built.root, '--json');
    expect(status).toBe(0);
    const printed = JSON.parse(stdout);
    const discovery = discoverDriver({ root: built.root });
    // Device modes are octal strings in JSON (`"0666"`); everything else is the object as is.
    const devices = discovery.devices.map((d) => ({ ...d, mode: `0${(d.mode & 0o777).toString(8)}` }));
    // The library's discovery reads nothing outside the root; the CLI adds this machine's CPU.
    expect(discovery.cpu).toBeUndefined();
    const { cpu, ...rest } = printed;
    expect(rest).toEqual(JSON.parse(JSON.stringify({ ...discovery, devices })));
    expect(printed.libraries.map((l: { path: string }) => l.path).sort()).toEqual(built.libraries.map((l) => l.path).sort());
    // The CPU as this machine's own glibc loader sees it (`ld.so --help`, glibc 2.33-2.36): the
    // highest x86-64-vN it searches, and the legacy platform and hwcap subdirectories.
    const help = spawnSync('/lib64/ld-linux-x86-64.so.2', ['--help'], { encoding: 'utf8' }).stdout;
    const levels = [...help.matchAll(/^ {2}x86-64-v(\d) \(supported, searched\)$/gm)].map((m) => Number(m[1]));
    expect(cpu.isaLevel).toBe(Math.max(1, ...levels));
    const legacy = help.slice(help.indexOf('Legacy HWCAP'));
    expect(legacy).toContain(`  ${cpu.platform} (AT_PLATFORM; supported, searched)`);
    for (const hwcap of cpu.hwcaps) expect(legacy).toContain(`  ${hwcap} (supported, searched)`);
  });

  it('lists every library with --verbose', () => {
    const { stdout } = cli('--root', built.root, '-v');
    for (const library of built.libraries) expect(stdout).toContain(`    ${library.path}  [${library.soname}]`);
    expect(stdout).not.toContain('more (--verbose lists them)');
  });

  it('exits 1 with one line when there is no driver', () => {
    const { status, stdout, stderr } = cli('--root', empty);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^nvidia-volume: no NVIDIA driver found in ${empty}: .+\\n$`));
  });

  it('names both versions when the kernel module and the libraries disagree', async () => {
    const mismatched = await buildDriverRoot({ kernelVersion: '550.127.05', i386: false, devices: false, mesaLibGL: false });
    try {
      const { status, stderr } = cli('--root', mismatched.root);
      expect(status).toBe(1);
      expect(stderr).toMatch(new RegExp(`^nvidia-volume: no NVIDIA driver found in .*: Driver/library version mismatch: .*550\\.127\\.05.*${mismatched.version.replace(/\./g, '\\.')}.*\n$`));
    } finally {
      await mismatched.cleanup();
    }
  });

  it('exits 1 with one line for a root that does not exist, 2 for bad usage', () => {
    const missing = cli('--root', join(empty, 'missing'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^nvidia-volume: .*missing: cannot use as a root: no such directory\n$/);
    const usage = cli('--no-such-option');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("nvidia-volume: unknown option '--no-such-option' (known: --root, --json, --verbose, -v, --help, -h)\n");
    expect(usage.stderr).not.toMatch(/\n\s+at /);
  });
});
