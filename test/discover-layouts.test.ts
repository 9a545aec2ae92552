// Driver discovery on the layouts of real installs besides Debian's packages
// (test/helpers/driver-layouts.ts): NVIDIA's .run installer / RHEL-Fedora, Ubuntu's packages, a
// driver root mounted elsewhere with absolute links, and an older driver's leftovers. Expectations
// come from what the builder made, never from discovery's output.
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDriver, hostPath } from '../src/node/discover.js';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { buildLayoutRoot, type LayoutOptions, type LayoutRoot } from './helpers/driver-layouts.js';

const sorted = <T>(items: T[]): T[] => [...items].sort();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function build(options: LayoutOptions): Promise<LayoutRoot> {
  const built = await buildLayoutRoot(options);
  cleanups.push(built.cleanup);
  return built;
}

/** The checks every layout must pass: exactly the built files, each rejection for its reason. */
function expectExact(found: DriverDiscovery, built: LayoutRoot, warnings: string[] = []): void {
  expect(found.librarySource).toBe('cache');
  expect(found.abis).toEqual(['x86-64', 'i386']);
  const describeLib = (l: { bits: number; path: string }): string => `${l.bits} ${l.path}`;
  expect(sorted(found.libraries.map(describeLib))).toEqual(sorted(built.libraries.map(describeLib)));
  for (const want of built.libraries) {
    const got = found.libraries.find((l) => l.path === want.path)!;
    expect(got.arch, want.path).toBe(want.abi);
    expect(got.soname, want.path).toBe(want.soname);
    expect(got.name).toBe(want.name);
    expect(lstatSync(hostPath(built.root, got.path)).isFile()).toBe(true);
  }
  for (const path of built.ignored) expect(found.libraries.some((l) => l.path === path), path).toBe(false);
  for (const stray of built.rejected) {
    expect(found.libraries.some((l) => l.path === stray.path), stray.path).toBe(false);
    const reasons = found.rejected.filter((r) => r.path === stray.path).map((r) => r.reason);
    expect(reasons.length, stray.path).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason, stray.path).toMatch(stray.reason);
  }
  // Nothing else rejected: every driver file of the current version passed.
  expect(sorted([...new Set(found.rejected.map((r) => r.path))])).toEqual(sorted(built.rejected.map((r) => r.path)));
  expect(sorted(found.binaries.map((b) => `${b.name} ${b.path}`))).toEqual(sorted(built.binaries.map((b) => `${b.name} ${b.path}`)));
  expect(sorted(found.firmware.map((f) => f.path))).toEqual(sorted(built.firmware));
  expect(found.gpus.map((g) => ({ busId: g.busId, model: g.model, uuid: g.uuid, minor: g.minor }))).toEqual(built.gpus);
  expect(found.warnings).toEqual(warnings);
}

/** The warning for a host whose own linker finds the old driver's libcuda.so.1 first. */
const hostLinkerWarning = (cachePath: string, stale: string, version: string): string =>
  `the host's dynamic linker finds libcuda.so.1 at ${cachePath} (${stale}), not driver ${version}: programs on the host itself fail with "Driver/library version mismatch"`;

/** The 64-bit libcuda the container gets, and the cache entry that led to it. */
function libcuda64(found: DriverDiscovery): { path: string; cachePath: string | null } {
  const cuda = found.libraries.filter((l) => l.bits === 64 && l.name.startsWith('libcuda.so'));
  expect(cuda.length).toBe(1);
  return { path: cuda[0]!.path, cachePath: cuda[0]!.cachePath };
}

describe('NVIDIA .run installer / RHEL-Fedora: /usr/lib64 and /usr/lib, merged /usr', () => {
  let built: LayoutRoot;
  let found: DriverDiscovery;
  beforeAll(async () => {
    built = await build({ kind: 'runfile' });
    found = discoverDriver({ root: built.root });
  });

  it('reads the open module version and selects exactly the driver files of both ABIs', () => {
    expect(found.driverVersion).toBe(built.version);
    expect(found.versionSource).toBe('proc');
    expectExact(found, built);
    expect(built.libraries.filter((l) => l.bits === 32).every((l) => l.path.startsWith('/usr/lib/'))).toBe(true);
    expect(found.libraries.filter((l) => l.bits === 32).every((l) => l.arch === 'i386')).toBe(true);
  });

  it('takes libcuda through the relative soname link of the cache', () => {
    const cuda = libcuda64(found);
    expect(cuda.path).toBe(`/usr/lib64/libcuda.so.${built.version}`);
    expect(cuda.cachePath).toMatch(/^\/lib64\/libcuda\.so(\.1)?$/);
    const vdpau = found.libraries.filter((l) => l.name === `libvdpau_nvidia.so.${built.version}`);
    expect(sorted(vdpau.map((l) => l.path))).toEqual(['/usr/lib/vdpau/libvdpau_nvidia.so.550.54.15', '/usr/lib64/vdpau/libvdpau_nvidia.so.550.54.15']);
    expect(vdpau.every((l) => l.cacheName === null)).toBe(true);
  });
});

describe('Ubuntu packages: real files in the multiarch directories', () => {
  let built: LayoutRoot;
  let found: DriverDiscovery;
  beforeAll(async () => {
    built = await build({ kind: 'ubuntu' });
    found = discoverDriver({ root: built.root });
  });

  it('reads the proprietary module version and selects exactly the driver files of both ABIs', () => {
    expect(found.driverVersion).toBe(built.version);
    expect(found.versionSource).toBe('proc');
    expectExact(found, built);
    expect(built.libraries.filter((l) => l.bits === 32).every((l) => l.path.startsWith('/usr/lib/i386-linux-gnu/'))).toBe(true);
  });

  it('resolves the /lib/<triplet> cache paths through merged /usr', () => {
    const cuda = libcuda64(found);
    expect(cuda.path).toBe(`/usr/lib/x86_64-linux-gnu/libcuda.so.${built.version}`);
    expect(cuda.cachePath).toMatch(/^\/lib\/x86_64-linux-gnu\/libcuda\.so(\.1)?$/);
  });
});

describe('a driver root mounted elsewhere (/run/nvidia/driver), absolute links, no proc', () => {
  let built: LayoutRoot;
  let found: DriverDiscovery;
  beforeAll(async () => {
    built = await build({ kind: 'runfile', absoluteLinks: true, proc: false, rootAt: 'host/run/nvidia/driver' });
    found = discoverDriver({ root: built.root });
  });

  it('resolves /usr/lib64/… links inside the root and takes the version from the libraries', () => {
    expect(found.root).toBe(built.root);
    // The links point at /usr/lib64 of the root's own host, which this machine does not have.
    expect(readlinkSync(hostPath(built.root, '/usr/lib64/libcuda.so.1'))).toBe(`/usr/lib64/libcuda.so.${built.version}`);
    expect(readlinkSync(hostPath(built.root, '/lib64'))).toBe('/usr/lib64');
    expect(found.driverVersion).toBe(built.version);
    expect(found.versionSource).toBe('libraries');
    expectExact(found, built);
    expect(libcuda64(found).path).toBe(`/usr/lib64/libcuda.so.${built.version}`);
  });
});

describe('an older driver left beside the current one (non-merged /usr)', () => {
  const STALE = '535.161.08';

  it('rejects the old files for their version; libcuda.so.1 is the current one', async () => {
    const built = await build({ kind: 'runfile', stale: STALE, mergedUsr: false });
    const found = discoverDriver({ root: built.root });
    expect(found.driverVersion).toBe(built.version);
    expect(found.versionSource).toBe('proc');
    // The container gets the current files; the host's own programs load the old libcuda first.
    expectExact(found, built, [hostLinkerWarning(built.staleLibcudaLink!, STALE, built.version)]);
    expect(libcuda64(found).path).toBe(`/usr/lib64/libcuda.so.${built.version}`);
    expect(found.firmware.some((f) => f.path.includes(STALE))).toBe(false);
  });

  it('without proc, still takes the current version although the old libcuda.so.1 comes first', async () => {
    const built = await build({ kind: 'runfile', stale: STALE, proc: false });
    const found = discoverDriver({ root: built.root });
    expect(found.driverVersion).toBe(built.version);
    expect(found.versionSource).toBe('libraries');
    expectExact(found, built, [hostLinkerWarning(built.staleLibcudaLink!, STALE, built.version)]);
    expect(libcuda64(found).path).toBe(`/usr/lib64/libcuda.so.${built.version}`);
  });
});
