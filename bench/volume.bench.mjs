// Driver volume creation (createDriverVolume: layout, each file opened beneath the root through
// /proc/self/fd and placed from that descriptor with its inode checked, soname links, manifest,
// fsyncs, atomic rename) against the shell way of putting the same files in place in the same
// run: `cp -al` (hard links) and `cp -a` (copies) of the same files, one cp process each.
// Files: 49 driver-like files (libraries of both ABIs and binaries), about 36 MB in all.
// Before timing, one volume of each kind is made and its placement methods checked (every file
// hard-linked; none linked with `strategy: 'copy'`), so neither line measures a fallback.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { createDriverVolume } from '../dist/node/volume.js';

const VERSION = '535.261.03';
const STEMS = ['libcuda', 'libnvidia-ml', 'libnvidia-ptxjitcompiler', 'libnvidia-opencl', 'libGLX_nvidia', 'libEGL_nvidia',
  'libGLESv2_nvidia', 'libGLESv1_CM_nvidia', 'libnvcuvid', 'libnvidia-encode', 'libnvidia-fbc', 'libnvidia-allocator',
  'libnvidia-opticalflow', 'libnvidia-nvvm', 'libnvidia-glcore', 'libnvidia-eglcore', 'libnvidia-glsi', 'libnvidia-tls',
  'libnvidia-glvkspirv', 'libnvidia-rtcore', 'libnvoptix', 'libnvidia-ngx', 'libnvidia-cfg', 'libvdpau_nvidia'];
/** Rough sizes: a few big libraries (libcuda, glcore, nvvm, rtcore), most well under 1 MB. */
const BIG = new Set(['libcuda', 'libnvidia-glcore', 'libnvidia-nvvm', 'libnvidia-rtcore', 'libnvidia-eglcore', 'libnvoptix']);

const top = mkdtempSync(join(tmpdir(), 'volume-bench-'));
const root = join(top, 'root');
const libraries = [];
/** Source files per volume directory, as the volume places them. */
const sources = { lib64: [], lib: [], bin: [] };
let bytes = 0;
for (const [triplet, bits] of [['x86_64-linux-gnu', 64], ['i386-linux-gnu', 32]]) {
  const dir = `/usr/lib/${triplet}/nvidia/current`;
  mkdirSync(join(root, dir), { recursive: true });
  for (const stem of STEMS.slice(0, bits === 64 ? STEMS.length : 20)) {
    const name = `${stem}.so.${VERSION}`;
    const size = BIG.has(stem) ? 2_500_000 : 150_000;
    writeFileSync(join(root, dir, name), Buffer.alloc(size, stem.length), { mode: 0o644 });
    bytes += size;
    const soname = stem.startsWith('libnvidia-gl') || stem === 'libnvidia-tls' || stem === 'libnvidia-rtcore' ? name : `${stem}.so.1`;
    libraries.push({ path: `${dir}/${name}`, name, soname, arch: bits === 64 ? 'x86-64' : 'i386', bits, category: 'compute', cacheName: null, cachePath: null });
    sources[bits === 64 ? 'lib64' : 'lib'].push(join(root, dir, name));
  }
}
const binaries = [];
mkdirSync(join(root, 'usr/bin'), { recursive: true });
for (const name of ['nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server']) {
  writeFileSync(join(root, 'usr/bin', name), Buffer.alloc(600_000, 1), { mode: 0o755 });
  bytes += 600_000;
  binaries.push({ name, path: `/usr/bin/${name}`, linkPath: `/usr/bin/${name}` });
  sources.bin.push(join(root, 'usr/bin', name));
}
const discovery = {
  root, driverVersion: VERSION, versionSource: 'proc', gpus: [], libraries, binaries,
  devices: [], firmware: [], ipc: [], rejected: [], warnings: [],
};

let n = 0;
const fresh = () => join(top, `out-${n++}`);
const cleanup = { afterEach: () => rmSync(join(top, `out-${n - 1}`), { recursive: true, force: true }) };
// The shell way: one cp per directory of the volume (as a script would do it).
const cp = (flags) => () => {
  const dest = fresh();
  for (const [sub, files] of Object.entries(sources)) {
    mkdirSync(join(dest, sub), { recursive: true });
    execFileSync('cp', [flags, ...files, join(dest, sub)]);
  }
};
const fileCount = Object.values(sources).reduce((n, files) => n + files.length, 0);

/** The placement methods of one volume of each kind: the lines below must measure what they say. */
for (const [strategy, ok] of [['auto', (m) => m.link === fileCount], ['copy', (m) => m.link === 0 && m.clone + m.copy === fileCount]]) {
  const dir = fresh();
  const made = await createDriverVolume({ discovery, dir, strategy });
  rmSync(dir, { recursive: true, force: true });
  console.log(`strategy ${strategy}: ${JSON.stringify(made.methods)}`);
  if (!ok(made.methods)) throw new Error(`strategy ${strategy} placed its ${fileCount} files as ${JSON.stringify(made.methods)}: this bench would not measure what it says`);
}

const bench = new Bench({ time: 3000, warmupTime: 500 });
bench
  .add('createDriverVolume (hard links)', async () => void (await createDriverVolume({ discovery, dir: fresh() })), cleanup)
  .add('cp -al (baseline)', cp('-al'), cleanup)
  .add('createDriverVolume (copies)', async () => void (await createDriverVolume({ discovery, dir: fresh(), strategy: 'copy' })), cleanup)
  .add('cp -a (baseline)', cp('-a'), cleanup);

try {
  await bench.run();
  console.log(`${fileCount} files, ${(bytes / 1e6).toFixed(1)} MB`);
  for (const task of bench.tasks) {
    if (task.result.error) throw task.result.error;
    const l = task.result.latency;
    console.log(`${task.name.padEnd(34)} mean ${(l.mean).toFixed(2).padStart(8)} ms  p50 ${l.p50.toFixed(2).padStart(8)} ms  (${l.samplesCount ?? task.result.samples?.length ?? '?'} samples)`);
  }
  const mean = (name) => bench.getTask(name).result.latency.mean;
  console.log(`hard links: createDriverVolume / cp -al = ${(mean('createDriverVolume (hard links)') / mean('cp -al (baseline)')).toFixed(2)}x the time`);
  console.log(`copies:     createDriverVolume / cp -a  = ${(mean('createDriverVolume (copies)') / mean('cp -a (baseline)')).toFixed(2)}x the time`);
} finally {
  rmSync(top, { recursive: true, force: true });
}
