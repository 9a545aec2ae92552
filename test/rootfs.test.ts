// Root-confined resolution against hostile roots: absolute links, `..` climbing, loops,
// over-long chains, and links swapped between resolution and opening.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LINK_HOPS, RootFs, RootFsError, hostPath } from '../src/node/rootfs.js';

let top: string;
let root: string;
const put = (path: string, text: string): void => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
const link = (path: string, target: string): void => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  symlinkSync(target, join(root, path));
};
const codeOf = (run: () => unknown): string => {
  try {
    run();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(RootFsError);
    return (err as RootFsError).code;
  }
};

beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'rootfs-test-'));
  root = join(top, 'root');
  mkdirSync(root);
  // Something outside the root that a hostile link would like to reach.
  writeFileSync(join(top, 'outside-secret'), 'host secret');
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

describe('resolution inside the root', () => {
  it('re-roots absolute links of a Debian alternatives chain', () => {
    put('/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.535.261.03', 'driver');
    link('/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1', 'libcuda.so.535.261.03');
    link('/etc/alternatives/nvidia--libcuda.so.1-x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.1');
    link('/usr/lib/x86_64-linux-gnu/libcuda.so.1', '/etc/alternatives/nvidia--libcuda.so.1-x86_64-linux-gnu');
    link('/lib', 'usr/lib');
    const fs = new RootFs(root);
    const resolved = fs.resolve('/lib/x86_64-linux-gnu/libcuda.so.1');
    expect(resolved.path).toBe('/usr/lib/x86_64-linux-gnu/nvidia/current/libcuda.so.535.261.03');
    expect(resolved.hops).toBe(4);
    expect(fs.readFile('/lib/x86_64-linux-gnu/libcuda.so.1').toString()).toBe('driver');
    // Not followed: the final link itself.
    expect(fs.resolve('/lib/x86_64-linux-gnu/libcuda.so.1', false).stats.isSymbolicLink()).toBe(true);
  });

  it('keeps links to host files inside the root', () => {
    link('/evil', join(top, 'outside-secret'));
    link('/shadow', '/etc/shadow');
    link('/climb', '../../../../../../../../outside-secret');
    link('/deep/dir/climb', '../../../../../../etc/passwd');
    expect(codeOf(() => new RootFs(root).readFile('/evil'))).toBe('ENOENT');
    expect(codeOf(() => new RootFs(root).readFile('/shadow'))).toBe('ENOENT');
    expect(codeOf(() => new RootFs(root).readFile('/climb'))).toBe('ENOENT');
    put('/etc/passwd', 'root passwd of the driver root');
    put('/outside-secret', 'the root own file');
    const fs = new RootFs(root);
    expect(fs.resolve('/deep/dir/climb').path).toBe('/etc/passwd');
    expect(fs.readFile('/deep/dir/climb').toString()).toBe('root passwd of the driver root');
    expect(fs.readFile('/climb').toString()).toBe('the root own file');
    expect(fs.resolve('/../../..').path).toBe('/');
  });

  it('stops loops and over-long chains with a clear error', () => {
    link('/a', 'b');
    link('/b', '/a');
    link('/self', 'self');
    for (let i = 0; i < MAX_LINK_HOPS + 1; i++) link(`/chain${i}`, `chain${i + 1}`);
    put(`/chain${MAX_LINK_HOPS + 1}`, 'end');
    const fs = new RootFs(root);
    expect(codeOf(() => fs.resolve('/a'))).toBe('ELOOP');
    expect(codeOf(() => fs.resolve('/self/x'))).toBe('ELOOP');
    expect(() => fs.resolve('/a')).toThrow(/\/a: too many levels of symbolic links \(more than 40\)/);
    // 40 hops resolve, 41 do not.
    expect(fs.readFile('/chain1').toString()).toBe('end');
    expect(codeOf(() => fs.resolve('/chain0'))).toBe('ELOOP');
    expect(fs.tryResolve('/a')).toBeNull();
    expect(fs.problems.join('\n')).toMatch(/too many levels/);
  });

  it('tells missing files and non-directories apart from success', () => {
    put('/file', 'x');
    const fs = new RootFs(root);
    expect(codeOf(() => fs.resolve('/missing/thing'))).toBe('ENOENT');
    expect(codeOf(() => fs.resolve('/file/inside'))).toBe('ENOTDIR');
    expect(codeOf(() => fs.open('/'))).toBe('ENOTREG');
    expect(fs.readdir('/nowhere').names).toEqual([]);
    expect(codeOf(() => new RootFs(join(top, 'no-such-root')))).toBe('ENOENT');
    expect(codeOf(() => new RootFs(join(root, 'file')))).toBe('ENOTDIR');
  });

  it('does not open a FIFO (which would block)', () => {
    execFileSync('mkfifo', [join(root, 'fifo')]);
    expect(codeOf(() => new RootFs(root).open('/fifo'))).toBe('ENOTREG');
  });

  it('maps inside paths to host paths without climbing out', () => {
    expect(hostPath('/srv/root', '/usr/lib')).toBe('/srv/root/usr/lib');
    expect(hostPath('/srv/root', '../../etc/shadow')).toBe('/srv/root/etc/shadow');
    expect(hostPath('/srv/root', '/')).toBe('/srv/root');
  });
});

describe('a link swapped between check and use', () => {
  it('refuses a final component that became a link to a host file', () => {
    put('/lib/libcuda.so.1', 'driver');
    const fs = new RootFs(root);
    fs.resolve('/lib/libcuda.so.1');
    rmSync(join(root, 'lib/libcuda.so.1'));
    symlinkSync(join(top, 'outside-secret'), join(root, 'lib/libcuda.so.1'));
    expect(codeOf(() => fs.open('/lib/libcuda.so.1'))).toBe('ECHANGED');
  });

  it('refuses a directory on the way that became a link out of the root', () => {
    put('/lib/libcuda.so.1', 'driver');
    mkdirSync(join(top, 'elsewhere'));
    writeFileSync(join(top, 'elsewhere', 'libcuda.so.1'), 'host secret');
    const fs = new RootFs(root);
    fs.resolve('/lib/libcuda.so.1');
    renameSync(join(root, 'lib'), join(root, 'lib.old'));
    symlinkSync(join(top, 'elsewhere'), join(root, 'lib'));
    expect(codeOf(() => fs.open('/lib/libcuda.so.1'))).toBe('ECHANGED');
    // A fresh lookup follows the new link inside the root, where it leads nowhere.
    expect(codeOf(() => new RootFs(root).open('/lib/libcuda.so.1'))).toBe('ENOENT');
    expect(readFileSync(join(top, 'elsewhere', 'libcuda.so.1'), 'utf8')).toBe('host secret');
  });

  it('refuses a file replaced by another one', () => {
    put('/lib/libcuda.so.1', 'driver');
    put('/lib/other', 'other');
    const fs = new RootFs(root);
    fs.resolve('/lib/libcuda.so.1');
    renameSync(join(root, 'lib/other'), join(root, 'lib/libcuda.so.1'));
    expect(codeOf(() => fs.open('/lib/libcuda.so.1'))).toBe('ECHANGED');
  });
});
