// ABI names and widths derived from entry flags, and the per-version `ldconfig -p` texts that the
// real ldconfig on this machine (2.36) cannot show for other versions (spec 6.1 and 13.4).
import { describe, expect, it } from 'vitest';
import { archBits, archName, cacheFamily, isHwcapsExtension, osAbiText, requiredText, typeText } from '../src/core/abi.js';

describe('ABI names', () => {
  it('names every required value ldconfig writes', () => {
    const names = Object.fromEntries(
      [0x0103, 0x0203, 0x0303, 0x0403, 0x0503, 0x0603, 0x0703, 0x0803, 0x0903, 0x0a03, 0x0b03, 0x0c03, 0x0d03, 0x0e03, 0x0f03, 0x1003, 0x1103, 0x1203].map(
        (flags) => [flags.toString(16), `${archName(flags, 'generic')}/${archBits(flags, 'generic')}`],
      ),
    );
    expect(names).toEqual({
      '103': 'sparc64/64',
      '203': 'ia64/64',
      '303': 'x86-64/64',
      '403': 's390x/64',
      '503': 'ppc64/64',
      '603': 'mipsn32/32',
      '703': 'mips64/64',
      '803': 'x32/32',
      '903': 'armhf/32',
      a03: 'aarch64/64',
      b03: 'armel/32',
      c03: 'mips/32',
      d03: 'mipsn32/32',
      e03: 'mips64/64',
      f03: 'riscv64/64',
      '1003': 'riscv64/64',
      '1103': 'loongarch64/64',
      '1203': 'loongarch64/64',
    });
    expect(archName(0x7f03, 'x86')).toBe('unknown-0x7f00');
    expect(archBits(0x7f03, 'x86')).toBeNull();
  });

  it('names generic 32-bit entries by the family of the cache', () => {
    const family = (...required: number[]) => cacheFamily(required);
    expect(family(0x0000, 0x0300)).toBe('x86');
    expect(family(0x0800)).toBe('x86');
    expect(family(0x0a00)).toBe('arm');
    expect(family(0x0900)).toBe('arm');
    expect(family(0x0400)).toBe('s390');
    expect(family(0x0500)).toBe('ppc');
    expect(family(0x0700)).toBe('mips');
    expect(family(0x0100)).toBe('sparc');
    expect(family(0x0000)).toBe('generic');
    expect(family(0x0f00)).toBe('generic');
    for (const flags of [0x0000, 0x0001, 0x0002, 0x0003]) expect(archName(flags, 'x86')).toBe('i386');
    expect(['arm', 's390', 'ppc', 'mips', 'sparc', 'generic'].map((f) => archName(3, f as never))).toEqual(['arm', 's390', 'ppc', 'mips', 'sparc', 'generic']);
    expect(archBits(3, 'x86')).toBe(32);
    expect(archBits(3, 'generic')).toBeNull();
  });
});

describe('ldconfig -p texts by glibc version', () => {
  it('type texts: 2.31 and 2.36 name types 0-3; 2.41 only libc6', () => {
    for (const glibc of ['2.31', '2.36'] as const) expect([0, 1, 2, 3, 4].map((t) => typeText(t, glibc))).toEqual(['libc4', 'ELF', 'libc5', 'libc6', 'unknown']);
    expect([0, 1, 2, 3, 4].map((t) => typeText(t, '2.41'))).toEqual(Array(3).fill('unknown or unsupported flag').concat('libc6', 'unknown or unsupported flag'));
    // Bits 16-31 are ignored.
    expect(typeText(0x10303)).toBe('libc6');
    expect(typeText(0x80000000 | 0)).toBe('libc4');
  });

  it('required texts that changed after 2.36', () => {
    expect([0x0200, 0x1100, 0x1200].map((r) => requiredText(r, '2.36'))).toEqual([',IA-64', ',4352', ',4608']);
    expect([0x0200, 0x1100, 0x1200].map((r) => requiredText(r, '2.41'))).toEqual([',512', ',soft-float', ',double-float']);
    expect(requiredText(0x0d00, '2.31')).toBe(',N32,nan2008');
    expect(requiredText(-1)).toBe(',65280');
    expect(requiredText(0x0003)).toBe('');
  });

  it('OS ABI text (glibc <= 2.35)', () => {
    expect(osAbiText(0x00030200)).toBe('Linux 3.2.0');
    expect(osAbiText(0x01000001)).toBe('Hurd 0.0.1');
    expect(osAbiText(0x07010203)).toBe('Unknown OS 1.2.3');
  });

  it('glibc-hwcaps extension bit pattern: bit 62 with ISA bits only', () => {
    expect(isHwcapsExtension(0x40000000)).toBe(true);
    expect(isHwcapsExtension(0x400003ff)).toBe(true);
    expect(isHwcapsExtension(0x40000400)).toBe(false);
    expect(isHwcapsExtension(0xc0000000)).toBe(false);
    expect(isHwcapsExtension(0x00040000)).toBe(false);
  });
});
