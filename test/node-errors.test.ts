// Errors of the Node layer carry a code and the path (HostError), and codes the host does not
// know are INTERNAL, never a guess such as OUT_OF_MEMORY or TRUNCATED: checked on real failures
// (a /proc file that fails to read, a corrupt cache in a driver root, a file where a directory
// belongs) and through the built CLIs, which print from codes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreError } from '../src/core/parse.js';
import { elfCoreError } from '../src/core/elf.js';
import { discoverDriver } from '../src/node/discover.js';
import { HostError } from '../src/node/errors.js';
import { RootFs, RootFsError } from '../src/node/rootfs.js';
import { readSmallFile, resolveVolumesDir, volumeBaseDir } from '../src/node/volume-fs.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'node-errors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('codes the host does not know', () => {
  it('a cache error code outside the core\'s list is INTERNAL, the known ones keep their names', () => {
    for (const unknown of [0x7f, 1000, -1]) {
      const err = coreError(unknown, 'x.cache');
      expect(err.code).toBe('INTERNAL');
      expect(err.message).toContain(`unknown error code ${unknown}`);
    }
    expect(coreError(3, 'x.cache').code).toBe('BAD_MAGIC');
    expect(coreError(9, 'x.cache').code).toBe('OUT_OF_MEMORY');
  });

  it('an ELF error code outside the core\'s list is INTERNAL, not TRUNCATED', () => {
    for (const unknown of [0, 12, 99]) {
      const err = elfCoreError(unknown, 123, 'lib.so');
      expect(err.code).toBe('INTERNAL');
      expect(err.describe()).toBe(`lib.so: wasm core returned unknown ELF error code ${unknown}`);
    }
    expect(elfCoreError(4, 64, 'lib.so').describe()).toBe('lib.so: ELF file truncated: a header points past the end of the file (at byte 64)');
  });
});

describe('RootFs', () => {
  it('turns a failing read (EIO from /proc/PID/mem at address 0) into a RootFsError naming the file', () => {
    const fs = new RootFs('/proc/self');
    let caught: unknown;
    try {
      fs.readFile('/mem');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RootFsError);
    expect(caught).toBeInstanceOf(HostError);
    const err = caught as RootFsError;
    expect([err.code, err.path, err.message]).toEqual(['EIO', '/mem', '/mem: cannot read /mem: input/output error']);
    // readText reports it as a problem of the root instead of throwing.
    expect(fs.readText('/mem')).toBeNull();
  });
});

describe('a corrupt ld.so.cache in a driver root', () => {
  let built: DriverRoot;
  beforeAll(async () => {
    built = await buildDriverRoot({ gpus: 1, i386: false });
  });
  afterAll(() => built?.cleanup());

  it('gives one warning, naming the file and the byte, and discovery goes on from the directories', async () => {
    writeFileSync(join(built.root, 'etc/ld.so.cache'), 'this is not a linker cache, only some text\n');
    const found = discoverDriver({ root: built.root });
    const aboutCache = found.warnings.filter((w) => w.includes('ld.so.cache'));
    expect(aboutCache).toEqual(['/etc/ld.so.cache: not an ld.so.cache file (bad magic) (at byte 0); scanning library directories instead']);
    expect(found.librarySource).toBe('directories');
    expect(found.driverVersion).toBe(built.version);
  });

  it('an absent cache gives the one warning that says so', async () => {
    rmSync(join(built.root, 'etc/ld.so.cache'));
    const found = discoverDriver({ root: built.root });
    expect(found.warnings.filter((w) => w.includes('ld.so.cache'))).toEqual([
      'no /etc/ld.so.cache in the root: scanning its library directories (ld.so.conf and the standard ones)',
    ]);
  });
});

describe('volumes directory refusals', () => {
  it('carry a code and the path', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    await expect(resolveVolumesDir(file)).rejects.toMatchObject({ code: 'ENOTDIR', path: file, message: `${file}: cannot use as volumes directory: not a directory` });
    const dir = join(scratch, 'volumes');
    mkdirSync(dir);
    symlinkSync('/etc', join(dir, 'nvidia_driver'));
    await expect(volumeBaseDir(dir, true)).rejects.toMatchObject({ code: 'ESYMLINK', path: join(dir, 'nvidia_driver') });
    symlinkSync('/etc/passwd', join(dir, 'state.json'));
    await expect(readSmallFile(join(dir, 'state.json'))).rejects.toMatchObject({ code: 'ESYMLINK', path: join(dir, 'state.json') });
    const err = await resolveVolumesDir(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
  });
});

const cli = join(repo, 'dist/cli/nvidia-volume.js');
describeNeeding('the CLIs print from codes', !existsSync(cli) && 'dist/ is not built (npm run build)', () => {
  let built: DriverRoot;
  beforeAll(async () => {
    built = await buildDriverRoot({ gpus: 1, i386: false });
  });
  afterAll(() => built?.cleanup());
  const run = (...args: string[]): { status: number | null; stderr: string } => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  it('cdi --output names the directory that cannot be made, not a temp file', () => {
    const file = join(scratch, 'plain-file');
    writeFileSync(file, 'x');
    const out = join(file, 'sub', 'nvidia.json');
    expect(run('cdi', '--root', built.root, '--output', out)).toMatchObject({ status: 1, stderr: `nvidia-volume: cannot write ${out}: ${file}: not a directory\n` });
  });

  it('create --dir on a file: one line with the path and the reason', () => {
    const file = join(scratch, 'dir-file');
    writeFileSync(file, '');
    expect(run('create', '--root', built.root, '--dir', file)).toMatchObject({ status: 1, stderr: `nvidia-volume: ${file}: cannot use as volumes directory: not a directory\n` });
  });
});
