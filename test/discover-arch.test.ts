// Discovery of an aarch64 host's driver (64-bit aarch64 + 32-bit armhf), from this x86 machine:
// the family comes from the root (its cache, or its libc), never from this process. ELF files
// are hand-made (gcc here builds only x86); the cache comes from the independent test writer.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useWasmBinary } from '../src/core/wasm.js';
import { discoverDriver } from '../src/node/discover.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { synthesize, type SyntheticElf } from './helpers/elf-writer.js';

const VERSION = '550.127.05';
const AARCH64: Omit<SyntheticElf, 'soname'> = { bits: 64, big: false, machine: 183, needed: ['libc.so.6'] };
const ARMHF: Omit<SyntheticElf, 'soname'> = { bits: 32, big: false, machine: 40, flags: 0x05000400, needed: ['libc.so.6'] };
const X86_64: Omit<SyntheticElf, 'soname'> = { bits: 64, big: false, machine: 62, needed: ['libc.so.6'] };
const STEMS: [string, string][] = [['libcuda', '1'], ['libnvidia-ml', '1'], ['libGLX_nvidia', '0'], ['libnvidia-encode', '1']];

let top: string;
let root: string;
let expected: { path: string; bits: number; arch: string }[];
let cacheEntries: WriterEntry[];

function put(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), bytes);
}
function link(path: string, target: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}

beforeAll(() => useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url))));
beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'discover-arch-'));
  root = join(top, 'root');
  expected = [];
  cacheEntries = [];
  put('/proc/driver/nvidia/version', `NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  ${VERSION}  Release Build  (dvs-builder@U16-I3-B04-4-2)  Tue Oct  1 22:53:30 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14) \n`);
  for (const [triplet, spec, flags, arch] of [['aarch64-linux-gnu', AARCH64, 0x0a03, 'aarch64'], ['arm-linux-gnueabihf', ARMHF, 0x0903, 'armhf']] as const) {
    const multiarch = `/usr/lib/${triplet}`;
    put(`${multiarch}/libc.so.6`, synthesize({ ...spec, soname: 'libc.so.6', needed: [] }));
    cacheEntries.push({ name: 'libc.so.6', path: `${multiarch}/libc.so.6`, flags });
    for (const [stem, major] of STEMS) {
      const real = `${multiarch}/nvidia/current/${stem}.so.${VERSION}`;
      put(real, synthesize({ ...spec, soname: `${stem}.so.${major}` }));
      link(`${multiarch}/nvidia/current/${stem}.so.${major}`, `${stem}.so.${VERSION}`);
      link(`/etc/alternatives/nvidia--${stem}.so.${major}-${triplet}`, `${multiarch}/nvidia/current/${stem}.so.${major}`);
      link(`${multiarch}/${stem}.so.${major}`, `/etc/alternatives/nvidia--${stem}.so.${major}-${triplet}`);
      cacheEntries.push({ name: `${stem}.so.${major}`, path: `${multiarch}/${stem}.so.${major}`, flags });
      expected.push({ path: real, bits: spec.bits, arch });
    }
  }
  // An x86-64 copy of the same version (a foreign leftover): not of this machine's ABIs.
  put(`/usr/local/lib/libnvidia-ml.so.${VERSION}`, synthesize({ ...X86_64, soname: 'libnvidia-ml.so.1' }));
  link('/usr/local/lib/libnvidia-ml.so.1', `libnvidia-ml.so.${VERSION}`);
  cacheEntries.push({ name: 'libnvidia-ml.so.1', path: '/usr/local/lib/libnvidia-ml.so.1', flags: 0x0303 });
  put('/etc/ld.so.conf', '/usr/local/lib\ninclude /etc/ld.so.conf.d/*.conf\n');
  put('/etc/ld.so.conf.d/aarch64-linux-gnu.conf', '/usr/lib/aarch64-linux-gnu\n');
  put('/etc/ld.so.conf.d/arm-linux-gnueabihf.conf', '/usr/lib/arm-linux-gnueabihf\n');
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

const sortedPaths = (items: { path: string }[]): string[] => items.map((i) => i.path).sort();

describe('an aarch64 driver root', () => {
  it('from its cache: aarch64 and armhf libraries, a foreign ABI rejected', async () => {
    put('/etc/ld.so.cache', writeCache({ format: 'new', entries: cacheEntries, sort: true }).bytes);
    const d = discoverDriver({ root });
    expect(d.driverVersion).toBe(VERSION);
    expect(d.abis).toEqual(['aarch64', 'armhf', 'arm']);
    expect(sortedPaths(d.libraries)).toEqual(sortedPaths(expected));
    for (const library of d.libraries) {
      const want = expected.find((e) => e.path === library.path)!;
      expect([library.bits, library.arch]).toEqual([want.bits, want.arch]);
    }
    expect(d.rejected.find((r) => r.cachePath === '/usr/local/lib/libnvidia-ml.so.1')?.reason).toMatch(/ABI x86-64 is not one of this machine's \(aarch64, armhf, arm\)/);
  });

  it('refuses a file whose ELF header contradicts the cache', async () => {
    const lying = cacheEntries.map((e) => (typeof e.path === 'string' && e.path.includes('aarch64-linux-gnu/libcuda') ? { ...e, path: '/usr/lib/arm-linux-gnueabihf/libcuda.so.1' } : e));
    put('/etc/ld.so.cache', writeCache({ format: 'new', entries: lying, sort: true }).bytes);
    const d = discoverDriver({ root });
    expect(d.rejected.some((r) => r.reason === 'the cache says aarch64 but the file is armhf')).toBe(true);
    // The aarch64 libcuda is still found, beside the other aarch64 driver files, not through the lying entry.
    const cuda = d.libraries.filter((l) => l.name === `libcuda.so.${VERSION}`).map((l) => `${l.arch} ${l.cacheName}`);
    expect(cuda.sort()).toEqual(['aarch64 null', 'armhf libcuda.so.1']);
  });

  it('without a cache: the family comes from the root libc, directories from ld.so.conf', async () => {
    const d = discoverDriver({ root });
    expect(d.librarySource).toBe('directories');
    expect(d.abis).toEqual(['aarch64', 'armhf', 'arm']);
    expect(sortedPaths(d.libraries)).toEqual(sortedPaths(expected));
    expect(d.rejected.some((r) => r.path === `/usr/local/lib/libnvidia-ml.so.${VERSION}` && /ABI x86-64/.test(r.reason))).toBe(true);
  });
});
