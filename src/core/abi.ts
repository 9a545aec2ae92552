// What an entry's `flags` mean: the texts `ldconfig -p` prints (per glibc version) and the ABI
// names and pointer widths ldcache derives from them. Browser-safe.

/**
 * A glibc version, `2.N`. Its `ldconfig -p` rules (spec 13.4): up to 2.32 no extensions (hwcaps
 * in hex, no generator line); up to 2.35 the OS ABI part; from 2.37 types other than libc6 are
 * `unknown or unsupported flag`; 2.38 names LoongArch; 2.39 prints 0x0200 as `,512`. Versions
 * before 2.31 print as 2.31 (the oldest this knows). Tested: 2.31, 2.36, 2.41.
 */
export type GlibcVersion = `2.${number}`;

export const DEFAULT_GLIBC: GlibcVersion = '2.36';

/** The minor version of `2.N` (31 for anything older or malformed). */
export function glibcMinor(glibc: GlibcVersion): number {
  const minor = Number(/^2\.(\d+)$/.exec(glibc)?.[1]);
  return Number.isSafeInteger(minor) && minor > 31 ? minor : 31;
}

/** Whether that glibc's ldconfig reads the extension (hwcaps names, generator line): 2.33+. */
export function printsExtensions(glibc: GlibcVersion): boolean {
  return glibcMinor(glibc) >= 33;
}

/** Whether that glibc's ldconfig prints `OS ABI`: up to 2.35. */
export function printsOsAbi(glibc: GlibcVersion): boolean {
  return glibcMinor(glibc) <= 35;
}

export const FLAG_TYPE_MASK = 0x00ff;
export const FLAG_REQUIRED_MASK = 0xff00;

const TYPE_TEXT_OLD = ['libc4', 'ELF', 'libc5', 'libc6'];

/** The type part (`flags & 0xff`) as `ldconfig -p` of that glibc prints it. */
export function typeText(flags: number, glibc: GlibcVersion = DEFAULT_GLIBC): string {
  const type = flags & FLAG_TYPE_MASK;
  // From 2.37 every type but libc6 is "unknown or unsupported flag".
  if (glibcMinor(glibc) >= 37) return type === 3 ? 'libc6' : 'unknown or unsupported flag';
  return TYPE_TEXT_OLD[type] ?? 'unknown';
}

const REQUIRED_TEXT: Record<number, string> = {
  0x0100: ',64bit',
  0x0200: ',IA-64',
  0x0300: ',x86-64',
  0x0400: ',64bit',
  0x0500: ',64bit',
  0x0600: ',N32',
  0x0700: ',64bit',
  0x0800: ',x32',
  0x0900: ',hard-float',
  0x0a00: ',AArch64',
  0x0b00: ',soft-float',
  0x0c00: ',nan2008',
  0x0d00: ',N32,nan2008',
  0x0e00: ',64bit,nan2008',
  0x0f00: ',soft-float',
  0x1000: ',double-float',
};

/** The required part (`flags & 0xff00`), with its leading comma, or '' for 0. */
export function requiredText(flags: number, glibc: GlibcVersion = DEFAULT_GLIBC): string {
  const required = flags & FLAG_REQUIRED_MASK;
  if (required === 0) return '';
  const minor = glibcMinor(glibc);
  // ia64 support went in 2.39; LoongArch got names in 2.38.
  if (minor >= 39 && required === 0x0200) return ',512';
  if (minor >= 38) {
    if (required === 0x1100) return ',soft-float';
    if (required === 0x1200) return ',double-float';
  }
  return REQUIRED_TEXT[required] ?? `,${required}`;
}

/**
 * The architecture family of a cache, from the ABI values it holds: it names the generic
 * 32-bit entries (required value 0), which the flags alone cannot place.
 */
export type CacheFamily = 'x86' | 'arm' | 's390' | 'ppc' | 'mips' | 'sparc' | 'generic';

const FAMILY_OF_REQUIRED: Record<number, CacheFamily> = {
  0x0100: 'sparc',
  0x0300: 'x86',
  0x0400: 's390',
  0x0500: 'ppc',
  0x0600: 'mips',
  0x0700: 'mips',
  0x0800: 'x86',
  0x0900: 'arm',
  0x0a00: 'arm',
  0x0b00: 'arm',
  0x0c00: 'mips',
  0x0d00: 'mips',
  0x0e00: 'mips',
};

const GENERIC_NAME: Record<CacheFamily, string> = {
  x86: 'i386',
  arm: 'arm',
  s390: 's390',
  ppc: 'ppc',
  mips: 'mips',
  sparc: 'sparc',
  generic: 'generic',
};

/** The family of a cache whose entries carry these `flags & 0xff00` values (first match in file order wins). */
export function cacheFamily(requiredValues: Iterable<number>): CacheFamily {
  for (const value of requiredValues) {
    const family = FAMILY_OF_REQUIRED[value & FLAG_REQUIRED_MASK];
    if (family) return family;
  }
  return 'generic';
}

interface AbiInfo {
  readonly arch: string;
  readonly bits: 32 | 64;
}

const ABI_OF_REQUIRED: Record<number, AbiInfo> = {
  0x0100: { arch: 'sparc64', bits: 64 },
  0x0200: { arch: 'ia64', bits: 64 },
  0x0300: { arch: 'x86-64', bits: 64 },
  0x0400: { arch: 's390x', bits: 64 },
  0x0500: { arch: 'ppc64', bits: 64 },
  0x0600: { arch: 'mipsn32', bits: 32 },
  0x0700: { arch: 'mips64', bits: 64 },
  0x0800: { arch: 'x32', bits: 32 },
  0x0900: { arch: 'armhf', bits: 32 },
  0x0a00: { arch: 'aarch64', bits: 64 },
  0x0b00: { arch: 'armel', bits: 32 },
  0x0c00: { arch: 'mips', bits: 32 },
  0x0d00: { arch: 'mipsn32', bits: 32 },
  0x0e00: { arch: 'mips64', bits: 64 },
  0x0f00: { arch: 'riscv64', bits: 64 },
  0x1000: { arch: 'riscv64', bits: 64 },
  0x1100: { arch: 'loongarch64', bits: 64 },
  0x1200: { arch: 'loongarch64', bits: 64 },
};

/** ABI name of an entry: `x86-64`, `x32`, `aarch64`, …; for required value 0 the family's 32-bit name (`i386`, `arm`, …, `generic`). */
export function archName(flags: number, family: CacheFamily): string {
  const required = flags & FLAG_REQUIRED_MASK;
  if (required === 0) return GENERIC_NAME[family];
  return ABI_OF_REQUIRED[required]?.arch ?? `unknown-0x${required.toString(16).padStart(4, '0')}`;
}

/** Pointer width of an entry's ABI, or null where neither flags nor family tell. */
export function archBits(flags: number, family: CacheFamily): 32 | 64 | null {
  const required = flags & FLAG_REQUIRED_MASK;
  if (required === 0) return family === 'generic' ? null : 32;
  return ABI_OF_REQUIRED[required]?.bits ?? null;
}

/** Whether a 64-bit hwcap value (as high and low 32-bit words) is a glibc-hwcaps extension entry. */
export function isHwcapsExtension(hwcapHigh: number): boolean {
  return ((hwcapHigh >>> 0) & ~0x3ff) >>> 0 === 0x40000000;
}

/** OS names of the ABI note's first word, as glibc <= 2.35 prints them (others: `Unknown OS`). */
export const OS_NAMES: readonly string[] = ['Linux', 'Hurd', 'Solaris', 'FreeBSD', 'kNetBSD', 'Syllable'];

/** `Linux 3.2.0` for an osversion value, as glibc <= 2.35 prints it. */
export function osAbiText(osVersion: number): string {
  const os = osVersion >>> 24;
  const name = OS_NAMES[os] ?? 'Unknown OS';
  return `${name} ${(osVersion >>> 16) & 0xff}.${(osVersion >>> 8) & 0xff}.${osVersion & 0xff}`;
}
