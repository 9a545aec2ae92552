// ABI names of ELF files, spelled as the cache's ABI names (src/core/abi.ts), and the
// architecture families whose 64- and 32-bit libraries go together. Browser-safe.

const EF_ARM_ABI_FLOAT_SOFT = 0x200;
const EF_ARM_ABI_FLOAT_HARD = 0x400;
const EF_MIPS_ABI2 = 0x20;

/** The ABI name of an ELF file from e_machine, its class and e_flags. */
export function elfArch(machine: number, bits: 32 | 64, flags: number): string {
  switch (machine) {
    case 62: // EM_X86_64
      return bits === 64 ? 'x86-64' : 'x32';
    case 3: // EM_386
      return 'i386';
    case 183: // EM_AARCH64
      return 'aarch64';
    case 40: // EM_ARM
      if (flags & EF_ARM_ABI_FLOAT_HARD) return 'armhf';
      return flags & EF_ARM_ABI_FLOAT_SOFT ? 'armel' : 'arm';
    case 21: // EM_PPC64
      return 'ppc64';
    case 20: // EM_PPC
      return 'ppc';
    case 22: // EM_S390
      return bits === 64 ? 's390x' : 's390';
    case 8: // EM_MIPS
      if (bits === 64) return 'mips64';
      return flags & EF_MIPS_ABI2 ? 'mipsn32' : 'mips';
    case 43: // EM_SPARCV9
      return 'sparc64';
    case 2: // EM_SPARC
      return 'sparc';
    case 50: // EM_IA_64
      return 'ia64';
    case 243: // EM_RISCV
      return bits === 64 ? 'riscv64' : 'riscv32';
    case 258: // EM_LOONGARCH
      return 'loongarch64';
    default:
      return `elf-machine-${machine}`;
  }
}

export type ArchFamily = 'x86' | 'arm' | 'ppc' | 's390' | 'mips' | 'sparc' | 'riscv' | 'loongarch' | 'ia64' | 'other';

const FAMILY: Record<string, ArchFamily> = {
  'x86-64': 'x86', i386: 'x86', x32: 'x86',
  aarch64: 'arm', armhf: 'arm', armel: 'arm', arm: 'arm',
  ppc64: 'ppc', ppc: 'ppc',
  s390x: 's390', s390: 's390',
  mips64: 'mips', mipsn32: 'mips', mips: 'mips',
  sparc64: 'sparc', sparc: 'sparc',
  riscv64: 'riscv', riscv32: 'riscv',
  loongarch64: 'loongarch',
  ia64: 'ia64',
};

export function archFamily(arch: string): ArchFamily {
  return FAMILY[arch] ?? 'other';
}

/** The 64-bit ABI and the 32-bit one a container of that machine can run (x86-64 + i386, aarch64 + armhf). */
export const ABI_PAIRS: Readonly<Record<string, { bits64: string; bits32: readonly string[] }>> = {
  x86: { bits64: 'x86-64', bits32: ['i386'] },
  arm: { bits64: 'aarch64', bits32: ['armhf', 'arm'] },
  ppc: { bits64: 'ppc64', bits32: ['ppc'] },
  s390: { bits64: 's390x', bits32: ['s390'] },
  mips: { bits64: 'mips64', bits32: ['mips'] },
  sparc: { bits64: 'sparc64', bits32: ['sparc'] },
  riscv: { bits64: 'riscv64', bits32: [] },
  loongarch: { bits64: 'loongarch64', bits32: [] },
  ia64: { bits64: 'ia64', bits32: [] },
};
