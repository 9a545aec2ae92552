// The library directories of a root without ld.so.cache: ld.so.conf with includes (relative,
// globbed, self-including), musl's path file, the standard and multiarch directories.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { globInRoot, libraryDirs } from '../src/node/library-dirs.js';
import { RootFs } from '../src/node/rootfs.js';

let top: string;
let root: string;
const put = (path: string, text: string): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
};
const dir = (...paths: string[]): void => paths.forEach((p) => mkdirSync(join(root, p), { recursive: true }));

beforeEach(() => {
  top = mkdtempSync(join(tmpdir(), 'discover-dirs-'));
  root = join(top, 'root');
  dir('/usr/lib/x86_64-linux-gnu/nvidia/current', '/usr/lib/i386-linux-gnu', '/opt/a', '/opt/b', '/opt/c', '/musl/lib', '/usr/local/lib');
  symlinkSync('usr/lib', join(root, 'lib'));
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

it('follows includes in order, once per file, and adds the standard directories', () => {
  put('/etc/ld.so.conf', `# comment\n/opt/a:/opt/b # trailing comment\n${'include /etc/ld.so.conf\n'.repeat(12)}include ld.so.conf.d/*.conf\nhwcap 1 nosegneg\n/opt/missing\n`);
  put('/etc/ld.so.conf.d/10-c.conf', '/opt/c\n');
  put('/etc/ld.so.conf.d/20-multiarch.conf', '/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n');
  put('/etc/ld.so.conf.d/README', '/opt/not-a-conf\n');
  put('/etc/ld-musl-x86_64.path', '/musl/lib:/opt/a\n');
  const dirs = libraryDirs(new RootFs(root));
  expect(dirs.slice(0, 5)).toEqual(['/opt/a', '/opt/b', '/opt/c', '/usr/lib/x86_64-linux-gnu', '/musl/lib']);
  for (const wanted of ['/usr/lib', '/usr/lib/x86_64-linux-gnu/nvidia/current', '/usr/lib/i386-linux-gnu', '/usr/local/lib']) expect(dirs).toContain(wanted);
  expect(dirs).not.toContain('/opt/missing');
  expect(dirs).not.toContain('/opt/not-a-conf');
  expect(new Set(dirs).size).toBe(dirs.length);
});

it('globs inside the root, sorted, without hidden files', () => {
  put('/etc/ld.so.conf.d/b.conf', '');
  put('/etc/ld.so.conf.d/a.conf', '');
  put('/etc/ld.so.conf.d/.hidden.conf', '');
  put('/etc/ld.so.conf.d/x[1].conf', '');
  expect(globInRoot(new RootFs(root), '/etc/ld.so.conf.d/*.conf')).toEqual(['/etc/ld.so.conf.d/a.conf', '/etc/ld.so.conf.d/b.conf', '/etc/ld.so.conf.d/x[1].conf']);
  expect(globInRoot(new RootFs(root), '/etc/ld.so.conf.d/[ab].conf')).toEqual(['/etc/ld.so.conf.d/a.conf', '/etc/ld.so.conf.d/b.conf']);
});
