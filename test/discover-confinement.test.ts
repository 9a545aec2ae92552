// Discovery never touches a path outside its root, even in a root full of links that point out
// of it: every path-taking fs call made during discoverDriver is recorded (the real fs still
// does the work) and checked to lie under the root.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { discoverDriver, hostPath } from '../src/node/discover.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';

const WATCHED = ['lstatSync', 'statSync', 'openSync', 'readlinkSync', 'readdirSync', 'opendirSync', 'realpathSync', 'readFileSync', 'accessSync', 'existsSync'] as const;
let built: DriverRoot;

/** Runs `work` while recording the path argument of every watched fs call. */
async function recordPaths(work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const originals = new Map<string, unknown>();
  const readlink = fs.readlinkSync;
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of WATCHED) {
    const original = target[name]!;
    originals.set(name, original);
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (typeof args[0] === 'string' || args[0] instanceof URL || Buffer.isBuffer(args[0])) {
        // A descriptor's magic link (listings go through the opened directory): record where it leads.
        const viaFd = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(String(args[0]));
        seen.push(viaFd ? `${readlink(`/proc/self/fd/${viaFd[1]}`)}${viaFd[2] ?? ''}` : String(args[0]));
      }
      return original.apply(this, args);
    };
  }
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    for (const [name, original] of originals) target[name] = original as (...args: unknown[]) => unknown;
    syncBuiltinESMExports();
  }
  return seen;
}

beforeAll(async () => {
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
  built = await buildDriverRoot({ strays: '470.256.02', i386: false, mesaLibGL: true });
  const { rmSync, symlinkSync, mkdirSync } = fs;
  const current = '/usr/lib/x86_64-linux-gnu/nvidia/current';
  // Links out of the root, in every place discovery looks.
  rmSync(hostPath(built.root, `${current}/libnvidia-ml.so.${built.version}`));
  symlinkSync('/etc/passwd', hostPath(built.root, `${current}/libnvidia-ml.so.${built.version}`));
  rmSync(hostPath(built.root, `${current}/libnvidia-encode.so.${built.version}`));
  symlinkSync('../../../../../../../../../../etc/shadow', hostPath(built.root, `${current}/libnvidia-encode.so.${built.version}`));
  symlinkSync('/', hostPath(built.root, '/usr/lib/x86_64-linux-gnu/vdpau/up'));
  rmSync(hostPath(built.root, '/usr/bin/nvidia-persistenced'));
  symlinkSync('/usr/bin/env', hostPath(built.root, '/usr/bin/nvidia-persistenced'));
  mkdirSync(hostPath(built.root, '/usr/local/sbin'), { recursive: true });
  symlinkSync('/usr/sbin/ldconfig', hostPath(built.root, '/usr/local/sbin/nvidia-smi'));
  rmSync(hostPath(built.root, '/proc/devices'));
  symlinkSync('/proc/devices', hostPath(built.root, '/proc/devices'));
  symlinkSync('/dev/null', hostPath(built.root, '/dev/nvidia7'));
  symlinkSync('/etc/ld.so.conf.d', hostPath(built.root, '/etc/ld.so.conf.d/host.conf'));
});
afterAll(() => built?.cleanup());

it('makes no fs call outside the root', async () => {
  let discovery: Awaited<ReturnType<typeof discoverDriver>> | undefined;
  const paths = await recordPaths(async () => {
    discovery = discoverDriver({ root: built.root });
  });
  expect(paths.length).toBeGreaterThan(100);
  const outside = paths.filter((p) => p !== built.root && !p.startsWith(`${built.root}/`));
  expect(outside).toEqual([]);
  // And the links out of the root led nowhere.
  expect(discovery!.libraries.some((l) => /libnvidia-(ml|encode)\.so/.test(l.name))).toBe(false);
  expect(discovery!.binaries.find((b) => b.name === 'nvidia-smi')?.path).toBe('/usr/lib/nvidia/current/nvidia-smi');
  expect(discovery!.binaries.some((b) => b.name === 'nvidia-persistenced')).toBe(false);
  expect(discovery!.devices.some((d) => d.path === '/dev/nvidia7')).toBe(false);
});
