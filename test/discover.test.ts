// Driver discovery on Debian-shaped driver roots built with gcc, the real ldconfig and mknod
// (test/helpers/driver-root.ts). Expectations come from what the builder made.
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDriver, hostPath } from '../src/node/discover.js';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { need } from './helpers/requirements.js';

const STRAYS = '470.256.02';
let main: DriverRoot;
let found: DriverDiscovery;
const cleanups: (() => Promise<void>)[] = [];

async function build(options: Parameters<typeof buildDriverRoot>[0]): Promise<DriverRoot> {
  const built = await buildDriverRoot(options);
  cleanups.push(built.cleanup);
  return built;
}

const sorted = <T>(items: T[]): T[] => [...items].sort();

beforeAll(async () => {
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
  main = await build({ strays: STRAYS, badTls: true });
  found = discoverDriver({ root: main.root });
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('a Debian 535 root with 470 strays', () => {
  it('takes the version from the kernel module', () => {
    expect(found.driverVersion).toBe(main.version);
    expect(found.versionSource).toBe('proc');
    expect(found.librarySource).toBe('cache');
    expect(found.abis).toEqual(['x86-64', 'i386']);
    expect(found.warnings).toEqual([]);
  });

  it('selects exactly the driver libraries, as real files inside the root', () => {
    expect(sorted(found.libraries.map((l) => l.path))).toEqual(sorted(main.libraries.map((l) => l.path)));
    for (const built of main.libraries) {
      const library = found.libraries.find((l) => l.path === built.path)!;
      expect(library.soname).toBe(built.soname);
      expect(library.bits).toBe(built.bits);
      expect(library.arch).toBe(built.abi);
      expect(library.name).toBe(built.name);
      expect(lstatSync(hostPath(main.root, library.path)).isFile()).toBe(true);
    }
    // One file per real path, and per basename and ABI.
    expect(new Set(found.libraries.map((l) => l.path)).size).toBe(found.libraries.length);
    const cuda = found.libraries.find((l) => l.name === `libcuda.so.${main.version}` && l.bits === 64)!;
    expect(cuda.category).toBe('compute');
    expect(cuda.cachePath).toMatch(/^\/lib\/x86_64-linux-gnu\/libcuda\.so(\.1)?$/);
    // Found beside the cached files, not in the cache.
    const vdpau = found.libraries.filter((l) => l.name.startsWith('libvdpau_nvidia'));
    expect(vdpau.length).toBe(2);
    expect(vdpau.every((l) => l.cacheName === null && l.category === 'video')).toBe(true);
  });

  it('rejects strays, other vendors and the wrong TLS ABI, saying why', () => {
    for (const stray of main.strayFiles) {
      expect(found.libraries.some((l) => l.path === stray.path)).toBe(false);
      if (stray.path.includes('libGLX.so')) continue; // libGLX is no candidate at all
      const reasons = found.rejected.filter((r) => r.path === stray.path).map((r) => r.reason);
      expect(reasons.length, stray.path).toBeGreaterThan(0);
      const expected = { 'other-version': /470\.256\.02/, blacklisted: /another vendor|kernel ABI 2\.2\.5/, 'glvnd-loader': /vendor-neutral/ }[stray.why];
      for (const reason of reasons) expect(reason).toMatch(expected);
    }
    expect(found.rejected.find((r) => r.path === '/usr/local/lib/libGL.so.1.2.0')?.reason).toMatch(/DT_NEEDED has neither/);
  });

  it('finds binaries through absolute alternatives links, inside the root', () => {
    expect(sorted(found.binaries.map((b) => `${b.name} ${b.path}`))).toEqual(sorted(main.binaries.map((b) => `${b.name} ${b.path}`)));
    expect(found.binaries.find((b) => b.name === 'nvidia-smi')?.linkPath).toBe('/usr/bin/nvidia-smi');
  });

  it('finds the firmware of the driver version only, and the IPC endpoints', () => {
    expect(sorted(found.firmware.map((f) => f.path))).toEqual(sorted(main.firmware));
    expect(found.firmware.some((f) => f.path.includes(STRAYS))).toBe(false);
    expect(sorted(found.ipc.map((i) => `${i.kind} ${i.path}`))).toEqual(sorted(main.ipc.map((i) => `${i.kind} ${i.path}`)));
  });

  it('reads GPUs from proc and device nodes with their majors', (context) => {
    expect(found.gpus.map((g) => ({ busId: g.busId, model: g.model, uuid: g.uuid, minor: g.minor }))).toEqual(main.gpus);
    need(context, !main.devicesCreated && `no device nodes: ${main.devicesSkipReason}`);
    expect(found.gpus.map((g) => g.devicePath)).toEqual(main.gpus.map((g) => `/dev/nvidia${g.minor}`));
    expect(sorted(found.devices.map((d) => `${d.path} ${d.major}:${d.minor}`))).toEqual(sorted(main.devices.map((d) => `${d.path} ${d.major}:${d.minor}`)));
    const caps = found.devices.find((d) => d.path === '/dev/nvidia-caps/nvidia-cap1')!;
    expect(caps.kind).toBe('caps');
    expect(caps.mode & 0o777).toBe(0o400);
  });
});

describe('other roots', () => {
  it('without cache or proc: scans library directories, versions from libcuda names', async () => {
    const built = await build({ cache: false, proc: false, devices: false, mesaLibGL: false });
    const d = discoverDriver({ root: built.root });
    expect(d.librarySource).toBe('directories');
    expect(d.versionSource).toBe('libraries');
    expect(d.driverVersion).toBe(built.version);
    expect(d.warnings.join('\n')).toMatch(/no \/etc\/ld\.so\.cache/);
    expect(sorted(d.libraries.map((l) => l.path))).toEqual(sorted(built.libraries.map((l) => l.path)));
    expect(d.gpus).toEqual([]);
  });

  it('warns when the kernel module and the libraries disagree; reads the open module format', async () => {
    const built = await build({ kernelVersion: '550.127.05', proc: 'open', i386: false, devices: false, mesaLibGL: false });
    const d = discoverDriver({ root: built.root });
    expect(d.driverVersion).toBe('550.127.05');
    expect(d.warnings.join('\n')).toMatch(new RegExp(`Driver/library version mismatch.*550\\.127\\.05.*${built.version.replace(/\./g, '\\.')}`));
    // The libraries of another version than the module's are all strays.
    expect(d.libraries.filter((l) => l.name.endsWith(built.version))).toEqual([]);
  });

  it('survives hostile files in the root: links out, loops, truncated and non-ELF libraries', async () => {
    const built = await build({ i386: false, devices: false, mesaLibGL: false, strays: undefined });
    const dir = '/usr/lib/x86_64-linux-gnu/nvidia/current';
    const file = (name: string): string => hostPath(built.root, `${dir}/${name}.so.${built.version}`);
    rmSync(file('libcuda'));
    symlinkSync('/etc/passwd', file('libcuda'));
    rmSync(file('libnvidia-ml'));
    symlinkSync(`libnvidia-ml.so.${built.version}`, file('libnvidia-ml'));
    truncateSync(file('libnvidia-encode'), 100);
    writeFileSync(file('libnvcuvid'), '#!/bin/sh\n');
    chmodSync(file('libnvidia-cfg'), 0o000);
    // A second, different copy of a driver file under the same name for the same ABI.
    const glcore = `libnvidia-glcore.so.${built.version}`;
    mkdirSync(hostPath(built.root, '/usr/local/lib'), { recursive: true });
    writeFileSync(hostPath(built.root, `/usr/local/lib/${glcore}`), Buffer.concat([readFileSync(hostPath(built.root, `/usr/lib/x86_64-linux-gnu/${glcore}`)), Buffer.from('copy')]));
    execFileSync('ldconfig', ['-X', '-r', built.root], { stdio: 'ignore' });
    rmSync(hostPath(built.root, '/usr/bin/nvidia-persistenced'));
    symlinkSync('../../usr/bin/nvidia-persistenced', hostPath(built.root, '/usr/bin/nvidia-persistenced'));
    const d = discoverDriver({ root: built.root });
    const reason = (name: string): string => d.rejected.filter((r) => r.path.includes(name) || r.cachePath.includes(name)).map((r) => r.reason).join('\n');
    expect(reason('libcuda')).toMatch(/no such file/);
    expect(reason('libnvidia-ml')).toMatch(/too many levels of symbolic links/);
    expect(reason('libnvidia-encode')).toMatch(/truncated.*\(at byte \d+\)/);
    expect(reason('libnvcuvid')).toMatch(/not an ELF file/);
    expect(d.libraries.some((l) => /^(libcuda|libnvidia-ml|libnvidia-encode|libnvcuvid)\.so/.test(l.name))).toBe(false);
    expect(d.libraries.length).toBeGreaterThan(10);
    expect(d.binaries.some((b) => b.name === 'nvidia-persistenced')).toBe(false);
    const copies = d.libraries.filter((l) => l.name === glcore);
    expect(copies.length).toBe(1);
    const other = ['/usr/local/lib', '/usr/lib/x86_64-linux-gnu'].map((dir) => `${dir}/${glcore}`).find((p) => p !== copies[0]!.path)!;
    expect(d.rejected.find((r) => r.path === other)?.reason).toMatch(new RegExp(`conflicts with ${copies[0]!.path}: two different files named`));
    expect(d.warnings.some((w) => w.startsWith(`${other} conflicts with`))).toBe(true);
    expect(d.warnings.join('\n')).toMatch(/nvidia-persistenced: too many levels/);
    // Root can read a mode-000 file; others get a clear rejection.
    if (process.getuid?.() !== 0) expect(reason('libnvidia-cfg')).toMatch(/cannot open/);
  });

  it('reports a device node whose major disagrees with /proc/devices', async (context) => {
    const built = await build({ i386: false, mesaLibGL: false, gpus: 1 });
    need(context, !built.devicesCreated && `no device nodes: ${built.devicesSkipReason}`);
    rmSync(hostPath(built.root, '/dev/nvidia-uvm'));
    execFileSync('mknod', [hostPath(built.root, '/dev/nvidia-uvm'), 'c', '10', '200']);
    writeFileSync(hostPath(built.root, '/dev/nvidia5'), 'not a device');
    const d = discoverDriver({ root: built.root });
    expect(d.devices.some((x) => x.path === '/dev/nvidia-uvm')).toBe(false);
    expect(d.devices.some((x) => x.path === '/dev/nvidia5')).toBe(false);
    expect(d.warnings.join('\n')).toMatch(/\/dev\/nvidia-uvm \(c 10:200\) left out: major 10 is not nvidia-uvm's \(\/proc\/devices says 235\)/);
    expect(d.rejected.find((r) => r.path === '/dev/nvidia-uvm')?.reason).toBe("c 10:200: major 10 is not nvidia-uvm's (/proc/devices says 235)");
    expect(d.warnings.join('\n')).toMatch(/\/dev\/nvidia5 is not a character device/);
  });

  it('finds nothing in an empty root', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'empty-root-'));
    cleanups.push(async () => rmSync(empty, { recursive: true, force: true }));
    const d = discoverDriver({ root: empty });
    expect(d).toMatchObject({ driverVersion: null, versionSource: null, libraries: [], binaries: [], devices: [], gpus: [], firmware: [] });
  });
});
