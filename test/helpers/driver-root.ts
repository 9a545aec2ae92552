// Builds driver roots with the shape of Debian 12's packaged NVIDIA driver (spec
// nvidia-driver-host.md section 7): gcc-built shared objects with real sonames and DT_NEEDED
// entries, absolute alternatives links through ROOT/etc/alternatives, versioned-soname libraries
// in the multiarch directory, glvnd loaders diverted to mesa-diverted/, proc files in the kernel
// module's formats, device nodes made with mknod, and the cache written by the real
// `ldconfig -r ROOT`. The result lists what was built, so tests compute their expectations from
// it rather than from discovery's output.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Jobs, SoBuilder, type Abi } from './driver-root-so.js';

const run = promisify(execFile);

export type { Abi };
const TRIPLET: Record<Abi, string> = { 'x86-64': 'x86_64-linux-gnu', i386: 'i386-linux-gnu' };

export interface DriverRootOptions {
  /** Parent directory for the root (default: the OS temp dir). */
  dir?: string;
  /** The driver's version (default 535.261.03). */
  version?: string;
  /** A second driver's version whose files are left over (Debian 470 flavour strays). */
  strays?: string;
  /** i386 libraries too (default true). */
  i386?: boolean;
  /** Device nodes with mknod (default true; `devicesCreated` says whether mknod was allowed). */
  devices?: boolean;
  /** proc files: true = proprietary module format, 'open' = open module format, false = none. */
  proc?: boolean | 'open';
  /** The version /proc/driver/nvidia/version reports (default: `version`). */
  kernelVersion?: string;
  /** Write ROOT/etc/ld.so.cache with `ldconfig -r` (default true). */
  cache?: boolean;
  /** Number of GPUs in /proc/driver/nvidia/gpus (default 2). */
  gpus?: number;
  /** A Mesa-like pre-glvnd libGL.so.1 (NEEDED libglapi, no glcore/GLdispatch) in /usr/local/lib (default true). */
  mesaLibGL?: boolean;
  /** A libnvidia-tls of the driver version with ABI note 2.2.5 in /usr/lib/nvidia-legacy-tls (default false). */
  badTls?: boolean;
  /** Binaries, firmware, IPC sockets (default true each). */
  binaries?: boolean;
  firmware?: boolean;
  ipc?: boolean;
}

export interface BuiltLibrary {
  /** The real file, inside the root. */
  path: string;
  name: string;
  soname: string;
  abi: Abi;
  bits: 32 | 64;
}

export interface BuiltDevice {
  path: string;
  major: number;
  minor: number;
}

export interface BuiltGpu {
  busId: string;
  model: string;
  uuid: string;
  minor: number;
}

export interface DriverRoot {
  root: string;
  version: string;
  /** Every driver library a container needs (cache entries and files beside them), real paths inside the root. */
  libraries: BuiltLibrary[];
  /** Real files that discovery must not select, with why. */
  strayFiles: { path: string; why: 'other-version' | 'blacklisted' | 'glvnd-loader' }[];
  binaries: { name: string; path: string }[];
  firmware: string[];
  ipc: { kind: 'persistenced' | 'fabricmanager' | 'mps'; path: string }[];
  devices: BuiltDevice[];
  devicesCreated: boolean;
  /** Why devices were not made, when mknod was refused. */
  devicesSkipReason: string | undefined;
  gpus: BuiltGpu[];
  /** Majors written to /proc/devices. */
  majors: { uvm: number; caps: number };
  cleanup(): Promise<void>;
}

/** Driver libraries with a stable soname, real files in nvidia/current (stem, soname major, ABIs). */
const CURRENT_LIBRARIES: [stem: string, major: string, abis: 'both' | '64'][] = [
  ['libcuda', '1', 'both'],
  ['libcudadebugger', '1', '64'],
  ['libEGL_nvidia', '0', 'both'],
  ['libGLESv1_CM_nvidia', '1', 'both'],
  ['libGLESv2_nvidia', '2', 'both'],
  ['libGLX_nvidia', '0', 'both'],
  ['libnvcuvid', '1', 'both'],
  ['libnvidia-allocator', '1', 'both'],
  ['libnvidia-cfg', '1', '64'],
  ['libnvidia-encode', '1', 'both'],
  ['libnvidia-fbc', '1', 'both'],
  ['libnvidia-ml', '1', 'both'],
  ['libnvidia-ngx', '1', '64'],
  ['libnvidia-nvvm', '4', 'both'],
  ['libnvidia-opencl', '1', 'both'],
  ['libnvidia-opticalflow', '1', 'both'],
  ['libnvidia-ptxjitcompiler', '1', 'both'],
  ['libnvoptix', '1', '64'],
];
/** Libraries whose soname is the full version: plain files in the multiarch directory. */
const VERSIONED_SONAME: [stem: string, abis: 'both' | '64'][] = [
  ['libnvidia-glcore', 'both'],
  ['libnvidia-eglcore', 'both'],
  ['libnvidia-glsi', 'both'],
  ['libnvidia-tls', 'both'],
  ['libnvidia-rtcore', '64'],
  ['libnvidia-glvkspirv', 'both'],
  ['libnvidia-pkcs11-openssl3', '64'],
];
/** What a 470 flavour leaves in the multiarch directory, and in its leftover nvidia/tesla-470 directory. */
const STRAY_VERSIONED: [string, 'both' | '64'][] = [
  ['libnvidia-glcore', 'both'], ['libnvidia-eglcore', 'both'], ['libnvidia-glsi', 'both'], ['libnvidia-tls', 'both'],
  ['libnvidia-rtcore', '64'], ['libnvidia-glvkspirv', 'both'], ['libnvidia-cbl', '64'], ['libnvidia-compiler', 'both'],
];
const STRAY_CURRENT = ['libcuda', 'libnvidia-ml', 'libnvidia-ptxjitcompiler', 'libnvidia-opencl', 'libGLX_nvidia', 'libnvidia-ifr'];
/** Alternatives at two levels ("glx" then "nvidia") as glx-alternative-nvidia does it. */
const GLX_LEVEL = new Set(['libGLX_nvidia', 'libEGL_nvidia', 'libGLESv1_CM_nvidia', 'libGLESv2_nvidia', 'libnvidia-cfg']);
const NEEDED: Record<string, string[]> = {
  libGLX_nvidia: ['libnvidia-glcore', 'libnvidia-tls'],
  libEGL_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
  libGLESv2_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
  libGLESv1_CM_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
};

const BUS_IDS = ['0000:3b:00.0', '0000:5e:00.0', '0000:86:00.0', '0000:af:00.0', '0000:d8:00.0'];

async function link(root: string, path: string, target: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await symlink(target, join(root, path));
}

async function put(root: string, path: string, text: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), text, { mode });
}

/** A unix socket file left behind by a process that exited (as a daemon's socket looks from outside). */
async function socketFile(root: string, path: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  const script = `require('node:net').createServer().listen(process.argv[1], () => process.exit(0))`;
  await run(process.execPath, ['-e', script, join(root, path)]);
}

async function tryMknod(file: string, major: number, minor: number, mode: number): Promise<string | undefined> {
  await mkdir(dirname(file), { recursive: true });
  try {
    await run('mknod', ['-m', mode.toString(8), file, 'c', String(major), String(minor)]);
    return undefined;
  } catch (err) {
    return `mknod refused: ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
  }
}

export async function buildDriverRoot(options: DriverRootOptions = {}): Promise<DriverRoot> {
  const version = options.version ?? '535.261.03';
  const abis: Abi[] = options.i386 === false ? ['x86-64'] : ['x86-64', 'i386'];
  const top = await mkdtemp(join(options.dir ?? tmpdir(), 'driver-root-'));
  const root = join(top, 'root');
  const work = join(top, 'work');
  const jobs = new Jobs();
  const builders = new Map(abis.map((abi) => [abi, new SoBuilder(work, abi)]));
  const built: DriverRoot = {
    root, version, libraries: [], strayFiles: [], binaries: [], firmware: [], ipc: [], devices: [],
    devicesCreated: false, devicesSkipReason: undefined, gpus: [], majors: { uvm: 235, caps: 236 },
    cleanup: () => rm(top, { recursive: true, force: true }),
  };

  // Merged /usr, as Debian 12 has it.
  await mkdir(join(root, 'usr/lib64'), { recursive: true });
  for (const name of ['lib', 'bin', 'sbin', 'lib64']) await link(root, name, `usr/${name}`);
  await mkdir(join(root, 'usr/bin'), { recursive: true });
  await mkdir(join(root, 'usr/sbin'), { recursive: true });
  await link(root, 'var/run', '/run');
  await put(root, 'etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n\n');
  await put(root, 'etc/ld.so.conf.d/libc.conf', '# libc default configuration\n/usr/local/lib\n');

  const add = (abi: Abi, path: string, soname: string, needed: string[] = [], kind: 'plain' | 'tls-ok' | 'tls-bad' = 'plain'): void =>
    jobs.add(() => builders.get(abi)!.build(join(root, path), soname, needed, kind));
  const expect = (abi: Abi, path: string, soname: string): void => {
    built.libraries.push({ path, name: path.slice(path.lastIndexOf('/') + 1), soname, abi, bits: abi === 'i386' ? 32 : 64 });
  };

  for (const abi of abis) {
    const t = TRIPLET[abi];
    const multiarch = `/usr/lib/${t}`;
    await put(root, `etc/ld.so.conf.d/${t}.conf`, `# Multiarch support\n/usr/local/lib/${t}\n/lib/${t}\n/usr/lib/${t}\n`);
    add(abi, `${multiarch}/libc.so.6`, 'libc.so.6');
    const withVersion = (stem: string, v: string): string[] => (NEEDED[stem] ?? []).map((dep) => `${dep}.so.${v}`);

    for (const [stem, major, which] of CURRENT_LIBRARIES) {
      if (which === '64' && abi === 'i386') continue;
      const dir = `${multiarch}/nvidia/current`;
      const real = `${dir}/${stem}.so.${version}`;
      const soname = `${stem}.so.${major}`;
      add(abi, real, soname, withVersion(stem, version));
      expect(abi, real, soname);
      await link(root, `${dir}/${soname}`, `${stem}.so.${version}`);
      // Debian's update-alternatives links: absolute, through /etc/alternatives.
      const nvidiaAlt = `/etc/alternatives/nvidia--${soname}-${t}`;
      await link(root, nvidiaAlt, `${dir}/${soname}`);
      if (GLX_LEVEL.has(stem)) {
        const glxAlt = `/etc/alternatives/glx--${soname}-${t}`;
        await link(root, `${multiarch}/nvidia/${soname}`, nvidiaAlt);
        await link(root, glxAlt, `${multiarch}/nvidia/${soname}`);
        await link(root, `${multiarch}/${soname}`, glxAlt);
      } else {
        await link(root, `${multiarch}/${soname}`, nvidiaAlt);
      }
    }
    await link(root, `${multiarch}/libcuda.so`, 'libcuda.so.1');
    await link(root, `${multiarch}/libnvcuvid.so`, 'libnvcuvid.so.1');
    await link(root, `/etc/alternatives/glx--libGLX_indirect.so.0-${t}`, `${multiarch}/libGLX_nvidia.so.0`);
    await link(root, `${multiarch}/libGLX_indirect.so.0`, `/etc/alternatives/glx--libGLX_indirect.so.0-${t}`);
    // Not in the cache: vdpau/ is no linker directory. Found beside the driver's files.
    const vdpau = `${multiarch}/nvidia/current/libvdpau_nvidia.so.${version}`;
    add(abi, vdpau, 'libvdpau_nvidia.so.1');
    expect(abi, vdpau, 'libvdpau_nvidia.so.1');
    await link(root, `/etc/alternatives/nvidia--libvdpau_nvidia.so.1-${t}`, `${multiarch}/nvidia/current/libvdpau_nvidia.so.${version}`);
    await link(root, `${multiarch}/vdpau/libvdpau_nvidia.so.1`, `/etc/alternatives/nvidia--libvdpau_nvidia.so.1-${t}`);

    for (const [stem, which] of VERSIONED_SONAME) {
      if (which === '64' && abi === 'i386') continue;
      const real = `${multiarch}/${stem}.so.${version}`;
      add(abi, real, `${stem}.so.${version}`, [], stem === 'libnvidia-tls' ? 'tls-ok' : 'plain');
      expect(abi, real, `${stem}.so.${version}`);
    }
    // Driver-related files that do not carry the version (section 7).
    const unversioned: [string, string][] = [[`${multiarch}/libnvidia-egl-wayland.so.1.1.10`, 'libnvidia-egl-wayland.so.1']];
    if (abi === 'x86-64') {
      unversioned.push([`${multiarch}/libnvidia-egl-gbm.so.1.1.0`, 'libnvidia-egl-gbm.so.1']);
      unversioned.push([`${multiarch}/nvidia/current/libnvidia-api.so.1`, 'libnvidia-api.so.1']);
    }
    for (const [real, soname] of unversioned) {
      add(abi, real, soname);
      expect(abi, real, soname);
      if (!real.endsWith(soname)) await link(root, `${dirname(real)}/${soname}`, real.slice(real.lastIndexOf('/') + 1));
      else if (dirname(real) !== multiarch) {
        // libnvidia-api.so.1 reaches the linker path through the "nvidia" alternative.
        await link(root, `/etc/alternatives/nvidia--${soname}-${t}`, real);
        await link(root, `${multiarch}/${soname}`, `/etc/alternatives/nvidia--${soname}-${t}`);
      }
    }

    // libglvnd: dispatch libraries in the multiarch dir, loaders diverted and reached through "glx".
    add(abi, `${multiarch}/libGLdispatch.so.0.0.0`, 'libGLdispatch.so.0');
    await link(root, `${multiarch}/libGLdispatch.so.0`, 'libGLdispatch.so.0.0.0');
    add(abi, `${multiarch}/libGLX.so.0.0.0`, 'libGLX.so.0', ['libGLdispatch.so.0']);
    await link(root, `${multiarch}/libGLX.so.0`, 'libGLX.so.0.0.0');
    built.strayFiles.push({ path: `${multiarch}/libGLX.so.0.0.0`, why: 'glvnd-loader' });
    for (const [soname, file] of [['libGL.so.1', 'libGL.so.1.7.0'], ['libEGL.so.1', 'libEGL.so.1.1.0'], ['libGLESv2.so.2', 'libGLESv2.so.2.1.0'], ['libGLESv1_CM.so.1', 'libGLESv1_CM.so.1.2.0']] as const) {
      const diverted = `/usr/lib/mesa-diverted/${t}`;
      add(abi, `${diverted}/${file}`, soname, soname === 'libGL.so.1' ? ['libGLdispatch.so.0', 'libGLX.so.0'] : ['libGLdispatch.so.0']);
      built.strayFiles.push({ path: `${diverted}/${file}`, why: 'glvnd-loader' });
      await link(root, `${diverted}/${soname}`, file);
      await link(root, `/etc/alternatives/glx--${soname}-${t}`, `${diverted}/${soname}`);
      await link(root, `${multiarch}/${soname}`, `/etc/alternatives/glx--${soname}-${t}`);
    }

    if (options.strays) {
      const old = options.strays;
      for (const [stem, which] of STRAY_VERSIONED) {
        if (which === '64' && abi === 'i386') continue;
        const real = `${multiarch}/${stem}.so.${old}`;
        add(abi, real, `${stem}.so.${old}`, [], stem === 'libnvidia-tls' ? 'tls-ok' : 'plain');
        built.strayFiles.push({ path: real, why: 'other-version' });
      }
      // An admin's leftover conf listing the old flavour's directory (relative soname links there).
      const dir = `${multiarch}/nvidia/tesla-470`;
      await put(root, `etc/ld.so.conf.d/zz-nvidia-tesla-470-${t}.conf`, `${dir}\n`);
      for (const stem of STRAY_CURRENT) {
        const major = CURRENT_LIBRARIES.find(([s]) => s === stem)?.[1] ?? '1';
        add(abi, `${dir}/${stem}.so.${old}`, `${stem}.so.${major}`, withVersion(stem, old));
        built.strayFiles.push({ path: `${dir}/${stem}.so.${old}`, why: 'other-version' });
        await link(root, `${dir}/${stem}.so.${major}`, `${stem}.so.${old}`);
      }
      add(abi, `${dir}/libnvidia-nvvm.so.4.0.0`, 'libnvidia-nvvm.so.4');
      built.strayFiles.push({ path: `${dir}/libnvidia-nvvm.so.4.0.0`, why: 'other-version' });
      await link(root, `${dir}/libnvidia-nvvm.so.4`, 'libnvidia-nvvm.so.4.0.0');
    }
  }

  if (options.mesaLibGL !== false) {
    // An admin-installed pre-glvnd Mesa: another vendor's libGL.
    add('x86-64', '/usr/local/lib/libglapi.so.0.0.0', 'libglapi.so.0');
    add('x86-64', '/usr/local/lib/libGL.so.1.2.0', 'libGL.so.1', ['libglapi.so.0']);
    await link(root, '/usr/local/lib/libGL.so.1', 'libGL.so.1.2.0');
    built.strayFiles.push({ path: '/usr/local/lib/libGL.so.1.2.0', why: 'blacklisted' });
  }
  if (options.badTls) {
    const real = `/usr/lib/nvidia-legacy-tls/libnvidia-tls.so.${version}`;
    add('x86-64', real, `libnvidia-tls.so.${version}`, [], 'tls-bad');
    built.strayFiles.push({ path: real, why: 'blacklisted' });
    await put(root, 'etc/ld.so.conf.d/nvidia-legacy-tls.conf', '/usr/lib/nvidia-legacy-tls\n');
  }

  await jobs.drain();
  if (options.cache !== false) {
    await mkdir(join(root, 'etc'), { recursive: true });
    await run('ldconfig', ['-X', '-r', root]);
  }
  await buildHostFiles(built, options);
  return built;
}

/** Binaries, firmware, IPC, proc and dev: everything but the libraries. */
async function buildHostFiles(built: DriverRoot, options: DriverRootOptions): Promise<void> {
  const { root, version } = built;
  if (options.binaries !== false) {
    for (const name of ['nvidia-smi', 'nvidia-debugdump']) {
      await put(root, `/usr/lib/nvidia/current/${name}`, `#!/bin/sh\necho ${name} ${version}\n`, 0o755);
      await link(root, `/etc/alternatives/nvidia--${name}`, `/usr/lib/nvidia/current/${name}`);
      await link(root, `/usr/bin/${name}`, `/etc/alternatives/nvidia--${name}`);
      built.binaries.push({ name, path: `/usr/lib/nvidia/current/${name}` });
    }
    for (const path of ['/usr/bin/nvidia-persistenced', '/usr/bin/nvidia-cuda-mps-control', '/usr/sbin/nvidia-cuda-mps-server']) {
      await put(root, path, '#!/bin/sh\n', 0o755);
      built.binaries.push({ name: path.slice(path.lastIndexOf('/') + 1), path });
    }
  }
  if (options.firmware !== false) {
    for (const name of ['gsp_ga10x.bin', 'gsp_tu10x.bin']) {
      await put(root, `/usr/lib/firmware/nvidia/${version}/${name}`, 'firmware');
      built.firmware.push(`/usr/lib/firmware/nvidia/${version}/${name}`);
    }
    if (options.strays) await put(root, `/usr/lib/firmware/nvidia/${options.strays}/gsp.bin`, 'firmware');
  }
  if (options.ipc !== false) {
    await socketFile(root, '/run/nvidia-persistenced/socket');
    built.ipc.push({ kind: 'persistenced', path: '/run/nvidia-persistenced/socket' });
    await mkdir(join(root, 'tmp/nvidia-mps'), { recursive: true });
    built.ipc.push({ kind: 'mps', path: '/tmp/nvidia-mps' });
  }

  const gpuCount = options.gpus ?? 2;
  for (let i = 0; i < gpuCount; i++) {
    const minor = i === 1 ? 2 : i === 2 ? 1 : i; // minors need not follow the index (1 and 2 swapped)
    built.gpus.push({
      busId: BUS_IDS[i % BUS_IDS.length]!,
      model: 'NVIDIA A100-PCIE-40GB',
      uuid: `GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c1${(0x10 + i).toString(16)}`,
      minor,
    });
  }
  if (options.proc !== false) await buildProc(built, options);
  if (options.devices !== false) {
    const nodes: [string, number, number, number][] = [
      ...built.gpus.map((g): [string, number, number, number] => [`/dev/nvidia${g.minor}`, 195, g.minor, 0o666]),
      ['/dev/nvidiactl', 195, 255, 0o666],
      ['/dev/nvidia-modeset', 195, 254, 0o666],
      ['/dev/nvidia-uvm', built.majors.uvm, 0, 0o666],
      ['/dev/nvidia-uvm-tools', built.majors.uvm, 1, 0o666],
      ['/dev/nvidia-caps/nvidia-cap1', built.majors.caps, 1, 0o400],
      ['/dev/nvidia-caps/nvidia-cap2', built.majors.caps, 2, 0o444],
    ];
    built.devicesCreated = true;
    for (const [path, major, minor, mode] of nodes) {
      const refused = await tryMknod(join(root, path), major, minor, mode);
      if (refused) {
        built.devicesCreated = false;
        built.devicesSkipReason = refused;
        break;
      }
      built.devices.push({ path, major, minor });
    }
  }
}

async function buildProc(built: DriverRoot, options: DriverRootOptions): Promise<void> {
  const { root } = built;
  const kv = options.kernelVersion ?? built.version;
  const nvrm =
    options.proc === 'open'
      ? `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  ${kv}  Release Build  (buildd@debian)  Sat Dec 20 23:05:31 UTC 2025\n`
      : `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${kv}  Sat Jun 14 16:05:50 UTC 2025\n`;
  await put(root, '/proc/driver/nvidia/version', `${nvrm}GCC version:  gcc version 12.2.0 (Debian 12.2.0-14+deb12u1) \n`);
  const frontend = Number(kv.split('.')[0]) >= 550 ? 'nvidia' : 'nvidia-frontend';
  await put(
    root,
    '/proc/devices',
    'Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n 10 misc\n 13 input\n' +
      `195 ${frontend}\n226 drm\n${built.majors.caps} nvidia-caps\n${built.majors.uvm} nvidia-uvm\n` +
      '\nBlock devices:\n  7 loop\n  8 sd\n259 blkext\n',
  );
  for (const gpu of built.gpus) {
    // The key/separator layout of nv-procfs.c (535).
    const text =
      `Model: \t\t ${gpu.model}\nIRQ:   \t\t 170\nGPU UUID: \t ${gpu.uuid}\nVideo BIOS: \t 92.00.25.00.08\n` +
      `Bus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t ${gpu.busId}\n` +
      `Device Minor: \t ${gpu.minor}\nGPU Firmware: \t ${kv}\nGPU Excluded:\t No\n`;
    await put(root, `/proc/driver/nvidia/gpus/${gpu.busId}/information`, text);
  }
}
