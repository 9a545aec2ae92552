// Driver volumes built from real driver roots (gcc-built libraries, Debian layout): layout,
// hard links vs copies (a real tmpfs for EXDEV), idempotence and repair, list/remove, and
// hostile volumes directories (planted symlinks) that must never lead a write outside DIR.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverDiscovery } from '../src/node/discovery-types.js';
import { MountState } from '../src/node/plugin-state.js';
import { createDriverVolume } from '../src/node/volume.js';
import { listDriverVolumes, removeDriverVolume } from '../src/node/volume-list.js';
import { MANIFEST_NAME, verifyVolume } from '../src/node/volume-manifest.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { recordedDiscovery } from './helpers/recorded-discovery.js';
import { runCommand } from './helpers/dockerd.js';
import { tree } from './helpers/fs-tree.js';
import { judgeVolume } from './helpers/volume-judge.js';
import { describeNeeding, need } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

const discoveryOf = (built: DriverRoot, version = built.version): DriverDiscovery => recordedDiscovery(built, { version });

let built: DriverRoot;
let work: string;
beforeAll(async () => {
  built = await buildDriverRoot({ devices: false, ipc: false });
  work = await mkdtemp(join(tmpdir(), 'volume-test-'));
});
afterAll(async () => {
  await built?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('createDriverVolume', () => {
  it('lays out bin/, lib64/, lib/ as hard links with soname links', async () => {
    const dir = join(work, 'layout');
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect(volume.created).toBe(true);
    expect(volume.path).toBe(join(dir, 'nvidia_driver', built.version));
    expect((await stat(volume.path)).mode & 0o777).toBe(0o755);
    expect(volume.methods.link).toBe(built.libraries.length + built.binaries.length);

    for (const lib of built.libraries) {
      const placed = join(volume.path, lib.bits === 64 ? 'lib64' : 'lib', lib.name);
      const [a, b] = await Promise.all([lstat(placed), stat(join(built.root, lib.path))]);
      expect(a.isFile()).toBe(true);
      expect(a.ino).toBe(b.ino); // the driver's own inode: a hard link
      if (lib.soname !== lib.name) {
        const link = join(volume.path, lib.bits === 64 ? 'lib64' : 'lib', lib.soname);
        expect(await readlink(link)).toBe(lib.name); // relative, same directory
        expect((await stat(link)).ino).toBe(b.ino);
      }
    }
    for (const bin of built.binaries) {
      expect((await stat(join(volume.path, 'bin', bin.name))).ino).toBe((await stat(join(built.root, bin.path))).ino);
    }
    for (const dir64 of ['lib64', 'lib']) {
      const cuda = built.libraries.find((l) => l.soname === 'libcuda.so.1' && (l.bits === 64) === (dir64 === 'lib64'))!;
      expect(await readlink(join(volume.path, dir64, 'libcuda.so'))).toBe(cuda.name);
      const glx = built.libraries.find((l) => l.soname === 'libGLX_nvidia.so.0' && (l.bits === 64) === (dir64 === 'lib64'))!;
      expect(await readlink(join(volume.path, dir64, 'libGLX_indirect.so.0'))).toBe(glx.name);
    }
    expect((await readdir(join(dir, 'nvidia_driver'))).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(await judgeVolume(volume.path, built)).toEqual({ state: 'complete', linked: built.libraries.length + built.binaries.length, copied: 0 });
  });

  it('reuses a complete volume, rebuilds a damaged one, and puts a new version beside the old', async () => {
    const dir = join(work, 'idem');
    const first = await createDriverVolume({ discovery: discoveryOf(built), dir });
    const manifestIno = (await lstat(join(first.path, MANIFEST_NAME))).ino;
    const again = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect(again.created).toBe(false);
    expect((await lstat(join(first.path, MANIFEST_NAME))).ino).toBe(manifestIno);

    const victim = built.libraries[0]!;
    await rm(join(first.path, victim.bits === 64 ? 'lib64' : 'lib', victim.name));
    expect((await verifyVolume(first.path, built.version)).complete).toBe(false);
    expect(await judgeVolume(first.path, built)).toEqual({ state: 'incomplete', problems: [`${victim.bits === 64 ? 'lib64' : 'lib'}/${victim.name} is missing`] });
    const repaired = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect(repaired.created).toBe(true);
    // Rebuilt as the next generation beside the damaged one, which goes as nothing mounts it.
    expect(repaired.path).toBe(join(dir, 'nvidia_driver', `${built.version}-2`));
    expect(await judgeVolume(repaired.path, built)).toMatchObject({ state: 'complete' });
    expect(repaired.pruned).toEqual([built.version]);
    expect(existsSync(first.path)).toBe(false);

    const newer = await createDriverVolume({ discovery: discoveryOf(built, '999.1.2'), dir });
    expect(newer.path).toBe(join(dir, 'nvidia_driver', '999.1.2'));
    const listed = await listDriverVolumes({ dir });
    expect(listed.map((v) => [v.name, v.complete])).toEqual([
      [`nvidia_driver_${built.version}`, true],
      ['nvidia_driver_999.1.2', true],
    ]);
  });

  it('rebuilds a reinstalled driver as a new generation, keeping the old one while a mount holds it', async () => {
    const dir = join(work, 'reinstall');
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    const state = await MountState.load(dir, 'holder');
    state.mount(volume.name, 'c'.repeat(64), basename(volume.path));
    await state.save();
    const bin = built.binaries[0]!;
    const source = join(built.root, bin.path);
    const oldIno = (await stat(source)).ino;
    const text = await readFile(source);
    await rm(source);
    await writeFile(source, text, { mode: 0o755 }); // new inode, as dpkg unpacks
    const again = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect(again.created).toBe(true);
    expect(again.path).not.toBe(volume.path);
    expect((await stat(join(again.path, 'bin', bin.name))).ino).toBe((await stat(source)).ino);
    // The mounted generation is untouched: same files, same inodes.
    expect((await lstat(join(volume.path, 'bin', bin.name))).ino).toBe(oldIno);
    expect(again.pruned).toEqual([]);
    const [listed] = await listDriverVolumes({ dir });
    expect([listed!.path, listed!.mounts, listed!.older]).toEqual([again.path, 1, [{ path: volume.path, mounts: 1 }]]);
    // Released: the next create removes the old generation, never the current one.
    state.unmount(volume.name, 'c'.repeat(64));
    await state.save();
    const third = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect([third.created, third.path, third.pruned]).toEqual([false, again.path, [basename(volume.path)]]);
    expect(existsSync(volume.path)).toBe(false);
  });

  it('deletes no generation while a plugin mount state cannot be read', async () => {
    const dir = join(work, 'unreadable-state');
    const first = await createDriverVolume({ discovery: discoveryOf(built), dir });
    await writeFile(join(dir, '.plugin-broken.mounts.json'), '{"mounts":', { mode: 0o600 });
    const bin = join(built.root, built.binaries[0]!.path);
    const original = await stat(bin);
    try {
      await utimes(bin, original.atime, new Date(original.mtimeMs + 60_000));
      const second = await createDriverVolume({ discovery: discoveryOf(built), dir });
      expect([second.created, second.pruned]).toEqual([true, []]);
      expect((await verifyVolume(first.path, built.version)).complete).toBe(true); // kept: it may be mounted
      await rm(join(dir, '.plugin-broken.mounts.json'));
      expect((await createDriverVolume({ discovery: discoveryOf(built), dir })).pruned).toEqual([basename(first.path)]);
    } finally {
      await utimes(bin, original.atime, original.mtime);
    }
  });

  it('copies with the same mode and bytes when asked, sharing no inode', async () => {
    const dir = join(work, 'copy');
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir, strategy: 'copy' });
    expect(volume.methods.link).toBe(0);
    expect(volume.methods.copy + volume.methods.clone).toBe(volume.files);
    expect(await judgeVolume(volume.path, built)).toEqual({ state: 'complete', linked: 0, copied: built.libraries.length + built.binaries.length });
    for (const bin of built.binaries) {
      const [a, b] = await Promise.all([stat(join(volume.path, 'bin', bin.name)), stat(join(built.root, bin.path))]);
      expect(a.ino).not.toBe(b.ino);
      expect(a.mode & 0o777).toBe(b.mode & 0o777);
      expect(await readFile(join(volume.path, 'bin', bin.name))).toEqual(await readFile(join(built.root, bin.path)));
    }
  });

  it('falls back to copies across filesystems (tmpfs: EXDEV)', async (ctx) => {
    need(ctx, !isRoot && 'needs root to mount a tmpfs');
    const mnt = join(work, 'tmpfs');
    await mkdir(mnt);
    let refused: string | undefined;
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
    } catch (err) {
      refused = `mount -t tmpfs refused: ${(err as Error).message}`;
    }
    need(ctx, refused);
    try {
      const volume = await createDriverVolume({ discovery: discoveryOf(built), dir: mnt });
      expect(volume.methods.link).toBe(0);
      expect(volume.methods.copy + volume.methods.clone).toBe(volume.files);
      for (const lib of built.libraries) {
        const placed = join(volume.path, lib.bits === 64 ? 'lib64' : 'lib', lib.name);
        const [a, b] = await Promise.all([stat(placed), stat(join(built.root, lib.path))]);
        expect(a.size).toBe(b.size);
        expect(a.mode & 0o777).toBe(b.mode & 0o777);
      }
      expect((await createDriverVolume({ discovery: discoveryOf(built), dir: mnt })).created).toBe(false);
    } finally {
      await run('umount', [mnt]);
    }
  });

  it('cleans work directories and the volumes lock of dead runs', async () => {
    const dir = join(work, 'stale');
    await mkdir(join(dir, 'nvidia_driver', `.tmp-${built.version}-999999999-abcdef`, 'lib64'), { recursive: true });
    await mkdir(join(dir, 'nvidia_driver', `.old-${built.version}-999999998-abcdef`), { recursive: true });
    await writeFile(join(dir, '.nvidia-volume.lock'), '999999997\n'); // the volumes lock of a run that died
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect(existsSync(join(dir, '.nvidia-volume.lock'))).toBe(false); // broken, taken, released
    expect(volume.cleaned.sort()).toEqual([`.old-${built.version}-999999998-abcdef`, `.tmp-${built.version}-999999999-abcdef`]);
    expect((await readdir(join(dir, 'nvidia_driver'))).sort()).toEqual([built.version]);
  });
});

describe('hostile volumes directories and roots', () => {
  it('refuses DIR/nvidia_driver planted as a symlink, writing nothing at its target', async () => {
    const dir = join(work, 'planted');
    const outside = join(work, 'outside-1');
    await mkdir(outside);
    await mkdir(dir);
    await symlink(outside, join(dir, 'nvidia_driver'));
    await expect(createDriverVolume({ discovery: discoveryOf(built), dir })).rejects.toThrow(/nvidia_driver: is a symlink/);
    expect(await tree(outside)).toEqual([]);
  });

  it('replaces a version directory planted as a symlink without touching its target', async () => {
    const dir = join(work, 'planted-version');
    const outside = join(work, 'outside-2');
    await mkdir(join(outside, 'lib64'), { recursive: true });
    await writeFile(join(outside, 'lib64', 'keep'), 'precious');
    await mkdir(join(dir, 'nvidia_driver'), { recursive: true });
    await symlink(outside, join(dir, 'nvidia_driver', built.version));
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    expect((await lstat(volume.path)).isDirectory()).toBe(true);
    expect(await tree(outside)).toEqual([join(outside, 'lib64'), join(outside, 'lib64', 'keep')]);
    expect(await readFile(join(outside, 'lib64', 'keep'), 'utf8')).toBe('precious');
  });

  it('refuses a driver file whose path leaves the root, naming it', async () => {
    const outside = join(work, 'outside-3');
    await mkdir(outside);
    await writeFile(join(outside, 'libcuda.so.1.2'), 'not the driver');
    await symlink(outside, join(built.root, 'escape'));
    try {
      const discovery = discoveryOf(built);
      discovery.libraries.push({ ...discovery.libraries[0]!, path: '/escape/libcuda.so.1.2', name: 'libcuda.so.1.2', soname: null });
      const dir = join(work, 'escape');
      await expect(createDriverVolume({ discovery, dir })).rejects.toThrow(/escape\/libcuda\.so\.1\.2: \/escape \(on the path\) is a symbolic link or not a directory now .*refusing to follow it$/);
      expect(await readdir(join(dir, 'nvidia_driver'))).toEqual([]);
    } finally {
      await rm(join(built.root, 'escape'));
    }
  });

  it('refuses a version that is not digits and dots', async () => {
    const dir = join(work, 'badversion');
    for (const version of ['../../etc', '535/../..', '', '1']) {
      await expect(createDriverVolume({ discovery: discoveryOf(built, version), dir })).rejects.toThrow(/version/);
    }
    await expect(removeDriverVolume({ dir, version: '../..' })).rejects.toThrow(/invalid volume version/);
  });

  it('keeps the first of two different files with one name and says so', async () => {
    const discovery = discoveryOf(built);
    const first = built.libraries.find((l) => l.bits === 64)!;
    // Another file with the same basename elsewhere in the root (v1 failed the whole volume: #186).
    await mkdir(join(built.root, 'opt/dup'), { recursive: true });
    await writeFile(join(built.root, 'opt/dup', first.name), 'another build');
    try {
      discovery.libraries.push({ ...discovery.libraries[0]!, path: `/opt/dup/${first.name}`, name: first.name, bits: 64 });
      const volume = await createDriverVolume({ discovery, dir: join(work, 'dupes') });
      expect(volume.skipped).toHaveLength(1);
      expect(volume.skipped[0]).toContain(`/opt/dup/${first.name}`);
      expect((await stat(join(volume.path, 'lib64', first.name))).ino).toBe((await stat(join(built.root, first.path))).ino);
    } finally {
      await rm(join(built.root, 'opt'), { recursive: true });
    }
  });
});

describe('list and remove', () => {
  it('removes a volume, refusing while the plugin records a mount', async () => {
    const dir = join(work, 'remove');
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    const state = await MountState.load(dir, 'test-plugin');
    state.mount(volume.name, 'a'.repeat(64));
    await state.save();
    expect((await listDriverVolumes({ dir }))[0]!.mounts).toBe(1);
    await expect(removeDriverVolume({ dir, version: built.version })).rejects.toThrow(/is mounted/);
    state.unmount(volume.name, 'a'.repeat(64));
    await state.save();
    expect(await removeDriverVolume({ dir, version: built.version })).toBe(true);
    expect(await removeDriverVolume({ dir, version: built.version })).toBe(false);
    expect(await listDriverVolumes({ dir })).toEqual([]);
    expect(basename(volume.path)).toBe(built.version);
  });

  it('lists a damaged volume as broken', async () => {
    const dir = join(work, 'broken');
    const volume = await createDriverVolume({ discovery: discoveryOf(built), dir });
    await rm(join(volume.path, 'lib64', 'libcuda.so'));
    const [info] = await listDriverVolumes({ dir });
    expect(info!.complete).toBe(false);
    expect(info!.problem).toMatch(/libcuda\.so/);
  });
});

describeNeeding('nvidia-volume create/list/remove (built CLI, real discovery)', !existsSync(join(repo, 'dist/cli/nvidia-volume/create.js')) && 'dist/ is not built (npm run build)', () => {
  const cli = (args: string[]) => runCommand(process.execPath, [join(repo, 'bin/nvidia-volume.js'), ...args]);

  it('creates, reuses, lists and removes, one line per outcome', async () => {
    const dir = join(work, 'cli');
    const name = `nvidia_driver_${built.version}`;
    const created = await cli(['create', '--root', built.root, '--dir', dir]);
    expect([created.code, created.stderr]).toEqual([0, '']);
    expect(created.stdout).toMatch(new RegExp(`^created ${name.replace(/\./g, '\\.')} at ${join(dir, 'nvidia_driver', built.version)} \\(\\d+ files: \\d+ linked; \\d+ links\\)\\n$`));
    const json = JSON.parse((await cli(['create', '--root', built.root, '--dir', dir, '--json'])).stdout) as { created: boolean; files: number };
    expect(json.created).toBe(false);
    // Discovery finds at least every library the helper built (it may add files found beside them).
    expect(json.files).toBeGreaterThanOrEqual(built.libraries.length + built.binaries.length);

    const list = await cli(['list', '--dir', dir]);
    expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}\\s+complete\\s+${json.files}\\s+0\\s+`));
    expect((await cli(['remove', '--dir', dir, name])).stdout).toBe(`removed ${name}\n`);
    const nowhere = join(work, 'cli-nowhere');
    expect((await cli(['list', '--dir', nowhere])).stdout).toBe('NAME  STATE  FILES  MOUNTS  PATH\n');
    expect(existsSync(nowhere)).toBe(false); // listing creates nothing
    const again = await cli(['remove', '--dir', dir, built.version]);
    expect([again.code, again.stderr]).toEqual([1, `nvidia-volume: no volume ${name} in ${join(dir, 'nvidia_driver')}\n`]);
    const hostile = await cli(['remove', '--dir', dir, '../../etc']);
    expect([hostile.code, hostile.stderr]).toEqual([1, "nvidia-volume: invalid volume version '../../etc': expected digits and dots\n"]);
  });

  it('publishes once when four creates run in parallel: one builds, the others reuse its volume', async () => {
    const dir = join(work, 'parallel');
    const runs = await Promise.all([0, 1, 2, 3].map((i) => cli(['create', '--root', built.root, '--dir', dir, '--json', ...(i % 2 ? ['--copy'] : [])])));
    for (const r of runs) expect([r.code, r.stderr]).toEqual([0, '']);
    const results = runs.map((r) => JSON.parse(r.stdout) as { created: boolean; path: string });
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    // On disk: that one volume, nothing renamed aside, no work directory left.
    expect(await readdir(join(dir, 'nvidia_driver'))).toEqual([basename(results[0]!.path)]);
  });

  it('never serves setuid, setgid or group/world-writable modes: such a driver file is copied with those bits cleared, never hard-linked', async () => {
    // An attacker who can write the driver root (or a careless package) leaves a setuid-root
    // nvidia-smi and world-writable libraries: a hard link would hand containers that very inode
    // (setuid root inside every container; a library any container user could rewrite for all).
    const bin = built.binaries[0]!;
    const lib64 = built.libraries.find((l) => l.bits === 64)!;
    const lib32 = built.libraries.find((l) => l.bits === 32)!;
    const hostile: [string, string, number][] = [
      ['bin', bin.path, 0o4755], ['lib64', lib64.path, 0o666], ['lib', lib32.path, 0o2775],
    ];
    const before = await Promise.all(hostile.map(async ([, path]) => (await stat(join(built.root, path))).mode & 0o7777));
    try {
      for (const [, path, mode] of hostile) await chmod(join(built.root, path), mode);
      for (const copy of [false, true]) {
        const dir = join(work, `modes-${copy}`);
        const r = await cli(['create', '--root', built.root, '--dir', dir, '--json', ...(copy ? ['--copy'] : [])]);
        expect([r.code, r.stderr]).toEqual([0, '']);
        const volume = (JSON.parse(r.stdout) as { path: string }).path;
        for (const [sub, path, mode] of hostile) {
          const name = basename(path);
          const [placed, original] = await Promise.all([lstat(join(volume, sub, name)), stat(join(built.root, path))]);
          expect(original.mode & 0o7777).toBe(mode); // the root still has its hostile mode
          expect([name, placed.ino === original.ino]).toEqual([name, false]);
          expect([name, (placed.mode & 0o7777).toString(8)]).toEqual([name, (mode & 0o755).toString(8)]);
          expect(await readFile(join(volume, sub, name))).toEqual(await readFile(join(built.root, path)));
        }
        // Every file in the volume, whatever it came from: no special bits, no group/other write.
        for (const sub of ['bin', 'lib64', 'lib']) {
          for (const name of await readdir(join(volume, sub))) {
            const info = await lstat(join(volume, sub, name));
            if (info.isFile()) expect([sub, name, info.mode & 0o7022]).toEqual([sub, name, 0]);
          }
        }
      }
      // A file linked while its mode was clean and chmod-ed u+s in the root since: the volume (its
      // inode) shows the bit, so it is no longer complete and the next create builds a copy.
      await chmod(join(built.root, bin.path), 0o755);
      const dir = join(work, 'modes-later');
      const first = JSON.parse((await cli(['create', '--root', built.root, '--dir', dir, '--json'])).stdout) as { path: string };
      expect((await lstat(join(first.path, 'bin', basename(bin.path)))).ino).toBe((await stat(join(built.root, bin.path))).ino);
      await chmod(join(built.root, bin.path), 0o4755);
      const second = JSON.parse((await cli(['create', '--root', built.root, '--dir', dir, '--json'])).stdout) as { path: string; created: boolean };
      expect(second.created).toBe(true);
      expect(second.path).not.toBe(first.path);
      expect((await lstat(join(second.path, 'bin', basename(bin.path)))).mode & 0o7777).toBe(0o755);
    } finally {
      for (const [i, [, path]] of hostile.entries()) await chmod(join(built.root, path), before[i]!);
    }
  });

  it('refuses an 8 GiB sparse file named like a driver library quickly, and keeps a smaller sparse one sparse', async () => {
    const cuda = built.libraries.find((l) => l.soname === 'libcuda.so.1' && l.bits === 64)!;
    const file = join(built.root, cuda.path);
    const size = (await stat(file)).size;
    try {
      await truncate(file, 8 * 1024 ** 3); // a valid ELF header, then 8 GiB of holes
      const started = Date.now();
      const huge = await cli(['create', '--root', built.root, '--dir', join(work, 'sparse-huge')]);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(huge.code).toBe(1);
      expect(huge.stderr).toMatch(new RegExp(`^nvidia-volume: ${file.replace(/[.]/g, '\\.')}: 8589934592 bytes, far beyond any real driver library \\(limit 2 GiB\\); refusing to put it into a volume\\n$`));

      await truncate(file, 256 * 1024 ** 2);
      const copied = await cli(['create', '--root', built.root, '--dir', join(work, 'sparse-small'), '--copy', '--json']);
      expect([copied.code, copied.stderr]).toEqual([0, '']);
      const placed = await stat(join((JSON.parse(copied.stdout) as { path: string }).path, 'lib64', cuda.name));
      expect(placed.size).toBe(256 * 1024 ** 2);
      expect(placed.blocks * 512).toBeLessThan(size + (1 << 20)); // the holes stayed holes
      expect((await readFile(join((JSON.parse(copied.stdout) as { path: string }).path, 'lib64', cuda.name))).equals(await readFile(file))).toBe(true);
    } finally {
      await truncate(file, size);
    }
  });

  it('fails with one line naming the root when there is no driver, or the dir when it is unusable', async () => {
    const empty = await mkdtemp(join(work, 'empty-root-'));
    const none = await cli(['create', '--root', empty, '--dir', join(work, 'cli-none')]);
    expect(none.code).toBe(1);
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(none.stderr).toContain(empty);
    const file = join(work, 'a-file');
    await writeFile(file, '');
    const bad = await cli(['create', '--root', built.root, '--dir', file]);
    expect([bad.code, bad.stderr.split('\n').filter(Boolean).length]).toEqual([1, 1]);
    expect(bad.stderr).toContain(`${file}: cannot use as volumes directory`);
    expect((await cli(['create', '--bogus'])).code).toBe(2);
  });
});
