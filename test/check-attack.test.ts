// nvidia-volume check --image against a hostile image: an image config whose LD_LIBRARY_PATH
// lists 300,000 directories (3 MB, well within the 16 MiB a config may have) and -e values that
// are no KEY=VALUE. Before, every directory was searched for every driver soname and injection:
// minutes of CPU for one image. Real parts: a driver root (helpers/driver-root.ts), an image
// with this machine's glibc, a docker-archive as `docker load` takes it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { dockerArchive, layerTar, stage } from './helpers/image-build.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'nvidia-volume.js');
const loader = '/lib64/ld-linux-x86-64.so.2';

describeNeeding('nvidia-volume check --image attacked', process.arch !== 'x64' && 'needs an x86-64 host (its glibc goes into the image)', () => {
  let built: DriverRoot;
  let work: string;
  beforeAll(async () => {
    built = await buildDriverRoot({ i386: false, binaries: false, firmware: false });
    work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'check-attack-'));
  });
  afterAll(() => built?.cleanup());
  const check = (...args: string[]) => spawnSync(process.execPath, [bin, 'check', '--root', built.root, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });

  it('an LD_LIBRARY_PATH of 300,000 directories: the first 1,024 distinct ones searched and a warning, in seconds', () => {
    const layer = layerTar(stage(work, {
      'lib64/ld-linux-x86-64.so.2': { copy: loader },
      'lib/x86_64-linux-gnu/libc.so.6': { copy: '/lib/x86_64-linux-gnu/libc.so.6' },
      'etc/ld.so.cache': { file: readFileSync('/etc/ld.so.cache') },
    }), join(work, 'glibc.tar'));
    const llp = Array.from({ length: 300_000 }, (_, i) => `/d${i}`).join(':');
    const image = dockerArchive(work, join(work, 'llp.tar'), [{ tag: 'llp:1', layers: [layer], config: { Env: [`LD_LIBRARY_PATH=${llp}`] } }]);
    const started = Date.now();
    const r = check('--image', image, '--json');
    expect(r.error).toBeUndefined(); // not killed by the 60 s timeout
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { findings: { code: string; message: string }[] };
    expect(report.findings.filter((f) => f.code === 'long-ld-library-path').map((f) => f.message)).toEqual(['LD_LIBRARY_PATH lists 300000 distinct directories; only the first 1024 are checked']);
    expect(Date.now() - started).toBeLessThan(30_000);
    // The text report names the variable whole once, never once per finding.
    const text = check('--image', image);
    expect(text.stdout.length).toBeLessThan(llp.length * 2);
  }, 90_000);

  it('an /etc/ld.so.cache that links to a file of another name is reported as not read (not "too large"); an empty one as the parser says', () => {
    const base = { 'lib64/ld-linux-x86-64.so.2': { copy: loader }, 'lib/x86_64-linux-gnu/libc.so.6': { copy: '/lib/x86_64-linux-gnu/libc.so.6' } } as const;
    const findings = (name: string, files: Parameters<typeof stage>[1]): { code: string; message: string }[] => {
      const image = dockerArchive(work, join(work, `${name}.tar`), [{ tag: `${name}:1`, layers: [layerTar(stage(work, { ...base, ...files }), join(work, `${name}-layer.tar`))] }]);
      const r = check('--image', image, '--json');
      expect(r.stderr).toBe('');
      return (JSON.parse(r.stdout) as { findings: { code: string; message: string }[] }).findings.filter((f) => f.code.endsWith('-cache'));
    };
    const linked = findings('linked-cache', { 'etc/real.cache': { file: readFileSync('/etc/ld.so.cache') }, 'etc/ld.so.cache': { symlink: 'real.cache' } });
    expect(linked.map((f) => f.code)).toEqual(['unread-cache']);
    expect(linked[0]!.message).toMatch(/^the image's \/etc\/ld\.so\.cache leads to \/etc\/real\.cache, which this check does not read .*the loader does read it/);
    const empty = findings('empty-cache', { 'etc/ld.so.cache': { file: '' } });
    expect(empty.map((f) => f.code)).toEqual(['bad-cache']);
    expect(empty[0]!.message).toMatch(/empty file, not an ld\.so\.cache/);
  }, 60_000);

  it('-e values that are no KEY=VALUE are usage errors, one line, exit 2', () => {
    const empty = check('--image', '/nonexistent', '-e', '');
    expect([empty.status, empty.stderr.split('\n')[0]]).toEqual([2, "nvidia-volume: option '--env' needs a non-empty value"]);
    for (const [value, shown] of [['=x', '=x'], ['A B=1', 'A B=1'], ['A\nB=1', 'A?B=1'], ['A\tB=1', 'A?B=1']] as const) {
      // (A NUL cannot reach argv: execve ends each argument at the first.)
      const r = check('--image', '/nonexistent', '-e', value);
      expect([r.status, r.stdout]).toEqual([2, '']);
      expect(r.stderr.split('\n')[0]).toBe(`nvidia-volume: --env needs KEY=VALUE with a non-empty KEY without blanks (got '${shown}')`);
    }
    const unset = check('--image', '/nonexistent', '-e', 'NO_SUCH_VAR_HERE_X');
    expect([unset.status, unset.stderr.split('\n')[0]]).toEqual([2, 'nvidia-volume: --env NO_SUCH_VAR_HERE_X: NO_SUCH_VAR_HERE_X is not set in this environment; give NO_SUCH_VAR_HERE_X=VALUE']);
  });
});
