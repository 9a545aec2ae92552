// Reading a large saved image: `ldcache-dump --image` (whole process: index the archive, stream
// every gzip layer through node:zlib and the tar reader, apply whiteouts, print the cache) against
// only decompressing the same layers (`zcat L1 L2 … > /dev/null`), in the same run. Target: within
// 1.3x. The image is generated once per run: LDCACHE_BENCH_IMAGE_MB of gzip layers (default 1024),
// each layer a tar of many small files plus large files of part-random content (about 2:1 for
// gzip), whiteouts in the later layers, this machine's libc and ld.so.cache in the last one.
// Also: the one-pass stream reader on the same image with manifest.json last, against the CLI's
// random-access read (its ratio and peak RSS: what keeping every layer's record costs).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ldcache-dump.cjs');
const targetMb = Number(process.env.LDCACHE_BENCH_IMAGE_MB ?? 1024);
const LAYERS = 4;
const work = mkdtempSync(join(process.env.LDCACHE_BENCH_DIR ?? tmpdir(), 'ldcache-imagebench-'));

function header(name, size, type = '0', link = '') {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(link, 157, 100);
  h.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** Writes one gzip layer of about `bytes` compressed bytes; returns its path and uncompressed sha256. */
async function makeLayer(index, bytes) {
  const path = join(work, `layer${index}.tar.gz`);
  const gzip = createGzip({ level: 1 });
  const out = createWriteStream(path);
  gzip.pipe(out);
  const hash = createHash('sha256');
  const put = (buf) => {
    hash.update(buf);
    return gzip.write(buf) ? undefined : new Promise((r) => gzip.once('drain', r));
  };
  const file = async (name, data, type = '0', link = '') => {
    await put(header(name, data.length, type, link));
    await put(data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) await put(Buffer.alloc(pad));
  };
  // Many small files (a distribution's worth of names), then big part-random files.
  for (let i = 0; i < 20000; i++) await file(`usr/share/doc/pkg${index}-${i >> 6}/file${i}.txt`, Buffer.from(`layer ${index} file ${i}\n`.repeat(8)));
  for (let i = 0; i < 200; i++) await file(`usr/lib/x86_64-linux-gnu/libbench${index}-${i}.so.1`, Buffer.from('\x7fELF\x02\x01\x01'.padEnd(4096, '\0'), 'latin1'));
  if (index > 0) {
    await file(`usr/share/doc/.wh.pkg${index - 1}-0`, Buffer.alloc(0));
    await file('opt/.wh..wh..opq', Buffer.alloc(0));
  }
  if (index === LAYERS - 1) {
    await file('etc/ld.so.cache', readFileSync('/etc/ld.so.cache'));
    await file('usr/lib/x86_64-linux-gnu/libc.so.6', readFileSync('/lib/x86_64-linux-gnu/libc.so.6'));
  }
  const half = randomBytes(1 << 20);
  let n = 0;
  while (out.bytesWritten < bytes) {
    // 4 MiB files: half random, half zeros and text (gzip level 1 halves them).
    const data = Buffer.concat([half, randomBytes(1 << 20), Buffer.alloc(1 << 20), Buffer.from('text '.repeat(209716))]);
    await file(`opt/data/blob${index}-${n++}.bin`, data);
    await new Promise((r) => setImmediate(r));
  }
  await put(Buffer.alloc(1024));
  const finished = new Promise((r) => out.once('finish', r));
  gzip.end();
  await finished;
  return { path, diffId: `sha256:${hash.digest('hex')}` };
}

console.log(`generating ${LAYERS} gzip layers, about ${targetMb} MiB compressed, in ${work} …`);
const layers = [];
for (let i = 0; i < LAYERS; i++) layers.push(await makeLayer(i, (targetMb << 20) / LAYERS));
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
writeFileSync(join(work, 'config.json'), config);
writeFileSync(join(work, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['bench:1'], Layers: layers.map((l) => l.path.slice(work.length + 1)) }]));
const archive = join(work, 'image.tar');
spawnSync('tar', ['-C', work, '-cf', archive, 'manifest.json', 'config.json', ...layers.map((l) => l.path.slice(work.length + 1))]);
const gzBytes = layers.reduce((s, l) => s + statSync(l.path).size, 0);
console.log(`archive ${archive}: ${(statSync(archive).size / 2 ** 20).toFixed(0)} MiB, layers ${(gzBytes / 2 ** 20).toFixed(0)} MiB gzip`);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stderr;
}
/** Peak RSS (KiB) of a command, from GNU time. */
const peak = (cmd, args) => Number(/(\d+)\s*$/.exec(run('/usr/bin/time', ['-f', '%M', cmd, ...args]).trim())?.[1]);

const ours = () => run(process.execPath, [bin, '--image', archive]);
// A second floor: node:zlib alone on the same layers (what ldcache-dump's decompression costs by itself).
const gunzipOnly = join(work, 'gunzip-only.mjs');
writeFileSync(gunzipOnly, "import { createReadStream } from 'node:fs';\nimport { createGunzip } from 'node:zlib';\nfor (const f of process.argv.slice(2)) await new Promise((res, rej) => createReadStream(f, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 256 << 10 })).on('data', () => {}).on('end', res).on('error', rej));\n");
const nodeZlib = () => run(process.execPath, [gunzipOnly, ...layers.map((l) => l.path)]);
// The one-pass reader (the inspector's; the CLI's for gzip-compressed archives) on the same image
// with manifest.json last, as Docker 20.10 writes it: every layer recorded, then replayed.
const archiveLast = join(work, 'image-manifest-last.tar');
spawnSync('tar', ['-C', work, '-cf', archiveLast, ...layers.map((l) => l.path.slice(work.length + 1)), 'config.json', 'manifest.json']);
const onePassScript = join(work, 'one-pass.mjs');
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
writeFileSync(onePassScript, `import { createReadStream } from 'node:fs';
import { loadImageStream } from ${JSON.stringify(join(dist, 'core/image-stream.js'))};
import { nodeGunzip } from ${JSON.stringify(join(dist, 'node/image-source.js'))};
const image = await loadImageStream(createReadStream(process.argv[2], { highWaterMark: 1 << 20 }), process.argv[2], { gunzip: nodeGunzip });
if (!image.tree.tryResolve('/etc/ld.so.cache')) throw new Error('no cache');
`);
const onePass = () => run(process.execPath, [onePassScript, archiveLast]);
const zcat = () => run('sh', ['-c', `zcat ${layers.map((l) => l.path).join(' ')} > /dev/null`]);
ours(); // warm the page cache for both

const rounds = Number(process.env.LDCACHE_BENCH_ROUNDS ?? 3);
const medians = { ours: [], zcat: [], zlib: [], onePass: [] };
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ iterations: 3, time: 0, warmupIterations: 0, warmupTime: 0 });
  bench.add('zcat layers > /dev/null', zcat);
  bench.add('ldcache-dump --image', ours);
  bench.add('node:zlib gunzip only', nodeZlib);
  bench.add('one-pass reader, manifest last', onePass);
  await bench.run();
  medians.zcat.push(bench.tasks[0].result.latency.p50);
  medians.ours.push(bench.tasks[1].result.latency.p50);
  medians.zlib.push(bench.tasks[2].result.latency.p50);
  medians.onePass.push(bench.tasks[3].result.latency.p50);
}
const middle = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const [z, o, n, p] = [middle(medians.zcat), middle(medians.ours), middle(medians.zlib), middle(medians.onePass)];
console.table([
  { task: 'zcat layers > /dev/null', 'median ms': z.toFixed(0), 'MB/s (gzip in)': (gzBytes / 2 ** 20 / (z / 1000)).toFixed(0), 'peak RSS MiB': (peak('sh', ['-c', `zcat ${layers.map((l) => l.path).join(' ')} > /dev/null`]) / 1024).toFixed(0) },
  { task: 'node:zlib gunzip only', 'median ms': n.toFixed(0), 'MB/s (gzip in)': (gzBytes / 2 ** 20 / (n / 1000)).toFixed(0), 'peak RSS MiB': (peak(process.execPath, [gunzipOnly, ...layers.map((l) => l.path)]) / 1024).toFixed(0) },
  { task: 'ldcache-dump --image', 'median ms': o.toFixed(0), 'MB/s (gzip in)': (gzBytes / 2 ** 20 / (o / 1000)).toFixed(0), 'peak RSS MiB': (peak(process.execPath, [bin, '--image', archive]) / 1024).toFixed(0) },
  { task: 'one-pass reader, manifest last (tree only)', 'median ms': p.toFixed(0), 'MB/s (gzip in)': (gzBytes / 2 ** 20 / (p / 1000)).toFixed(0), 'peak RSS MiB': (peak(process.execPath, [onePassScript, archiveLast]) / 1024).toFixed(0) },
]);
console.log(`ratio ldcache-dump --image / zcat: ${(o / z).toFixed(3)}x  [target <= 1.3x: ${o / z <= 1.3 ? 'ok' : 'MISSED'}]`);
console.log(`ratio ldcache-dump --image / node:zlib alone: ${(o / n).toFixed(3)}x (the reader's own cost over decompression)`);
console.log(`ratio one-pass reader (manifest last) / ldcache-dump --image (random access): ${(p / o).toFixed(3)}x`);
if (!process.env.LDCACHE_BENCH_KEEP) rmSync(work, { recursive: true, force: true });
