// Cache-only classification of NVIDIA driver entries, on a cache written by the real ldconfig
// for a 535 root with 470 strays, and on entries in other distributions' layouts.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyNvidiaCache } from '../src/core/nvidia.js';
import { libraryCategory, versionInName } from '../src/core/nvidia-libraries.js';
import { parseLdCache } from '../src/core/parse.js';
import type { LdCacheEntry } from '../src/core/types.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';

const STRAYS = '470.256.02';
let built: DriverRoot;

beforeAll(async () => {
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
  built = await buildDriverRoot({ strays: STRAYS, devices: false, binaries: false, firmware: false, ipc: false, proc: false });
});
afterAll(() => built?.cleanup());

describe('a real ldconfig cache of a 535 root with 470 strays', () => {
  it('finds the driver entries, their versions and the strays', () => {
    const file = join(built.root, 'etc/ld.so.cache');
    const cache = parseLdCache(readFileSync(file));
    const result = classifyNvidiaCache(cache);
    expect(result.driverVersion).toBe(built.version);
    expect(result.versions).toEqual([built.version, STRAYS]);

    // What the real ldconfig prints, one line per entry in the same order.
    const lines = execFileSync('ldconfig', ['-p', '-C', file], { encoding: 'utf8' }).split('\n').slice(1, -2);
    expect(lines.length).toBe(cache.count);
    const nvidiaLines = lines.filter((line) => /^\s+lib(cuda|nvidia-|nvcuvid|nvoptix|vdpau_nvidia|GLX_nvidia|EGL_nvidia|GLESv\w+_nvidia)/.test(line));
    expect(result.entries.length).toBe(nvidiaLines.length);

    for (const entry of result.entries) {
      const line = lines[entry.index]!;
      const { name, path } = cache.entries[entry.index]!;
      expect(line).toContain(`${name} (`);
      expect(entry.bits).toBe(line.includes(',x86-64)') ? 64 : 32);
      if (name.includes(STRAYS) || path.includes('tesla-470')) {
        expect(entry.status, path).toBe('stray');
        expect(entry.version).toBe(STRAYS);
      } else if (name.includes(built.version)) {
        expect(entry.status).toBe('driver');
        expect(entry.version).toBe(built.version);
      } else {
        // Nothing in its own name or path: the versioned files of its directory (as ldconfig -p
        // lists them) decide, else the loader's order among entries of the same name.
        const dir = path.slice(0, path.lastIndexOf('/') + 1);
        const neighbours = lines.map((l) => l.slice(l.indexOf(' => ') + 4)).filter((p) => p.startsWith(dir) && !p.slice(dir.length).includes('/'));
        if (neighbours.some((p) => p.includes(built.version))) expect([entry.status, entry.evidence, entry.version], path).toEqual(['driver', 'directory', built.version]);
        else if (neighbours.some((p) => p.includes(STRAYS))) expect([entry.status, entry.evidence], path).toEqual(['stray', 'directory']);
        else expect(['loader', 'shadowed', 'none'], path).toContain(entry.evidence);
      }
    }
    // Loaders and other vendors' libraries are not the driver's.
    const names = new Set(result.entries.map((e) => cache.entries[e.index]!.name));
    for (const other of ['libGL.so.1', 'libGLX.so.0', 'libGLdispatch.so.0', 'libEGL.so.1', 'libc.so.6', 'libglapi.so.0']) expect(names.has(other)).toBe(false);
  });
});

describe('entries in other layouts', () => {
  const entry = (index: number, name: string, path: string, bits: 32 | 64 = 64): LdCacheEntry =>
    ({ index, name, path, bits, arch: bits === 64 ? 'x86-64' : 'i386' }) as LdCacheEntry;

  it('reads driver branches from directory names (Ubuntu nvidia-NNN, Fedora), the newest version is the driver', () => {
    const entries = [
      entry(0, 'libnvidia-ml.so.1', '/usr/lib/nvidia-390/libnvidia-ml.so.1'),
      entry(1, 'libcuda.so.1', '/usr/lib/x86_64-linux-gnu/libcuda.so.1'),
      entry(2, 'libnvidia-glcore.so.390.157', '/usr/lib/nvidia-390/libnvidia-glcore.so.390.157'),
      entry(3, 'libnvidia-glcore.so.418.226.00', '/usr/lib/x86_64-linux-gnu/libnvidia-glcore.so.418.226.00'),
      entry(4, 'libnvidia-egl-wayland.so.1', '/usr/lib/x86_64-linux-gnu/libnvidia-egl-wayland.so.1.1.10'),
      entry(5, 'libcuda.so.1', '/opt/nvidia/418.226.00/lib32/libcuda.so.1', 32),
      entry(6, 'libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1'),
    ];
    const result = classifyNvidiaCache({ entries });
    expect(result.versions).toEqual(['418.226.00', '390.157']);
    expect(result.driverVersion).toBe('418.226.00');
    const byIndex = new Map(result.entries.map((e) => [e.index, e]));
    expect(byIndex.get(0)).toMatchObject({ status: 'stray', version: '390.157', category: 'utility' });
    // No version in its own path, but beside the 418 files: the directory decides.
    expect(byIndex.get(1)).toMatchObject({ status: 'driver', version: '418.226.00', category: 'compute', evidence: 'directory' });
    expect(byIndex.get(2)).toMatchObject({ status: 'stray', version: '390.157', category: 'graphics' });
    expect(byIndex.get(3)).toMatchObject({ status: 'driver', version: '418.226.00' });
    expect(byIndex.get(4)).toMatchObject({ status: 'driver', version: '418.226.00', evidence: 'directory' });
    expect(byIndex.get(5)).toMatchObject({ status: 'driver', version: '418.226.00', bits: 32 });
    expect(byIndex.has(6)).toBe(false);
  });

  it('shares its tables with discovery: categories and driver versions in names', () => {
    expect(libraryCategory('libcuda.so.535.261.03')).toBe('compute');
    expect(libraryCategory('libcudadebugger.so.1')).toBe('compute');
    expect(libraryCategory('libnvidia-pkcs11-openssl3.so.535.261.03')).toBe('compute');
    expect(libraryCategory('libnvidia-gtk3.so.535.261.03')).toBeNull();
    expect(libraryCategory('libcudart.so.12')).toBeNull();
    expect(versionInName('libnvidia-nvvm.so.4.0.0')).toBeNull();
    expect(versionInName('libGL.so.1.7.0')).toBeNull();
    expect(versionInName('libcuda.so.375.26')).toBe('375.26');
    expect(versionInName('libcuda.so.1')).toBeNull();
  });

  it('returns nothing for a cache without NVIDIA entries', () => {
    expect(classifyNvidiaCache({ entries: [entry(0, 'libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6')] })).toEqual({ versions: [], driverVersion: null, entries: [] });
  });
});
