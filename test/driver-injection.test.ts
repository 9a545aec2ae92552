// The facts discovery records for the image check (each library's linkerDir and glibcNeeds) and
// the core's injections built from them (what the CLI and the inspector share), judged against
// independent evidence: the root's own directories resolved by the kernel (realpath), binutils'
// readelf -V, and the CDI spec this project writes (the file Docker and Podman consume in the
// CDI tests). Also the core's rootedPath against the Node side's hostPath.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdiInjection, driverLibs } from '../src/core/driver-injection.js';
import { rootedPath } from '../src/core/rooted-path.js';
import { generateCdiSpec } from '../src/node/cdi.js';
import { discoverDriver } from '../src/node/discover.js';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { hostPath } from '../src/node/rootfs.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';

describe('rootedPath (core) agrees with hostPath (node)', () => {
  it('for absolute roots and hostile paths', () => {
    const roots = ['/', '/mnt/host', '/mnt/host/', '/a/./b/../c'];
    const paths = ['/', '', '.', '..', '/usr/lib/x.so', 'usr//lib/./x.so', '/../../etc/passwd', '/a/b/../../../c', 'a/..', '/x/', '//x//y//'];
    for (const root of roots) for (const path of paths) expect(rootedPath(root, path), `${root} + ${path}`).toBe(hostPath(root, path));
  });
});

describe('what discovery records for the image check', () => {
  let built: DriverRoot;
  let discovery: DriverDiscovery;
  beforeAll(async () => {
    built = await buildDriverRoot({ devices: false });
    discovery = discoverDriver({ root: built.root });
  }, 120_000);
  afterAll(async () => built?.cleanup());

  it('linkerDir: the real directory (inside the root) of each cache entry; libraries found beside them get their ABI\'s', () => {
    expect(discovery.libraries.length).toBeGreaterThan(20);
    const real = (dir: string): string => `/${relative(realpathSync(built.root), realpathSync(join(built.root, dir)))}`;
    const byArch = new Map<string, Set<string>>();
    for (const lib of discovery.libraries) {
      if (!lib.cachePath) continue;
      expect(lib.linkerDir, lib.path).toBe(real(dirname(lib.cachePath)));
      byArch.set(lib.arch, (byArch.get(lib.arch) ?? new Set()).add(lib.linkerDir!));
    }
    const beside = discovery.libraries.filter((l) => !l.cachePath);
    expect(beside.length).toBeGreaterThan(0);
    for (const lib of beside) expect(byArch.get(lib.arch)?.has(lib.linkerDir!), `${lib.path} -> ${lib.linkerDir}`).toBe(true);
  });

  it('glibcNeeds: the GLIBC_ versions readelf -V lists in each library\'s .gnu.version_r', () => {
    let withNeeds = 0;
    for (const lib of discovery.libraries) {
      const out = spawnSync('readelf', ['-V', '-W', join(built.root, lib.path)], { encoding: 'utf8' }).stdout;
      const at = out.indexOf("'.gnu.version_r'");
      const needs = at < 0 ? [] : [...new Set(out.slice(at).match(/Name: GLIBC_[0-9.]+/g)?.map((n) => n.slice(6)) ?? [])];
      expect([...(lib.glibcNeeds ?? [])].sort(), lib.path).toEqual(needs.sort());
      if (needs.length > 0) withNeeds++;
    }
    expect(withNeeds).toBeGreaterThan(0);
  });

  it('the core\'s CDI injection mounts each library exactly where the written CDI spec mounts it', async () => {
    const { spec } = await generateCdiSpec({ discovery });
    const libraryFiles = new Set(discovery.libraries.map((l) => hostPath(discovery.root, l.path)));
    const mounts = [...(spec.containerEdits?.mounts ?? []), ...spec.devices.flatMap((d) => d.containerEdits.mounts ?? [])];
    const fromSpec = mounts.filter((m) => libraryFiles.has(m.hostPath)).map((m) => `${m.containerPath} <- ${m.hostPath}`);
    const injected = cdiInjection(discovery, driverLibs(discovery)).overlay.files.map((f) => `${f.containerPath} <- ${f.file.source}`);
    expect(fromSpec.length).toBeGreaterThan(discovery.libraries.length);
    expect(injected).toEqual(fromSpec);
    // The same from the JSON `discover --json` prints (what the inspector reads).
    const json = JSON.parse(JSON.stringify(discovery)) as DriverDiscovery;
    expect(cdiInjection(json, driverLibs(json)).overlay.files.map((f) => `${f.containerPath} <- ${f.file.source}`)).toEqual(fromSpec);
  });
});
