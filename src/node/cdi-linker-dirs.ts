// Where a library goes so that the dynamic linker finds it by soname without an ld.so.cache
// entry: a default search directory of the ABI. Used for the ABIs whose driver libraries came
// with no cache entry to say where the host's linker finds them (a root without ld.so.cache).
import type { RootFs } from './rootfs.js';

/** Multiarch triplets (Debian, Ubuntu) by the ABI names discovery reports. */
const TRIPLETS: Record<string, string[]> = {
  'x86-64': ['x86_64-linux-gnu'],
  i386: ['i386-linux-gnu'],
  x32: ['x86_64-linux-gnux32'],
  aarch64: ['aarch64-linux-gnu'],
  armhf: ['arm-linux-gnueabihf'],
  armel: ['arm-linux-gnueabi'],
  ppc64: ['powerpc64le-linux-gnu', 'powerpc64-linux-gnu'],
  s390x: ['s390x-linux-gnu'],
  riscv64: ['riscv64-linux-gnu'],
  loongarch64: ['loongarch64-linux-gnu'],
  mips64: ['mips64el-linux-gnuabi64', 'mips64-linux-gnuabi64'],
};

/**
 * The root's default linker directory for an ABI: its multiarch directory when the root has one,
 * else /usr/lib64 for 64-bit and /usr/lib for 32-bit ABIs (Fedora, RHEL, SUSE); the real
 * directory inside the root, or null when none exists.
 */
export function defaultLinkerDir(fs: RootFs, arch: string, bits: 32 | 64): string | null {
  const candidates = [...(TRIPLETS[arch] ?? []).map((t) => `/usr/lib/${t}`), bits === 64 ? '/usr/lib64' : '/usr/lib'];
  for (const dir of candidates) {
    const resolved = fs.tryResolve(dir);
    if (resolved?.stats.isDirectory()) return resolved.path;
  }
  return null;
}
