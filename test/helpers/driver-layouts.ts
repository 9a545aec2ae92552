// Driver roots with the layouts of real installs other than Debian's packages: NVIDIA's .run
// installer / RHEL-Fedora (real files in /usr/lib64 and /usr/lib with relative soname links) and
// Ubuntu's packages (real files in the multiarch directories). Options give a root whose links
// are absolute (a driver root mounted elsewhere, e.g. /run/nvidia/driver), a non-merged /usr, and
// an older driver's files left beside the current ones. gcc-built objects, the real
// `ldconfig -r ROOT`; the result lists what was built so tests derive their expectations from it.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Jobs, SoBuilder, type Abi } from './driver-root-so.js';

const run = promisify(execFile);

export type LayoutKind = 'runfile' | 'ubuntu';

export interface LayoutOptions {
  kind: LayoutKind;
  /** Driver version (default 550.54.15). */
  version?: string;
  /** Soname and merged-/usr links absolute (`/usr/lib64/libcuda.so.X`), as a root seen from another mount point has them. */
  absoluteLinks?: boolean;
  /** `/lib` a real directory rather than a link to usr/lib (default: merged /usr). */
  mergedUsr?: boolean;
  /** An older driver's files left in the same directories, and its directory in ld.so.conf. */
  stale?: string;
  /** /proc/driver/nvidia files (default true). */
  proc?: boolean;
  /** Directory, relative to a fresh temp dir, that is the root (e.g. `host/run/nvidia/driver`; default `root`). */
  rootAt?: string;
}

export interface LayoutLibrary {
  path: string;
  name: string;
  soname: string;
  abi: Abi;
  bits: 32 | 64;
}

export interface LayoutRoot {
  root: string;
  version: string;
  /** The files discovery must select (real paths inside the root). */
  libraries: LayoutLibrary[];
  /** Real files discovery must reject, with the expected reason. */
  rejected: { path: string; reason: RegExp }[];
  /** Real files that are no candidate at all (not driver libraries, or not in any linker directory). */
  ignored: string[];
  binaries: { name: string; path: string }[];
  firmware: string[];
  gpus: { busId: string; model: string; uuid: string; minor: number }[];
  /** The 64-bit libcuda.so.1 link the linker would use (cache value). */
  libcudaLink: string;
  /** With `stale`: the old driver's libcuda.so.1 that the root's own linker finds first (cache value). */
  staleLibcudaLink?: string;
  cleanup(): Promise<void>;
}

/** Libraries with a stable soname: `<stem>.so.<version>` plus `<soname>` and dev links. */
const STABLE: [stem: string, major: string, abis: 'both' | '64', devLink: boolean][] = [
  ['libcuda', '1', 'both', true],
  ['libcudadebugger', '1', '64', false],
  ['libEGL_nvidia', '0', 'both', false],
  ['libGLESv1_CM_nvidia', '1', 'both', false],
  ['libGLESv2_nvidia', '2', 'both', false],
  ['libGLX_nvidia', '0', 'both', false],
  ['libnvcuvid', '1', 'both', true],
  ['libnvidia-allocator', '1', 'both', true],
  ['libnvidia-cfg', '1', '64', true],
  ['libnvidia-encode', '1', 'both', true],
  ['libnvidia-fbc', '1', 'both', true],
  ['libnvidia-ml', '1', 'both', true],
  ['libnvidia-ngx', '1', '64', false],
  ['libnvidia-nvvm', '4', '64', true],
  ['libnvidia-opencl', '1', 'both', false],
  ['libnvidia-opticalflow', '1', 'both', true],
  ['libnvidia-ptxjitcompiler', '1', 'both', true],
  ['libnvoptix', '1', '64', false],
];
/** Libraries whose soname is their full versioned name (their own cache entries). */
const VERSIONED: [stem: string, abis: 'both' | '64'][] = [
  ['libnvidia-glcore', 'both'], ['libnvidia-eglcore', 'both'], ['libnvidia-glsi', 'both'], ['libnvidia-tls', 'both'],
  ['libnvidia-glvkspirv', 'both'], ['libnvidia-gpucomp', 'both'], ['libnvidia-rtcore', '64'], ['libnvidia-pkcs11', '64'],
  ['libnvidia-pkcs11-openssl3', '64'], ['libnvidia-vulkan-producer', '64'],
];
const NEEDED: Record<string, string[]> = {
  libGLX_nvidia: ['libnvidia-glcore', 'libnvidia-tls'],
  libEGL_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
  libGLESv2_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
  libGLESv1_CM_nvidia: ['libnvidia-eglcore', 'libnvidia-glsi'],
};
const BINARIES = ['nvidia-smi', 'nvidia-debugdump', 'nvidia-persistenced', 'nvidia-cuda-mps-control', 'nvidia-cuda-mps-server'];
const FIRMWARE = ['gsp_ga10x.bin', 'gsp_tu10x.bin'];
const GPUS = [
  { busId: '0000:17:00.0', model: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-0d9f2f4e-8a4c-1b7e-6a38-5c1f0e2d9b71', minor: 0 },
  { busId: '0000:65:00.0', model: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-7c3a91b2-44d0-a1f5-2e6b-93d8c0f41a22', minor: 1 },
];

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function buildLayoutRoot(options: LayoutOptions): Promise<LayoutRoot> {
  const version = options.version ?? '550.54.15';
  const { kind, stale } = options;
  const absolute = options.absoluteLinks === true;
  const merged = options.mergedUsr !== false;
  const top = await mkdtemp(join(tmpdir(), `driver-layout-${kind}-`));
  const root = join(top, options.rootAt ?? 'root');
  const jobs = new Jobs();
  const builders: Record<Abi, SoBuilder> = { 'x86-64': new SoBuilder(join(top, 'work'), 'x86-64'), i386: new SoBuilder(join(top, 'work'), 'i386') };
  // Where each ABI's libraries live, as a real directory and as ld.so.conf names it.
  const libDir: Record<Abi, string> = kind === 'runfile'
    ? { 'x86-64': '/usr/lib64', i386: '/usr/lib' }
    : { 'x86-64': '/usr/lib/x86_64-linux-gnu', i386: '/usr/lib/i386-linux-gnu' };
  const confDir: Record<Abi, string> = kind === 'runfile'
    ? { 'x86-64': '/lib64', i386: '/lib' }
    : { 'x86-64': '/lib/x86_64-linux-gnu', i386: '/lib/i386-linux-gnu' };
  const built: LayoutRoot = {
    root, version, libraries: [], rejected: [], ignored: [], binaries: [], firmware: [], gpus: [],
    libcudaLink: `${confDir['x86-64']}/libcuda.so.1`,
    cleanup: () => rm(top, { recursive: true, force: true }),
  };

  // Writes go to the real directory: a merged-/usr link may be absolute, and following it on
  // this machine would write outside the root.
  const at = (path: string): string => join(root, merged ? path.replace(/^\/(bin|sbin|lib|lib64)(?=\/)/, '/usr/$1') : path);
  const link = async (path: string, target: string): Promise<void> => {
    await mkdir(dirname(at(path)), { recursive: true });
    await symlink(target, at(path));
  };
  // A link from `path` to the file `real` beside it: relative as installers make them, or absolute.
  const sonameLink = (path: string, real: string): Promise<void> => link(path, absolute ? real : real.slice(real.lastIndexOf('/') + 1));
  const put = async (path: string, text: string, mode = 0o644): Promise<void> => {
    await mkdir(dirname(at(path)), { recursive: true });
    await writeFile(at(path), text, { mode });
  };
  const so = (abi: Abi, path: string, soname: string, needed: string[] = [], tls = false): void =>
    jobs.add(() => builders[abi].build(at(path), soname, needed, tls ? 'tls-ok' : 'plain'));
  const expectLib = (abi: Abi, path: string, soname: string): void => {
    built.libraries.push({ path, name: path.slice(path.lastIndexOf('/') + 1), soname, abi, bits: abi === 'i386' ? 32 : 64 });
  };

  await mkdir(at('/usr/lib64'), { recursive: true });
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/lib', '/etc/ld.so.conf.d']) await mkdir(at(dir), { recursive: true });
  for (const name of ['bin', 'sbin', 'lib', 'lib64']) {
    if (merged) await link(`/${name}`, absolute ? `/usr/${name}` : `usr/${name}`);
    else await mkdir(at(`/${name}`), { recursive: true });
  }
  // Without merged /usr, the conf names the /usr directories themselves.
  const conf = (abi: Abi): string => (merged ? confDir[abi] : libDir[abi]);
  if (!merged) built.libcudaLink = `${libDir['x86-64']}/libcuda.so.1`;

  await put('/etc/ld.so.conf', 'include ld.so.conf.d/*.conf\n');
  await put('/etc/ld.so.conf.d/00-libdirs.conf', `${conf('x86-64')}\n${conf('i386')}\n`);

  /** One driver version's libraries in `dirs`; returns the real files. */
  const driverFiles = async (v: string, dirs: Record<Abi, string>, current: boolean): Promise<void> => {
    for (const abi of ['x86-64', 'i386'] as const) {
      const dir = dirs[abi];
      const withVersion = (stem: string): string[] => (NEEDED[stem] ?? []).map((dep) => `${dep}.so.${v}`);
      for (const [stem, major, which, devLink] of STABLE) {
        if (which === '64' && abi === 'i386') continue;
        const real = `${dir}/${stem}.so.${v}`;
        const soname = `${stem}.so.${major}`;
        so(abi, real, soname, withVersion(stem));
        if (current) {
          expectLib(abi, real, soname);
          await sonameLink(`${dir}/${soname}`, real);
          if (devLink) await link(`${dir}/${stem}.so`, absolute ? `${dir}/${soname}` : soname);
        } else {
          // The new driver's soname link replaced the old one: no cache entry reaches this file.
          built.ignored.push(real);
        }
      }
      for (const [stem, which] of VERSIONED) {
        if (which === '64' && abi === 'i386') continue;
        const real = `${dir}/${stem}.so.${v}`;
        so(abi, real, `${stem}.so.${v}`, [], stem === 'libnvidia-tls');
        if (current) expectLib(abi, real, `${stem}.so.${v}`);
        else built.rejected.push({ path: real, reason: new RegExp(`^version ${esc(v)} is not the driver version ${esc(version)}$`) });
      }
      // Not in the cache (vdpau/ is no linker directory): found beside the selected files.
      const vdpau = `${dir}/vdpau/libvdpau_nvidia.so.${v}`;
      so(abi, vdpau, 'libvdpau_nvidia.so.1');
      if (current) {
        expectLib(abi, vdpau, 'libvdpau_nvidia.so.1');
        await sonameLink(`${dir}/vdpau/libvdpau_nvidia.so.1`, vdpau);
      } else built.ignored.push(vdpau);
    }
  };

  await driverFiles(version, libDir, true);
  // Separately versioned driver files (64-bit only here), in the same directory.
  const lib64 = libDir['x86-64'];
  for (const [file, soname] of [['libnvidia-egl-wayland.so.1.1.13', 'libnvidia-egl-wayland.so.1'], ['libnvidia-egl-gbm.so.1.1.1', 'libnvidia-egl-gbm.so.1'], ['libnvidia-api.so.1', 'libnvidia-api.so.1']] as const) {
    so('x86-64', `${lib64}/${file}`, soname);
    expectLib('x86-64', `${lib64}/${file}`, soname);
    if (file !== soname) await sonameLink(`${lib64}/${soname}`, `${lib64}/${file}`);
  }
  // Xorg modules: driver files, but no libraries a container loads, and in no linker directory.
  const xorg = kind === 'runfile' ? '/usr/lib64/xorg/modules' : '/usr/lib/x86_64-linux-gnu/nvidia/xorg';
  so('x86-64', `${xorg}/drivers/nvidia_drv.so`, 'nvidia_drv.so');
  so('x86-64', `${xorg}/extensions/libglxserver_nvidia.so.${version}`, `libglxserver_nvidia.so.${version}`);
  built.ignored.push(`${xorg}/drivers/nvidia_drv.so`, `${xorg}/extensions/libglxserver_nvidia.so.${version}`);

  // The distribution's libc and libglvnd beside the driver: loaders of another vendor's making.
  for (const abi of ['x86-64', 'i386'] as const) {
    const dir = libDir[abi];
    so(abi, `${dir}/libc.so.6`, 'libc.so.6');
    so(abi, `${dir}/libGLdispatch.so.0.0.0`, 'libGLdispatch.so.0');
    await sonameLink(`${dir}/libGLdispatch.so.0`, `${dir}/libGLdispatch.so.0.0.0`);
    for (const [file, soname] of [['libGL.so.1.7.0', 'libGL.so.1'], ['libEGL.so.1.1.0', 'libEGL.so.1']] as const) {
      so(abi, `${dir}/${file}`, soname, ['libGLdispatch.so.0']);
      await sonameLink(`${dir}/${soname}`, `${dir}/${file}`);
      built.rejected.push({ path: `${dir}/${file}`, reason: /vendor-neutral/ });
    }
  }

  if (stale) {
    // The old driver's files the new install did not remove, in the same directories...
    await driverFiles(stale, libDir, false);
    // ...and a leftover directory of it listed first in ld.so.conf (nvidia-docker #584).
    const old = '/usr/lib64/nvidia';
    await put('/etc/ld.so.conf.d/00-aa-nvidia-old.conf', `${old}\n`);
    for (const [stem, major] of [['libcuda', '1'], ['libnvidia-ml', '1']] as const) {
      const real = `${old}/${stem}.so.${stale}`;
      so('x86-64', real, `${stem}.so.${major}`);
      await sonameLink(`${old}/${stem}.so.${major}`, real);
      built.rejected.push({ path: real, reason: new RegExp(`^version ${esc(stale)} is not the driver version ${esc(version)}$`) });
    }
    built.staleLibcudaLink = `${old}/libcuda.so.1`;
    await put(`/lib/firmware/nvidia/${stale}/gsp_ga10x.bin`, 'old firmware');
  }

  await jobs.drain();
  // -X: keep the links as the installer made them (ldconfig would otherwise rewrite them).
  await run('ldconfig', ['-X', '-r', root]);

  for (const name of BINARIES) {
    const path = `/usr/bin/${name}`;
    await put(path, `#!/bin/sh\necho ${name} ${version}\n`, 0o755);
    built.binaries.push({ name, path });
  }
  const firmwareDir = merged ? '/usr/lib/firmware' : '/lib/firmware';
  for (const name of FIRMWARE) {
    await put(`/lib/firmware/nvidia/${version}/${name}`, 'firmware');
    built.firmware.push(`${firmwareDir}/nvidia/${version}/${name}`);
  }
  if (options.proc !== false) {
    const nvrm = kind === 'runfile'
      ? `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  ${version}  Release Build  (dvs-builder@U16-I3-B03-4-3)  Tue Feb 20 02:07:29 UTC 2024\n`
      : `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${version}  Tue Feb 20 02:02:49 UTC 2024\n`;
    await put('/proc/driver/nvidia/version', `${nvrm}GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04) \n`);
    for (const gpu of GPUS) {
      // nv-procfs.c's key/separator layout.
      await put(
        `/proc/driver/nvidia/gpus/${gpu.busId}/information`,
        `Model: \t\t ${gpu.model}\nIRQ:   \t\t 0\nGPU UUID: \t ${gpu.uuid}\nVideo BIOS: \t 96.00.74.00.0d\nBus Type: \t PCIe\n` +
          `DMA Size: \t 52 bits\nDMA Mask: \t 0xfffffffffffff\nBus Location: \t ${gpu.busId}\nDevice Minor: \t ${gpu.minor}\n` +
          `GPU Firmware: \t ${version}\nGPU Excluded:\t No\n`,
      );
      built.gpus.push(gpu);
    }
  }
  return built;
}
