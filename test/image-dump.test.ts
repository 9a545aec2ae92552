// `ldcache-dump --image`: an image's ld.so.cache read from a saved image, compared byte for byte
// with the real ldconfig on the file system the engine itself produced (`docker export` /
// `podman export` of a container, extracted, `ldconfig -r DIR -p`). Four images share layers that
// add a cache, white it out, put a new one behind an absolute link, and replace /etc with an
// opaque whiteout and a hard-linked cache; layers in GNU, ustar and PAX tar formats, one gzip.
// The archive is loaded into a private Docker 20.10 and Podman and saved again in every layout
// they write: docker-archive (legacy), oci-archive, OCI directory. Each archive is also read
// gzip-compressed as a whole, through the one-pass stream reader (the inspector's), with the same result.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSharedObject, ldconfigPrint, runLdconfig, writeCacheWithLdconfig } from './helpers/so-builder.js';
import { createPodman, dockerArchive, layerTar, podmanImageSkipReason, stage, type Podman } from './helpers/image-build.js';
import { dockerdSkipReason, runCommand, startDockerd, type PrivateDockerd } from './helpers/dockerd.js';
import { describeNeeding } from './helpers/requirements.js';
import { docker26SkipReason, startDocker26 } from './helpers/docker26.js';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'ldcache-dump.cjs');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'image-dump-'));
const TAGS = ['img:l1', 'img:l2', 'img:l3', 'img:l4'] as const;

function dump(...args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Cache files written by the real ldconfig over gcc-built libraries in `dirs`. */
function cacheFor(name: string, dirs: Record<string, string[]>): string {
  const root = join(work, `root-${name}`);
  for (const [dir, sonames] of Object.entries(dirs)) for (const s of sonames) buildSharedObject({ dir: join(root, dir), file: s, soname: s });
  return writeCacheWithLdconfig({ root, dirs: Object.keys(dirs).map((d) => `/${d}`) });
}

let archive = '';
beforeAll(() => {
  const cacheA = cacheFor('a', { 'opt/a': ['libfoo.so.1', 'libbar.so.2'] });
  const cacheB = cacheFor('b', { 'opt/b': ['libfoo.so.1', 'libbaz.so.3'], 'usr/lib': ['libz9.so.1'] });
  const cacheC = cacheFor('c', { 'opt/c': ['libcuda.so.1'] });
  const l1 = layerTar(stage(work, {
    'etc/ld.so.cache': { file: readFileSync(cacheA) },
    'etc/ld.so.conf.d/a.conf': { file: '/opt/a\n' },
    'opt/a/libfoo.so.1': { file: readFileSync(join(work, 'root-a/opt/a/libfoo.so.1')) },
    'bin/x': { file: '' },
  }), join(work, 'l1.tar'), 'gnu');
  const l2 = layerTar(stage(work, { 'etc/.wh.ld.so.cache': { file: '' }, 'opt/.wh.a': { file: '' } }), join(work, 'l2.tar'), 'ustar');
  const l3 = layerTar(stage(work, {
    'var/cache/ldconfig-b/ld.so.cache': { file: readFileSync(cacheB) },
    'etc/ld.so.cache': { symlink: '/var/cache/ldconfig-b/ld.so.cache' },
  }), join(work, 'l3.tar'), 'pax');
  const l4 = layerTar(stage(work, {
    'etc/.wh..wh..opq': { file: '' },
    'a/ld.so.cache': { file: readFileSync(cacheC) },
    'etc/ld.so.cache': { hardlink: 'a/ld.so.cache' },
  }), join(work, 'l4.tar'), 'pax');
  spawnSync('gzip', ['-k', l4]);
  archive = dockerArchive(work, join(work, 'multi.tar'), [
    { tag: 'img:l1', layers: [l1] },
    { tag: 'img:l2', layers: [l1, l2] },
    { tag: 'img:l3', layers: [l1, l2, l3] },
    { tag: 'img:l4', layers: [l1, l2, l3, `${l4}.gz`] },
  ]);
});

const lstatOrNull = (p: string) => lstatSync(p, { throwIfNoEntry: false }) ?? null;

/** What the real ldconfig prints for the cache of an exported container file system (null: no cache). */
function expectedFromExport(exported: Buffer, name: string): Buffer | null {
  const dir = join(work, `export-${name}`);
  mkdirSync(dir, { recursive: true });
  const tar = spawnSync('tar', ['-C', dir, '-xf', '-'], { input: exported });
  expect(tar.status, tar.stderr?.toString()).toBe(0);
  // lstat: the link is absolute, meaningful only inside the root (ldconfig -r resolves it there).
  if (!lstatOrNull(join(dir, 'etc/ld.so.cache'))) return null;
  const printed = runLdconfig(['-r', dir, '-p']);
  expect(printed.status).toBe(0);
  return printed.stdout;
}

/** The archive gzip-compressed as a whole (`docker save | gzip`): read by the one-pass stream reader. */
function gzipped(archivePath: string): string {
  const out = `${archivePath}.gz`;
  if (!lstatOrNull(out)) writeFileSync(out, spawnSync('gzip', ['-1', '-c', archivePath], { maxBuffer: 1 << 30 }).stdout);
  return out;
}

function expectDump(image: string, ref: string | undefined, expected: Buffer | null): void {
  const run = dump('--image', image, ...(ref ? ['--image-ref', ref] : []));
  if (expected === null) {
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`ldcache-dump: ${image}: no /etc/ld.so.cache in the image\n`);
    return;
  }
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout.equals(expected), `${image} ${ref}:\n${run.stdout.toString().slice(0, 400)}\n---\n${expected.toString().slice(0, 400)}`).toBe(true);
}

describe('the hand-built multi-image archive', () => {
  it('needs --image-ref and lists the images', () => {
    const run = dump('--image', archive);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`ldcache-dump: ${archive}: holds 4 images; choose one with --image-ref: img:l1; img:l2; img:l3; img:l4\n`);
    const wrong = dump('--image', archive, '--image-ref', 'img:nope');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/no image named 'img:nope'; it holds: img:l1; img:l2/);
  });

  it('applies layers and whiteouts as the staged files say (checked against ldconfig -p -C of each file)', () => {
    expectDump(archive, 'img:l2', null);
    // ldconfig -p names the file it was given: print the staged file under the name the image uses.
    for (const [ref, root] of [['img:l1', 'root-a'], ['img:l3', 'root-b'], ['img:l4', 'root-c']] as const) {
      const text = ldconfigPrint(join(work, root, 'etc/ld.so.cache')).stdout.toString('latin1').replace(join(work, root, 'etc/ld.so.cache'), '/etc/ld.so.cache');
      expectDump(archive, ref, Buffer.from(text, 'latin1'));
      expectDump(gzipped(archive), ref, Buffer.from(text, 'latin1'));
    }
    expectDump(gzipped(archive), 'img:l2', null);
  });

  it('JSON and filters work as for files', () => {
    const run = dump('--image', archive, '--image-ref', 'img:l3', '--json');
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout.toString()) as { entries: { name: string; path: string }[] };
    expect(doc.entries.map((e) => e.path).sort()).toEqual(['/opt/b/libbaz.so.3', '/opt/b/libfoo.so.1', '/usr/lib/libz9.so.1']);
    const grep = dump('--image', archive, '--image-ref', 'img:l3', '--grep', 'libfoo');
    const full = ldconfigPrint(join(work, 'root-b/etc/ld.so.cache')).stdout.toString().split('\n');
    const lines = full.filter((l) => l.includes('libfoo') || l.startsWith('Cache generated by'));
    expect(grep.stdout.toString()).toBe(`1 libs found in cache \`/etc/ld.so.cache'\n${lines.join('\n')}\n`);
  });
});

const dockerReason = await dockerdSkipReason();
describeNeeding('Docker 20.10 (private dockerd): docker load, docker save', dockerReason, () => {
  let dockerd: PrivateDockerd;
  const expected = new Map<string, Buffer | null>();
  beforeAll(async () => {
    dockerd = await startDockerd();
    const loaded = await runCommand('docker', ['load', '-i', archive], { env: dockerd.env, timeoutMs: 120_000 });
    expect(loaded.code, loaded.stderr).toBe(0);
    for (const tag of TAGS) {
      const created = await dockerd.docker(['create', '--name', tag.replace(':', '-'), tag, '/bin/x']);
      expect(created.code, created.stderr).toBe(0);
      const out = join(work, `${tag.replace(':', '-')}.export.tar`);
      const exported = await dockerd.docker(['export', '-o', out, tag.replace(':', '-')]);
      expect(exported.code, exported.stderr).toBe(0);
      expected.set(tag, expectedFromExport(readFileSync(out), `docker-${tag.replace(':', '-')}`));
    }
  }, 300_000);
  afterAll(async () => dockerd?.stop());

  it('the engine agrees with the staged caches', () => {
    expect(expected.get('img:l2')).toBeNull();
    expect(expected.get('img:l3')!.toString()).toContain('/opt/b/libbaz.so.3');
    expect(expected.get('img:l4')!.toString()).toContain('/opt/c/libcuda.so.1');
  });

  it('reads every image of its docker save (legacy layout), alone and all in one archive', async () => {
    const all = join(work, 'docker-all.tar');
    const saved = await dockerd.docker(['save', '-o', all, ...TAGS], { timeoutMs: 120_000 });
    expect(saved.code, saved.stderr).toBe(0);
    // Docker 20.10 lists manifest.json after every layer: the one-pass reader must keep the layers' trees until it knows the order.
    const members = spawnSync('tar', ['-tf', all], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(members.filter((m) => m.endsWith('/layer.tar')).length).toBeGreaterThanOrEqual(4);
    expect(members.indexOf('manifest.json')).toBeGreaterThan(Math.max(...members.map((m, i) => (m.endsWith('/layer.tar') ? i : -1))));
    for (const tag of TAGS) {
      const one = join(work, `docker-${tag.replace(':', '-')}.tar`);
      expect((await dockerd.docker(['save', '-o', one, tag])).code).toBe(0);
      expectDump(one, undefined, expected.get(tag)!);
      expectDump(all, tag, expected.get(tag)!);
      expectDump(gzipped(all), tag, expected.get(tag)!);
    }
  });
});

const podmanReason = podmanImageSkipReason();
describeNeeding('Docker 26 (private dockerd): docker save writes the OCI layout', await docker26SkipReason(), () => {
  let engine: PrivateDockerd;
  beforeAll(async () => {
    engine = await startDocker26();
    const loaded = await engine.docker(['load', '-i', archive], { timeoutMs: 120_000 });
    expect(loaded.code, loaded.stderr).toBe(0);
  }, 600_000);
  afterAll(async () => engine?.stop());

  it('reads each image of its save, alone and all in one archive, as the engine exports it', async () => {
    const all = join(work, 'docker26-all.tar');
    expect((await engine.docker(['save', '-o', all, ...TAGS], { timeoutMs: 120_000 })).code).toBe(0);
    const members = spawnSync('tar', ['-tf', all], { encoding: 'utf8' }).stdout.split('\n');
    expect(members).toEqual(expect.arrayContaining(['index.json', 'oci-layout', 'manifest.json']));
    for (const tag of TAGS) {
      const name = `d26-${tag.replace(':', '-')}`;
      expect((await engine.docker(['create', '--name', name, tag, '/bin/x'])).code).toBe(0);
      const out = join(work, `${name}.export.tar`);
      expect((await engine.docker(['export', '-o', out, name])).code).toBe(0);
      const expected = expectedFromExport(readFileSync(out), name);
      const one = join(work, `${name}.tar`);
      expect((await engine.docker(['save', '-o', one, tag])).code).toBe(0);
      expectDump(one, undefined, expected);
      expectDump(all, tag, expected);
      expectDump(gzipped(all), tag, expected);
    }
  });
});

describeNeeding('Podman: podman load, podman save (docker-archive, oci-archive, oci-dir)', podmanReason, () => {
  let podman: Podman;
  const expected = new Map<string, Buffer | null>();
  beforeAll(() => {
    podman = createPodman(work);
    const loaded = podman.podman(['load', '-i', archive]);
    expect(loaded.code, loaded.stderr).toBe(0);
    for (const tag of TAGS) {
      const name = `p-${tag.replace(':', '-')}`;
      expect(podman.podman(['create', '--name', name, `localhost/${tag}`, '/bin/x']).code).toBe(0);
      const out = join(work, `${name}.export.tar`);
      const exported = podman.podman(['export', '-o', out, name]);
      expect(exported.code, exported.stderr).toBe(0);
      expected.set(tag, expectedFromExport(readFileSync(out), name));
    }
  }, 300_000);
  afterAll(() => podman?.cleanup());

  it.each(['docker-archive', 'oci-archive', 'oci-dir'] as const)('reads each image saved as %s', (format) => {
    for (const tag of TAGS) {
      const out = join(work, `podman-${format}-${tag.replace(':', '-')}${format === 'oci-dir' ? '' : '.tar'}`);
      const saved = podman.podman(['save', '--format', format, '-o', out, `localhost/${tag}`]);
      expect(saved.code, saved.stderr).toBe(0);
      expectDump(out, undefined, expected.get(tag)!);
      // The name it was saved under selects it too.
      expectDump(out, `localhost/${tag}`, expected.get(tag)!);
      if (format !== 'oci-dir') expectDump(gzipped(out), undefined, expected.get(tag)!);
    }
  });

  it('reads a multi-image podman save -m', () => {
    const out = join(work, 'podman-multi.tar');
    const saved = podman.podman(['save', '-m', '-o', out, ...TAGS.map((t) => `localhost/${t}`)]);
    expect(saved.code, saved.stderr).toBe(0);
    for (const tag of TAGS) {
      expectDump(out, `localhost/${tag}`, expected.get(tag)!);
      expectDump(gzipped(out), `localhost/${tag}`, expected.get(tag)!);
    }
    writeFileSync(join(work, 'done'), '');
  });
});
