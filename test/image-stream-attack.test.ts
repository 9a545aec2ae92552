// Attacks on the one-pass image reader (`--image` of a gzip-compressed archive or a pipe) and on
// the random-access one: what a small hostile archive makes them hold, and an archive on a pipe. Archives are written
// by Python's tarfile, streamed through gzip (nothing big on disk); peak RSS by /usr/bin/time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'bin', 'ldcache-dump.cjs');
const work = mkdtempSync(join(process.env.LDCACHE_TEST_TMP ?? '/tmp', 'image-stream-attack-'));

/** Writes a docker-archive (manifest.json after the layers, as Docker 20.10 does) with the layers the Python expression builds, listed `listings` times. */
function archive(out: string, layersPython: string, compress: boolean, listings = 1): string {
  const script = `
import tarfile, io, gzip, json, sys
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return b.getvalue()
def file(name, data):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def folder(name):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; return (i, None)
def link(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; return (i, None)
cache = open('/etc/ld.so.cache', 'rb').read()
layers = ${layersPython}
cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'config': {}, 'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + '0' * 64] * len(layers)}}).encode()
man = json.dumps([{'Config': 'c.json', 'RepoTags': ['t:1'], 'Layers': ['l%03d/layer.tar' % i for i in range(len(layers))] * int(sys.argv[3])}]).encode()
out = gzip.open(sys.argv[1], 'wb', 1) if sys.argv[2] == 'gz' else open(sys.argv[1], 'wb')
with tarfile.open(fileobj=out, mode='w|', format=tarfile.PAX_FORMAT) as t:
    for name, data in [('l%03d/layer.tar' % i, l) for i, l in enumerate(layers)] + [('c.json', cfg), ('manifest.json', man)]:
        t.addfile(file(name, data)[0], io.BytesIO(data))
out.close()
`;
  const r = spawnSync('python3', ['-c', script, out, compress ? 'gz' : 'plain', String(listings)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** ldcache-dump --image under /usr/bin/time: exit status, stdout, stderr lines without time's, peak RSS in KiB. */
function dump(path: string, pipeFrom?: string): { status: number | null; stdout: string; errors: string[]; rssKiB: number } {
  const command = ['/usr/bin/time', '-f', '%M', process.execPath, bin, '--image', path];
  // A shell's pipe, as `cat F | ldcache-dump --image /dev/stdin` makes (Node's own stdin input is a socket).
  const r = pipeFrom === undefined
    ? spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 })
    : spawnSync('sh', ['-c', 'cat "$0" | exec "$@"', pipeFrom, ...command], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 26 });
  const lines = r.stderr.trim().split('\n');
  const rss = Number(lines.pop());
  return { status: r.status, stdout: r.stdout, errors: lines.filter((l) => !/^Command exited/.test(l)), rssKiB: rss };
}

describe('the image readers under attack', () => {
  it('names and link targets of 1 MiB each (a 40 KB archive) are refused at a bound, not held: gigabytes before', () => {
    // 300 entries whose PAX path is ~1 MB each, and as many symlinks whose PAX linkpath is:
    // gzip makes each a few dozen bytes; held, 2,000 of them took 2 GB of RSS.
    const layer = `[gzip.compress(tar([file('d%05d/' % n + 'a' * 999_000, b'') for n in range(300)]), 1)]`;
    const paths = archive(join(work, 'long-paths.tar.gz'), layer, true);
    const links = archive(join(work, 'long-links.tar'), `[tar([link('l%05d' % n, 'b' * 999_000) for n in range(300)])]`, false);
    const a = dump(paths);
    expect(a.errors).toEqual([`ldcache-dump: ${paths}: the archive's file names and link targets exceed 256 MiB`]);
    expect(a.status).toBe(1);
    expect(a.rssKiB).toBeLessThan(700 * 1024);
    const b = dump(links);
    expect(b.errors).toEqual([`ldcache-dump: ${links}: layer 1 (l000/layer.tar): the image's file names and link targets exceed 256 MiB`]);
    expect(b.rssKiB).toBeLessThan(700 * 1024);
    const c = dump('/dev/stdin', links);
    expect(c.errors).toEqual([`ldcache-dump: /dev/stdin: the archive's file names and link targets exceed 256 MiB`]);
  }, 60_000);

  it('global PAX headers accumulate: past 1 MiB in all they are refused, not held (1,500 of distinct 1 MB keys, a 136 KB layer, held 1.5 GB)', () => {
    // Five headers of 1 MB keys pass the bound; Python's tarfile writes one global header per archive, so the layer is written header by header.
    const layer = `[b''.join(tarfile.TarInfo._create_pax_generic_header({'k%06d' % i: 'v' * 999_000}, tarfile.XGLTYPE, 'utf-8') for i in range(5)) + tar([file('etc/x', b'')])]`;
    for (const compress of [false, true]) {
      const out = archive(join(work, `global-pax.tar${compress ? '.gz' : ''}`), `[gzip.compress(l, 1) for l in ${layer}]`, compress);
      const r = dump(out);
      expect([r.status, r.errors]).toEqual([1, [`ldcache-dump: ${out}: layer 1 (l000/layer.tar): global PAX headers of more than 1 MiB in all (at byte 1000448 of the uncompressed layer)`]]);
      expect(r.rssKiB).toBeLessThan(400 * 1024);
    }
  }, 60_000);

  it('entries beneath a link to a 2,000-deep directory: a bound on what links expand to, not minutes', () => {
    // Each entry x/fN resolves x again: 2,000 components apiece. 100,000 such entries (a 1 MB
    // archive) took 52 s, 2 million would take a quarter of an hour; 3,000 pass the 5 million bound.
    const layer = `[tar([folder('/'.join(['a'] * (d + 1))) for d in range(2000)] + [link('x', '/'.join(['a'] * 2000))] + [file('x/f%05d' % k, b'') for k in range(3000)])]`;
    for (const compress of [false, true]) {
      const out = archive(join(work, `deep-link.tar${compress ? '.gz' : ''}`), layer, compress);
      const r = dump(out);
      expect([r.status, r.errors]).toEqual([1, [`ldcache-dump: ${out}: layer 1 (l000/layer.tar): symbolic links in the image expand to more than 5000000 path components while its layers are applied`]]);
    }
  }, 60_000);

  it('a manifest that lists one layer thousands of times: a bound, in seconds, not a minute per 30 KB', () => {
    // One layer of 2,000 entries listed 100,000 times (a 30 KB gzip archive): each listing applied
    // it again, past a minute of CPU in either reader. Listed 4,000 times (under the layer bound),
    // the entries applied over all listings meet the 2 million bound at listing 1,001.
    const layer = `[tar([file('usr/share/f%05d' % i, b'') for i in range(2000)])]`;
    const listed = (times: number, compress: boolean, out: string): string => archive(join(work, out), layer, compress, times);
    for (const compress of [false, true]) {
      const many = listed(100_000, compress, `listed-100000.tar${compress ? '.gz' : ''}`);
      const a = dump(many);
      expect([a.status, a.errors]).toEqual([1, [`ldcache-dump: ${many}: the image has 100000 layers, more than the 4096 allowed`]]);
    }
    const some = listed(4000, true, 'listed-4000.tar.gz');
    const b = dump(some);
    expect([b.status, b.errors]).toEqual([1, [`ldcache-dump: ${some}: layer 1001 (l000/layer.tar): more than 2000000 entries in the image's layers`]]);
  }, 60_000);

  it('an archive on a pipe (/dev/stdin, <(docker save …)) is read in one pass: before, its size 0 read as no image', () => {
    const layers = `[tar([file('etc/ld.so.cache', cache)])]`;
    const plain = archive(join(work, 'pipe.tar'), layers, false);
    const zipped = archive(join(work, 'pipe.tar.gz'), layers, true);
    const expected = dump(plain);
    expect([expected.status, expected.errors]).toEqual([0, []]);
    for (const file of [plain, zipped]) {
      const viaPipe = dump('/dev/stdin', file);
      expect([viaPipe.status, viaPipe.errors]).toEqual([0, []]);
      expect(viaPipe.stdout).toBe(expected.stdout);
    }
    // /dev/zero: two zero blocks end the tar at once; /dev/urandom: the first header's checksum.
    expect(dump('/dev/zero').errors).toEqual(['ldcache-dump: /dev/zero: not a tar archive (no members)']);
    expect(dump('/dev/urandom').errors).toEqual(['ldcache-dump: /dev/urandom: not a tar header (bad checksum) (at byte 0)']);
  }, 60_000);

  it('a broken tar on a pipe: the byte offset is "of the decompressed archive" only when the archive was gzip', () => {
    // A gzip magic's first byte alone (0x1f, then not 0x8b) is no gzip stream: the offset is the file's.
    const plain = join(work, 'broken-1f.tar');
    writeFileSync(plain, Buffer.concat([Buffer.from([0x1f, 0x00]), Buffer.alloc(1022, 0x41)]));
    const zipped = join(work, 'broken.tar.gz');
    writeFileSync(zipped, gzipSync(Buffer.alloc(1024, 0x41)));
    expect(dump('/dev/stdin', plain).errors).toEqual(['ldcache-dump: /dev/stdin: not a tar header (bad checksum) (at byte 0)']);
    expect(dump('/dev/stdin', zipped).errors).toEqual(['ldcache-dump: /dev/stdin: not a tar header (bad checksum) (at byte 0 of the decompressed archive)']);
  }, 60_000);

  it('a gzip archive damaged past its tar header: the error counts the bytes of the file read, not of the decompressed archive', () => {
    // A valid tar of incompressible bytes, gzip'd (stored blocks), one byte flipped mid-way:
    // gunzip finds it by the checksum at the end, after reading the whole file.
    const tar = spawnSync('tar', ['-cf', '-', '-C', '/usr/bin', 'tar'], { maxBuffer: 1 << 28 }).stdout;
    const damaged = gzipSync(tar, { level: 0 });
    damaged[damaged.length >> 1] ^= 0xff;
    const file = join(work, 'damaged.tar.gz');
    writeFileSync(file, damaged);
    for (const path of [file, '/dev/stdin']) {
      const r = dump(path, path === file ? undefined : file);
      expect([r.status, r.errors]).toEqual([1, [`ldcache-dump: ${path}: cannot read the archive: incorrect data check (after ${damaged.length} bytes of the file)`]]);
    }
  }, 60_000);
});
