// discoverDriver on a generated Debian-shaped root (about 300 cache entries, 60 driver files
// reached through absolute /etc/alternatives links, proc files, binaries) against a baseline
// doing the same lookups the naive way: plain fs.realpath on the host, one read per library
// header, no root confinement. Target: under 50 ms per discovery in-process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Bench } from 'tinybench';
import { loadTestHelper } from './test-helpers.mjs';
import { parseLdCache } from '../dist/core/parse.js';
import { libraryCategory } from '../dist/core/nvidia-libraries.js';
import { discoverDriver } from '../dist/node/discover.js';

const VERSION = '535.261.03';
const ABIS = [
  { triplet: 'x86_64-linux-gnu', bits: 64, machine: 62 },
  { triplet: 'i386-linux-gnu', bits: 32, machine: 3 },
];
const CURRENT = ['libcuda', 'libEGL_nvidia', 'libGLESv1_CM_nvidia', 'libGLESv2_nvidia', 'libGLX_nvidia', 'libnvcuvid', 'libnvidia-allocator',
  'libnvidia-cfg', 'libnvidia-encode', 'libnvidia-fbc', 'libnvidia-ml', 'libnvidia-ngx', 'libnvidia-nvvm', 'libnvidia-opencl',
  'libnvidia-opticalflow', 'libnvidia-ptxjitcompiler', 'libnvoptix', 'libcudadebugger', 'libnvidia-pkcs11', 'libnvidia-gpucomp',
  'libnvidia-fatbinaryloader', 'libnvidia-nscq', 'libnvidia-ifr', 'libnvidia-compiler'];
const VERSIONED = ['libnvidia-glcore', 'libnvidia-eglcore', 'libnvidia-glsi', 'libnvidia-rtcore', 'libnvidia-glvkspirv', 'libnvidia-cbl'];
const FILLERS = 120; // per ABI

/** A minimal ELF shared object (the test suite's ELF writer: PT_LOAD, PT_DYNAMIC with SONAME and NEEDED, PT_NOTE). */
const { synthesize } = await loadTestHelper('elf-writer');
const elf = (bits, machine, soname, needed) => synthesize({ bits, big: false, machine, soname, needed });

function put(root, path, data) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), data);
}
function link(root, path, target) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  symlinkSync(target, join(root, path));
}

function generateRoot() {
  const top = mkdtempSync(join(tmpdir(), 'discover-bench-'));
  const root = join(top, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  link(root, '/lib', 'usr/lib');
  put(root, '/etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
  let driverFiles = 0;
  for (const { triplet, bits, machine } of ABIS) {
    const multiarch = `/usr/lib/${triplet}`;
    put(root, `/etc/ld.so.conf.d/${triplet}.conf`, `/lib/${triplet}\n/usr/lib/${triplet}\n`);
    put(root, `${multiarch}/libc.so.6`, elf(bits, machine, 'libc.so.6', []));
    for (const stem of CURRENT) {
      const soname = `${stem}.so.1`;
      put(root, `${multiarch}/nvidia/current/${stem}.so.${VERSION}`, elf(bits, machine, soname, ['libc.so.6']));
      link(root, `${multiarch}/nvidia/current/${soname}`, `${stem}.so.${VERSION}`);
      link(root, `/etc/alternatives/nvidia--${soname}-${triplet}`, `${multiarch}/nvidia/current/${soname}`);
      link(root, `${multiarch}/${soname}`, `/etc/alternatives/nvidia--${soname}-${triplet}`);
      driverFiles++;
    }
    for (const stem of VERSIONED) {
      put(root, `${multiarch}/${stem}.so.${VERSION}`, elf(bits, machine, `${stem}.so.${VERSION}`, ['libc.so.6']));
      driverFiles++;
    }
    for (let i = 0; i < FILLERS; i++) put(root, `${multiarch}/libfiller${i}.so.1`, elf(bits, machine, `libfiller${i}.so.1`, ['libc.so.6']));
  }
  put(root, '/proc/driver/nvidia/version', `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${VERSION}  Sat Jun 14 16:05:50 UTC 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) \n`);
  put(root, '/proc/devices', 'Character devices:\n  1 mem\n195 nvidia-frontend\n235 nvidia-uvm\n\nBlock devices:\n  8 sd\n');
  put(root, '/proc/driver/nvidia/gpus/0000:3b:00.0/information', 'Model: \t\t NVIDIA A100-PCIE-40GB\nGPU UUID: \t GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c\nBus Location: \t 0000:3b:00.0\nDevice Minor: \t 0\n');
  for (const name of ['nvidia-smi', 'nvidia-debugdump']) {
    put(root, `/usr/lib/nvidia/current/${name}`, '#!/bin/sh\n');
    execFileSync('chmod', ['755', join(root, `/usr/lib/nvidia/current/${name}`)]);
    link(root, `/etc/alternatives/nvidia--${name}`, `/usr/lib/nvidia/current/${name}`);
    link(root, `/usr/bin/${name}`, `/etc/alternatives/nvidia--${name}`);
  }
  execFileSync('ldconfig', ['-X', '-r', root]);
  return { top, root, driverFiles };
}

const { top, root, driverFiles } = generateRoot();
try {
  const cacheBytes = readFileSync(join(root, 'etc/ld.so.cache'));
  const cacheEntries = parseLdCache(cacheBytes).count;
  const first = discoverDriver({ root });
  console.log(`root: ${cacheEntries} cache entries, ${driverFiles} driver files; discovery selects ${first.libraries.length} libraries, ${first.binaries.length} binaries`);
  if (first.libraries.length !== driverFiles) throw new Error(`expected ${driverFiles} libraries, got ${first.libraries.length}: ${first.rejected.map((r) => r.reason).join('; ')}`);

  // The naive way: host realpath (wrong for absolute links inside a root, which is the point of
  // discovery; they are resolved on the host here and mostly fail), one header read per file.
  const header = Buffer.alloc(4096);
  function baseline() {
    const cache = parseLdCache(readFileSync(join(root, 'etc/ld.so.cache')));
    let found = 0;
    for (const entry of cache.entries) {
      if (!libraryCategory(entry.name)) continue;
      try {
        const real = realpathSync(join(root, entry.path));
        const fd = openSync(real, 'r');
        readSync(fd, header, 0, header.length, 0);
        closeSync(fd);
        found++;
      } catch { /* dangling on the host */ }
    }
    readFileSync(join(root, 'proc/driver/nvidia/version'));
    readFileSync(join(root, 'proc/devices'));
    readdirSync(join(root, 'proc/driver/nvidia/gpus'));
    for (const name of ['nvidia-smi', 'nvidia-debugdump']) try { realpathSync(join(root, 'usr/bin', name)); } catch { /* idem */ }
    return found;
  }

  const bench = new Bench({ time: Number(process.env.LDCACHE_BENCH_MS ?? 2000), warmupTime: 300 });
  bench.add('discoverDriver (root-confined, ELF headers read)', () => discoverDriver({ root }));
  bench.add('baseline: host fs.realpath + header read per entry', baseline);
  await bench.run();
  console.table(bench.table());
  const [discovery, base] = bench.tasks.map((t) => t.result.latency.mean);
  console.log(`discoverDriver: ${discovery.toFixed(2)} ms per root (target < 50 ms: ${discovery < 50 ? 'met' : 'NOT met'})`);
  console.log(`ratio discoverDriver / baseline: ${(discovery / base).toFixed(2)}x (baseline ${base.toFixed(2)} ms)`);
} finally {
  rmSync(top, { recursive: true, force: true });
}
