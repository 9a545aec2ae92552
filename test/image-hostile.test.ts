// Damaged and hostile image archives: every one ends in one line naming the archive (and the
// layer and byte offset where that applies), exit 1, no stack trace, no hang, and nothing read
// from outside the image. Archives are crafted with Python's tarfile (which writes the entries
// GNU tar refuses to: `..` names, links out of the root) and GNU tar.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dockerArchive, layerTar, stage } from './helpers/image-build.js';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'ldcache-dump.cjs');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'image-hostile-'));

function dump(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLine(run: { status: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(run.stdout).toBe('');
  expect(run.status).toBe(1);
  expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).toMatch(pattern);
}

/** A layer tar written by Python's tarfile: entries (name, kind, data or link target). */
function pyTar(out: string, entries: [string, 'file' | 'symlink' | 'hardlink' | 'dir', string][], format = 'PAX_FORMAT'): string {
  const script = `
import tarfile, io, json, sys
entries = json.loads(sys.stdin.read())
with tarfile.open(sys.argv[1], 'w', format=tarfile.${format}) as t:
    for name, kind, data in entries:
        info = tarfile.TarInfo(name)
        if kind == 'file':
            b = data.encode('latin1'); info.size = len(b); t.addfile(info, io.BytesIO(b))
        else:
            info.type = {'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE, 'dir': tarfile.DIRTYPE}[kind]
            info.linkname = data; t.addfile(info)
`;
  const r = spawnSync('python3', ['-c', script, out], { input: JSON.stringify(entries), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const cache = readFileSync('/etc/ld.so.cache').toString('latin1');
let good = '';
beforeAll(() => {
  good = dockerArchive(work, join(work, 'good.tar'), [{ tag: 't:1', layers: [pyTar(join(work, 'good-layer.tar'), [['etc/ld.so.cache', 'file', cache]])] }]);
});

const image = (name: string, layers: string[]): string => dockerArchive(work, join(work, `${name}.tar`), [{ tag: 't:1', layers }]);

describe('hostile and damaged image archives', () => {
  it('the good archive reads', () => {
    expect(dump('--image', good).status).toBe(0);
  });

  it('a cache reached through a link, an empty one, another file: each says what it is, never "too large"', () => {
    // Only files named ld.so.cache keep their bytes in the one pass over the layers: a link to
    // /opt/ld.so.cache reads as the file itself; a link to a file of another name is not read.
    const viaNamed = dump('--image', image('link-named', [pyTar(join(work, 'link-named.tar'), [['opt/ld.so.cache', 'file', cache], ['etc/ld.so.cache', 'symlink', '../opt/ld.so.cache']])]));
    expect(viaNamed.status, viaNamed.stderr).toBe(0);
    expect(viaNamed.stdout).toBe(dump('--image', good).stdout);
    const other = image('link-other', [pyTar(join(work, 'link-other.tar'), [['real/c', 'file', cache], ['etc/ld.so.cache', 'symlink', '/real/c']])]);
    expectOneLine(dump('--image', other), /link-other\.tar: \/etc\/ld\.so\.cache \(-> \/real\/c\) in the image is not read: only files named ld\.so\.cache are kept from an image's layers$/m);
    expectOneLine(dump('--image', other, '/real/c'), /link-other\.tar: \/real\/c in the image is not read: only files named ld\.so\.cache/);
    const empty = image('empty-cache', [pyTar(join(work, 'empty-cache.tar'), [['etc/ld.so.cache', 'file', '']])]);
    expectOneLine(dump('--image', empty), /empty-cache\.tar:\/etc\/ld\.so\.cache: .*empty file, not an ld\.so\.cache/);
  });

  it('a truncated archive', () => {
    const cut = join(work, 'cut.tar');
    writeFileSync(cut, readFileSync(good));
    truncateSync(cut, Math.floor(readFileSync(good).length / 2));
    expectOneLine(dump('--image', cut), new RegExp(`^ldcache-dump: ${cut}: .*(truncated|runs past the end)`));
  });

  it('not a tar at all, and a bad header checksum', () => {
    const junk = join(work, 'junk.tar');
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    expectOneLine(dump('--image', junk), /junk\.tar: not a tar header \(bad checksum\) \(at byte 0\)/);
  });

  it('a gzip-compressed archive reads in one pass; cut or corrupt, it is one line', () => {
    const gz = join(work, 'whole.tar.gz');
    const zipped = spawnSync('gzip', ['-c', good]).stdout as Buffer;
    writeFileSync(gz, zipped);
    const plain = dump('--image', good);
    const viaStream = dump('--image', gz);
    expect(viaStream.status, viaStream.stderr.toString()).toBe(0);
    expect(plain.status).toBe(0);
    expect(viaStream.stdout).toBe(plain.stdout);
    const cut = join(work, 'whole-cut.tar.gz');
    writeFileSync(cut, zipped.subarray(0, Math.floor(zipped.length / 2)));
    expectOneLine(dump('--image', cut), new RegExp(`^ldcache-dump: ${cut}: `));
    const garbled = join(work, 'whole-bad.tar.gz');
    const bad = Buffer.from(zipped);
    bad.fill(0x55, 30, 300);
    writeFileSync(garbled, bad);
    expectOneLine(dump('--image', garbled), new RegExp(`^ldcache-dump: ${garbled}: `));
  });

  it('one pass: many small layers are recorded, never kept whole; members of no known kind are bounded', () => {
    // 90 tar layers of 800 KiB random bytes (72 MiB of members under 1 MiB) and the cache's layer.
    const layers: string[] = [];
    for (let i = 0; i < 90; i++) layers.push(layerTar(stage(work, { [`opt/f${i}`]: { file: randomBytes(800 << 10) } }), join(work, `small-${i}.tar`)));
    layers.push(pyTar(join(work, 'small-cache.tar'), [['etc/ld.so.cache', 'file', cache]]));
    const many = image('many-small', layers);
    const gz = `${many}.gz`;
    writeFileSync(gz, spawnSync('gzip', ['-1', '-c', many], { maxBuffer: 1 << 30 }).stdout);
    const plain = dump('--image', many);
    expect(plain.status, plain.stderr).toBe(0);
    const streamed = dump('--image', gz);
    expect(streamed.status, streamed.stderr).toBe(0);
    expect(streamed.stdout).toBe(plain.stdout);
    // The good image plus 70 members of 1 MiB that are neither gzip, tar nor JSON: kept whole up to 64 MiB in all, then refused.
    const dir = mkdtempSync(join(work, 'junk-'));
    expect(spawnSync('tar', ['-C', dir, '-xf', good]).status).toBe(0);
    for (let i = 0; i < 70; i++) writeFileSync(join(dir, `junk-${i}`), randomBytes(1 << 20));
    const junk = join(work, 'junk.tar.gz');
    expect(spawnSync('sh', ['-c', `tar -C ${dir} -cf - . | gzip -1 > ${junk}`]).status).toBe(0);
    expectOneLine(dump('--image', junk), /junk\.tar\.gz: the archive's manifests, configs and other small members exceed 64 MiB$/m);
  });

  it('a zstd layer, a corrupt gzip layer', () => {
    const layer = pyTar(join(work, 'z.tar'), [['etc/ld.so.cache', 'file', cache]]);
    spawnSync('zstd', ['-q', '-f', layer, '-o', `${layer}.zst`]);
    expectOneLine(dump('--image', image('zstd', [`${layer}.zst`])), /layer 1 .*zstd-compressed layer: not supported/);
    const bad = join(work, 'bad.tar.gz');
    const bytes = spawnSync('gzip', ['-c', layer]).stdout as Buffer;
    bytes.fill(0x55, 40, 200);
    writeFileSync(bad, bytes);
    expectOneLine(dump('--image', image('badgz', [bad])), /layer 1 \([0-9a-f]{64}\/layer\.tar\): (cannot read the layer|.*header)/);
  });

  it('entries that climb out of the root', () => {
    expectOneLine(dump('--image', image('dotdot', [pyTar(join(work, 'dd.tar'), [['../../etc/ld.so.cache', 'file', cache]])])), /layer 1 .*entry '\.\.\/\.\.\/etc\/ld\.so\.cache' climbs out of the image root/);
  });

  it('links pointing outside the image are resolved inside it, never on this machine', () => {
    // /etc/ld.so.cache -> ../../../../../etc/ld.so.cache and a hard link to /etc/hostname: the
    // host has both; the image has neither.
    const out = pyTar(join(work, 'links.tar'), [['etc/ld.so.cache', 'symlink', '../../../../../../../../usr/../etc/x/../ld.so.cache2'], ['etc/ld.so.cache2', 'symlink', '/../../../../etc/ld.so.cache']]);
    expectOneLine(dump('--image', image('links', [out])), /no \/etc\/ld\.so\.cache in the image/);
    const loop = pyTar(join(work, 'loop.tar'), [['etc/ld.so.cache', 'symlink', 'a'], ['etc/a', 'symlink', 'ld.so.cache']]);
    expectOneLine(dump('--image', image('loop', [loop])), /no \/etc\/ld\.so\.cache in the image/);
  });

  it('manifest paths and digests that climb out of the archive', () => {
    const dir = mkdtempSync(join(work, 'm-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: '../../etc/passwd', RepoTags: ['x:1'], Layers: [] }]));
    spawnSync('tar', ['-C', dir, '-cf', join(work, 'm.tar'), 'manifest.json']);
    expectOneLine(dump('--image', join(work, 'm.tar')), /manifest\.json path '\.\.\/\.\.\/etc\/passwd' climbs out of the archive/);
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:../../../../etc/passwd' }] }));
    spawnSync('tar', ['-C', dir, '-cf', join(work, 'i.tar'), 'index.json']);
    expectOneLine(dump('--image', join(work, 'i.tar')), /invalid digest "sha256:\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/);
    writeFileSync(join(dir, 'manifest.json'), '[{"Config": ');
    spawnSync('tar', ['-C', dir, '-cf', join(work, 'j.tar'), 'manifest.json']);
    expectOneLine(dump('--image', join(work, 'j.tar')), /manifest\.json: invalid JSON/);
  });

  it('a huge PAX header and a layer missing from the archive', () => {
    const pax = pyTar(join(work, 'pax.tar'), [['etc/' + 'x'.repeat(2_000_000), 'file', '']]);
    expectOneLine(dump('--image', image('pax', [pax])), /PAX header of \d+ bytes is implausibly large/);
    const dir = mkdtempSync(join(work, 'n-'));
    writeFileSync(join(dir, 'c.json'), '{"architecture":"amd64","os":"linux"}');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['nope/layer.tar'] }]));
    spawnSync('tar', ['-C', dir, '-cf', join(work, 'n.tar'), 'manifest.json', 'c.json']);
    expectOneLine(dump('--image', join(work, 'n.tar')), /layer 1 \(nope\/layer\.tar\) is not in the archive/);
  });

  it('memory stays bounded: many large C library copies are refused, not held', () => {
    // 13 x 32 MiB files named libc.so.6 (zeros: the gzip layer is small) would be kept whole.
    const out = join(work, 'many-libc.tar.gz');
    const script = `
import tarfile, io, sys
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
with tarfile.open(sys.argv[1], 'w:gz', compresslevel=1) as t:
    for i in range(13):
        info = tarfile.TarInfo(f'usr/lib/d{i}/libc.so.6'); info.size = 32 << 20
        t.addfile(info, io.BufferedReader(Zeros(info.size)))
`;
    expect(spawnSync('python3', ['-c', script, out]).status).toBe(0);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, '--image', image('many-libc', [out])], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/layer 1 .*: the image's linker files .* exceed 384 MiB$/);
    expect(Number(lines[lines.length - 1])).toBeLessThan(600 * 1024); // peak RSS (KiB) well below what 13 x 32 MiB would take on top of Node
    // The same archive gzip-compressed as a whole goes through the one-pass reader: its own bound, as low.
    const whole = join(work, 'many-libc-whole.tar.gz');
    writeFileSync(whole, spawnSync('gzip', ['-1', '-c', image('many-libc', [out])], { maxBuffer: 1 << 30 }).stdout);
    const s = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, '--image', whole], { encoding: 'utf8', timeout: 120_000 });
    expect(s.status).toBe(1);
    const streamed = s.stderr.trim().split('\n');
    expect(streamed[0]).toMatch(/many-libc-whole\.tar\.gz: the layers' linker files .* exceed 384 MiB$/);
    expect(Number(streamed[streamed.length - 1])).toBeLessThan(600 * 1024);
  });

  it('a damaged cache inside the image names the image, the file and the byte offset', () => {
    const layer = layerTar(stage(work, { 'etc/ld.so.cache': { file: Buffer.from(cache, 'latin1').subarray(0, 100) } }), join(work, 'short.tar'));
    expectOneLine(dump('--image', image('short', [layer])), /short\.tar:\/etc\/ld\.so\.cache: .*\(at byte \d+\)$/m);
  });
});
