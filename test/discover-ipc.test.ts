// /tmp/nvidia-mps as a local user can plant it: any kind of file, links of every shape, a
// directory of another user, and /tmp itself reached through a link. Discovery (findIpc over a
// real temp root, RootFs) passes only a real directory that root (or the user running discovery)
// owns; it never opens what it finds (a FIFO does not block it), and each refusal of a link or
// a foreign directory is a warning.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findIpc } from '../src/node/ipc.js';
import { RootFs } from '../src/node/rootfs.js';
import { need } from './helpers/requirements.js';

const root = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? tmpdir(), 'discover-ipc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tmp = join(root, 'tmp');
mkdirSync(tmp);
chmodSync(tmp, 0o1777);
const mps = join(tmp, 'nvidia-mps');

function discover(): { found: { kind: string; path: string }[]; warnings: string[] } {
  const warnings: string[] = [];
  const found = findIpc(new RootFs(root), warnings);
  return { found, warnings };
}

function plant(make: () => void): void {
  rmSync(mps, { recursive: true, force: true });
  make();
}

const LINK_WARNING = '/tmp/nvidia-mps: a symbolic link; not passed to containers (a link there could lead a mount anywhere on the host)';

describe('a planted /tmp/nvidia-mps', () => {
  it('a FIFO, a regular file, a socket-less name: nothing passed, nothing opened, no warning', () => {
    plant(() => execFileSync('mkfifo', [mps]));
    expect(lstatSync(mps).isFIFO()).toBe(true);
    expect(discover()).toEqual({ found: [], warnings: [] });
    plant(() => writeFileSync(mps, 'x'));
    expect(discover()).toEqual({ found: [], warnings: [] });
    plant(() => undefined);
    expect(discover()).toEqual({ found: [], warnings: [] });
  });

  it('links of every shape (to a directory, dangling, to itself, to a FIFO) are refused with a warning', () => {
    mkdirSync(join(root, 'etc'), { recursive: true });
    execFileSync('mkfifo', [join(root, 'fifo')]);
    for (const target of ['/etc', '../etc', '/nonexistent', 'nvidia-mps', '/fifo']) {
      plant(() => symlinkSync(target, mps));
      expect(discover(), target).toEqual({ found: [], warnings: [LINK_WARNING] });
    }
  });

  it("root's own directory is passed, even world-writable (MPS makes it so); another user's is refused", (ctx) => {
    plant(() => mkdirSync(mps));
    chmodSync(mps, 0o777);
    const uid = process.getuid?.() ?? 0;
    expect(lstatSync(mps).uid).toBe(uid);
    expect(discover()).toEqual({ found: [{ kind: 'mps', path: '/tmp/nvidia-mps' }], warnings: [] });
    need(ctx, uid !== 0 && 'needs root to give /tmp/nvidia-mps to another user');
    chownSync(mps, 4242, 4242);
    expect(discover()).toEqual({ found: [], warnings: ['/tmp/nvidia-mps: owned by uid 4242 in world-writable /tmp (any user can make that name); not passed to containers'] });
  });

  it("/tmp reached through a link to another world-writable directory: another user's directory there is still refused", (ctx) => {
    need(ctx, process.getuid?.() !== 0 && 'needs root to give the directory to another user');
    const varTmp = join(root, 'var', 'tmp');
    mkdirSync(varTmp, { recursive: true });
    chmodSync(varTmp, 0o1777);
    rmSync(tmp, { recursive: true, force: true });
    symlinkSync('var/tmp', tmp);
    try {
      mkdirSync(join(varTmp, 'nvidia-mps'));
      chownSync(join(varTmp, 'nvidia-mps'), 4242, 4242);
      expect(discover()).toEqual({ found: [], warnings: ['/tmp/nvidia-mps: owned by uid 4242 in world-writable /tmp (any user can make that name); not passed to containers'] });
    } finally {
      rmSync(tmp);
      mkdirSync(tmp);
      chmodSync(tmp, 0o1777);
    }
  });
});
