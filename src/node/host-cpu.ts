// This machine's CPU as the image check models it: the x86-64 ISA level (which glibc-hwcaps
// subdirectories a loader searches) and, for glibc before 2.37, the legacy platform and hwcap
// subdirectories. Containers run on this machine, so it is the machine's CPU whatever the root.
import { readFileSync } from 'node:fs';
import { PLAIN_X86, type LegacyX86 } from '../core/abi-rules.js';

/** The first CPU's vendor and flags from /proc/cpuinfo, or null when it cannot be read. */
function cpuinfoOf(cpuinfo: string): { vendor: string; flags: Set<string> } | null {
  try {
    const lines = readFileSync(cpuinfo, 'utf8').split('\n');
    const field = (name: string): string => lines.find((l) => l.startsWith(name))?.split(':')[1]?.trim() ?? '';
    return { vendor: field('vendor_id'), flags: new Set(field('flags').split(/\s+/)) };
  } catch {
    return null;
  }
}

/**
 * The platform and hwcaps a glibc 2.26-2.36 loader derives on this machine's CPU
 * (sysdeps/x86/cpu-features.c): only Intel CPUs get `xeon_phi` (AVX-512 CD, ER, PF), `avx512_1`
 * (AVX-512 CD, BW, DQ, VL without ER) and `haswell` (AVX2, FMA, BMI1, BMI2, LZCNT, MOVBE, POPCNT);
 * every other CPU keeps AT_PLATFORM, `x86_64`. Linux clears the AVX flags it cannot save, as
 * glibc's "usable" checks do.
 */
export function hostLegacyX86(cpuinfo = '/proc/cpuinfo'): LegacyX86 {
  const info = cpuinfoOf(cpuinfo);
  if (!info || info.vendor !== 'GenuineIntel') return PLAIN_X86;
  const all = (names: string[]): boolean => names.every((n) => info.flags.has(n));
  const hwcaps = ['x86_64'];
  let platform: string | null = null;
  if (all(['avx512f', 'avx512cd'])) {
    if (info.flags.has('avx512er')) {
      if (info.flags.has('avx512pf')) platform = 'xeon_phi';
    } else if (all(['avx512bw', 'avx512dq', 'avx512vl'])) hwcaps.push('avx512_1');
  }
  // lzcnt shows as `abm` in /proc/cpuinfo.
  if (platform === null && all(['avx2', 'fma', 'bmi1', 'bmi2', 'abm', 'movbe', 'popcnt'])) platform = 'haswell';
  return { platform: platform ?? 'x86_64', hwcaps };
}

/** The x86-64 ISA level (1-4) of this machine's CPU, from /proc/cpuinfo's flags, as glibc defines the levels. */
export function hostIsaLevel(cpuinfo = '/proc/cpuinfo'): number {
  const flags = cpuinfoOf(cpuinfo)?.flags;
  if (!flags) return 1;
  const all = (names: string[]): boolean => names.every((n) => flags.has(n));
  if (!all(['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'])) return 1;
  if (!all(['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'])) return 2;
  if (!all(['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'])) return 3;
  return 4;
}

let cachedCpu: ({ isaLevel: number } & LegacyX86) | null = null;

/**
 * This machine's CPU as the image check models it (what `discover --json` records for the
 * inspector); read once per process (its flags do not change; /proc/cpuinfo is large on big machines).
 */
export function hostCpu(): { isaLevel: number } & LegacyX86 {
  cachedCpu ??= { isaLevel: hostIsaLevel(), ...hostLegacyX86() };
  return { ...cachedCpu, hwcaps: [...cachedCpu.hwcaps] };
}
