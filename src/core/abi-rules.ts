// What a glibc loader of one ABI searches on one CPU, as the linker prediction models it: its
// interpreter and cache flags, the glibc-hwcaps subdirectories of the CPU's x86-64 ISA level, and
// for glibc before 2.37 the legacy hwcaps (tls, platform, hwcap subdirectories and cache bits)
// as _dl_important_hwcaps and dl-cache.c build them. Browser-safe.

/** The ABI facts the linker analysis needs. */
export interface AbiRules {
  arch: string;
  bits: 32 | 64;
  /** PT_INTERP of programs of this ABI. */
  interpreter: string;
  /** Cache flags the loader accepts (x86-64: 0x303 only; i386: 0x1 or 0x3). */
  cacheFlags: number[];
  /** glibc-hwcaps subdirectories (highest first) of the ISA levels this CPU supports. */
  hwcaps: string[];
  /** Fallback default directories when the loader's own list cannot be read. */
  multiarch: string;
  /** What a glibc < 2.37 loader of this ABI adds as legacy hwcaps (x86-64 only here), or null. */
  legacy: LegacyHwcaps | null;
}

/** The x86-64 CPU facts glibc's legacy hwcaps depend on (sysdeps/x86/cpu-features.c, glibc 2.26-2.36). */
export interface LegacyX86 {
  /** GLRO(dl_platform): `haswell` or `xeon_phi` on Intel CPUs with those features, else AT_PLATFORM, `x86_64`. */
  platform: string;
  /** The important hwcap bits set: always `x86_64`, plus `avx512_1` on Intel CPUs with AVX-512 F/CD/BW/DQ/VL (not ER). */
  hwcaps: string[];
}

/** Legacy hwcaps as one loader uses them: the subdirectories it tries and the cache entries it accepts. */
export interface LegacyHwcaps {
  /** Subdirectories tried before each directory itself, in the loader's order (`tls/haswell/avx512_1/x86_64`, …, `x86_64`). */
  subdirs: string[];
  /** dl_hwcap & hwcap_mask (HWCAP_IMPORTANT) as cache hwcap bits. */
  hwcapBits: bigint;
  /** The cache bit of the platform, or null when the platform is none of glibc's x86 platform names. */
  platformBit: bigint | null;
}

// sysdeps/x86/dl-hwcap.h and dl-procinfo.c: hwcap strings by bit, platforms from bit 48, tls is bit 63.
const X86_HWCAP_BITS: Record<string, number> = { sse2: 0, x86_64: 1, avx512_1: 2 };
const X86_PLATFORMS = ['i586', 'i686', 'haswell', 'xeon_phi'];
const PLATFORM_MASK = 0xfn << 48n;
const TLS_BIT = 1n << 63n;

/**
 * The legacy hwcaps of an x86-64 loader: the path components are `tls`, the platform, then the
 * hwcap strings from the highest bit down, and every subset of them is tried, the full set first,
 * in descending binary order with `tls` as the highest digit (_dl_important_hwcaps).
 */
export function x86LegacyHwcaps(cpu: LegacyX86): LegacyHwcaps {
  const hw = cpu.hwcaps.filter((h) => h in X86_HWCAP_BITS).sort((a, b) => X86_HWCAP_BITS[b]! - X86_HWCAP_BITS[a]!);
  const parts = ['tls', cpu.platform, ...hw];
  const subdirs: string[] = [];
  for (let mask = (1 << parts.length) - 1; mask > 0; mask--) {
    subdirs.push(parts.filter((_, i) => (mask & (1 << (parts.length - 1 - i))) !== 0).join('/'));
  }
  const platformIndex = X86_PLATFORMS.indexOf(cpu.platform);
  return {
    subdirs,
    hwcapBits: hw.reduce((bits, h) => bits | (1n << BigInt(X86_HWCAP_BITS[h]!)), 0n),
    platformBit: platformIndex < 0 ? null : 1n << BigInt(48 + platformIndex),
  };
}

/** Whether a glibc < 2.37 loader accepts a cache entry with legacy hwcap bits (dl-cache.c's HWCAP_CHECK). */
export function legacyCacheAccepts(hwcap: bigint, legacy: LegacyHwcaps): boolean {
  if ((hwcap & ~(legacy.hwcapBits | PLATFORM_MASK | TLS_BIT)) !== 0n) return false;
  const platform = hwcap & PLATFORM_MASK;
  return platform === 0n || platform === legacy.platformBit;
}

/** AT_PLATFORM on x86-64 with no platform-specific features: what AMD and older Intel CPUs get. */
export const PLAIN_X86: LegacyX86 = { platform: 'x86_64', hwcaps: ['x86_64'] };

/** x86-64 ISA levels as glibc names them, `level` = 1..4 supported by the CPU. */
export function x86Hwcaps(level: number): string[] {
  return ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'].filter((_, i) => 4 - i <= level);
}

export function abiRules(arch: string, isaLevel: number, cpu: LegacyX86 = PLAIN_X86): AbiRules | null {
  switch (arch) {
    case 'x86-64':
      return { arch, bits: 64, interpreter: '/lib64/ld-linux-x86-64.so.2', cacheFlags: [0x303], hwcaps: x86Hwcaps(isaLevel), multiarch: 'x86_64-linux-gnu', legacy: x86LegacyHwcaps(cpu) };
    // Not modelled: i386's and aarch64's legacy hwcaps (i686/sse2, …); their subdirectories are not searched here.
    case 'i386':
      return { arch, bits: 32, interpreter: '/lib/ld-linux.so.2', cacheFlags: [0x1, 0x3], hwcaps: [], multiarch: 'i386-linux-gnu', legacy: null };
    case 'aarch64':
      return { arch, bits: 64, interpreter: '/lib/ld-linux-aarch64.so.1', cacheFlags: [0xa03], hwcaps: [], multiarch: 'aarch64-linux-gnu', legacy: null };
    default:
      return null;
  }
}
