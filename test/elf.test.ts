// The ELF reader against gcc-built libraries (checked with the real readelf) and hand-made
// files of every class and byte order, hostile ones included.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError, readElf, readElfFrom } from '../src/core/elf.js';
import { useWasmBinary } from '../src/core/wasm.js';
import { synthesize, type SyntheticElf } from './helpers/elf-writer.js';

let dir: string;
const gcc = (args: string[], source = 'int f(void) { return 0; }\n'): void => {
  execFileSync('gcc', [...args, '-x', 'c', '-'], { input: source });
};
const readelf = (args: string[], file: string): string => execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });

/** SONAME and NEEDED as the real readelf prints them. */
function readelfNames(file: string): { soname: string | null; needed: string[] } {
  const text = readelf(['-d'], file);
  const soname = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(text)?.[1] ?? null;
  const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]!);
  return { soname, needed };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elf-test-'));
  useWasmBinary(readFileSync(new URL('../build/ldcache.debug.wasm', import.meta.url)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gcc-built libraries', () => {
  it('reads SONAME, NEEDED, class and machine of an x86-64 library as readelf does', () => {
    gcc(['-shared', '-fPIC', '-Wl,-soname,libdep.so.7', '-o', join(dir, 'libdep.so.7')]);
    const file = join(dir, 'libfoo.so.535.261.03');
    gcc(['-shared', '-fPIC', '-Wl,-soname,libfoo.so.1', '-Wl,--no-as-needed', '-o', file, join(dir, 'libdep.so.7')]);
    const info = readElf(readFileSync(file), file);
    const expected = readelfNames(file);
    expect(info.soname).toBe(expected.soname);
    expect(info.needed).toEqual(expected.needed);
    expect(info.needed).toContain('libdep.so.7');
    expect(info).toMatchObject({ bits: 64, byteOrder: 'little', machine: 62, arch: 'x86-64', type: 3, dynamic: true });
  });

  it('reads an i386 library and its GNU ABI tag note', () => {
    const file = join(dir, 'libnvidia-tls.so.1');
    const note = '__asm__(".section .note.ABI-tag,\\"a\\",@note\\n.balign 4\\n.long 4, 16, 1\\n.asciz \\"GNU\\"\\n.long 0, 2, 3, 99\\n.previous");\n';
    gcc(['-m32', '-nostdlib', '-shared', '-fPIC', '-Wl,-soname,libnvidia-tls.so.1', '-o', file], `int f(void) { return 1; }\n${note}`);
    const info = readElf(readFileSync(file));
    expect(info).toMatchObject({ bits: 32, arch: 'i386', machine: 3, soname: 'libnvidia-tls.so.1' });
    const abi = /OS: Linux, ABI: (\d+)\.(\d+)\.(\d+)/.exec(readelf(['-n'], file));
    expect(abi).not.toBeNull();
    expect(info.abiTag).toEqual({ os: 0, version: abi!.slice(1, 4).map(Number) });
  });

  it('finds an ABI tag that only a SHT_NOTE section holds (no PT_NOTE)', () => {
    const file = join(dir, 'libsectionnote.so');
    const src = '__asm__(".section .note.ABI-tag,\\"\\",@note\\n.balign 4\\n.long 4, 16, 1\\n.asciz \\"GNU\\"\\n.long 0, 2, 2, 5\\n.previous");\nint f(void){return 0;}\n';
    gcc(['-shared', '-fPIC', '-o', file], src);
    expect(readelf(['-l'], file)).not.toMatch(/NOTE.*\n.*\.note\.ABI-tag/);
    expect(readElf(readFileSync(file)).abiTag).toEqual({ os: 0, version: [2, 2, 5] });
  });
});

describe('hand-made files of every class and byte order', () => {
  const cases: [string, SyntheticElf, string][] = [
    ['64-bit big-endian ppc64', { bits: 64, big: true, machine: 21, soname: 'libbe.so.1', needed: ['libc.so.6', 'libm.so.6'], abiTag: [0, 3, 10, 0] }, 'ppc64'],
    ['32-bit big-endian ppc', { bits: 32, big: true, machine: 20, soname: 'libbe32.so.1', needed: ['libc.so.6'] }, 'ppc'],
    ['32-bit ARM hard-float', { bits: 32, big: false, machine: 40, flags: 0x05000400, soname: 'libhf.so.1', needed: ['libc.so.6'] }, 'armhf'],
    ['32-bit ARM soft-float', { bits: 32, big: false, machine: 40, flags: 0x05000200, soname: 'libsf.so.1' }, 'armel'],
    ['aarch64', { bits: 64, big: false, machine: 183, soname: 'libcuda.so.1', needed: ['libm.so.6'] }, 'aarch64'],
    ['64-bit big-endian s390x', { bits: 64, big: true, machine: 22, needed: ['libc.so.6'] }, 's390x'],
  ];
  for (const [title, spec, arch] of cases) {
    it(`${title}: matches readelf`, () => {
      const file = join(dir, `synthetic-${arch}.so`);
      const bytes = synthesize(spec);
      writeFileSync(file, bytes);
      const info = readElf(bytes, file);
      expect(info.arch).toBe(arch);
      expect(info.byteOrder).toBe(spec.big ? 'big' : 'little');
      expect(info.bits).toBe(spec.bits);
      expect({ soname: info.soname, needed: info.needed }).toEqual(readelfNames(file));
      expect(info.abiTag?.version ?? null).toEqual(spec.abiTag ? spec.abiTag.slice(1) : null);
    });
  }

  it('reads only the ranges the headers point at from a large file', () => {
    const bytes = synthesize({ bits: 64, big: false, machine: 62, soname: 'libbig.so.1', needed: ['libc.so.6'], gap: 8 << 20 });
    let read = 0;
    const info = readElfFrom({ size: bytes.length, read: (o, n) => ((read += n), bytes.subarray(o, o + n)) });
    expect(info.soname).toBe('libbig.so.1');
    expect(bytes.length).toBeGreaterThan(8 << 20);
    expect(read).toBeLessThan(70 * 1024);
  });
});

describe('hostile files give an ElfError, never a trap', () => {
  const base = (): Buffer => Buffer.from(synthesize({ bits: 64, big: false, machine: 62, soname: 'libx.so.1', needed: ['liby.so.2'], abiTag: [0, 2, 3, 99] }));
  const codeOf = (bytes: Uint8Array): string => {
    try {
      readElf(bytes, 'hostile.so');
      return 'ok';
    } catch (err) {
      expect(err).toBeInstanceOf(ElfError);
      expect((err as ElfError).describe()).toMatch(/^hostile\.so: .+ \(at byte \d+\)$/);
      return (err as ElfError).code;
    }
  };

  it('names the problem of each broken structure', () => {
    expect(codeOf(Buffer.from('#!/bin/sh\necho hi\n'))).toBe('NOT_ELF');
    expect(codeOf(new Uint8Array(0))).toBe('NOT_ELF');
    const badClass = base(); badClass[4] = 7;
    expect(codeOf(badClass)).toBe('BAD_CLASS');
    const badOrder = base(); badOrder[5] = 0;
    expect(codeOf(badOrder)).toBe('BAD_BYTE_ORDER');
    const phoffPast = base(); phoffPast.writeBigUInt64LE(1n << 40n, 32);
    expect(codeOf(phoffPast)).toBe('TRUNCATED');
    const tinyPhent = base(); tinyPhent.writeUInt16LE(8, 54);
    expect(codeOf(tinyPhent)).toBe('BAD_PROGRAM_HEADERS');
    const noteHuge = base(); noteHuge.writeUInt32LE(0xfffffff0, 64 + 3 * 56);
    expect(codeOf(noteHuge)).toBe('BAD_NOTE');
  });

  it('checks the string table and the strings in it', () => {
    const b = base();
    const dynOff = Number(b.readBigUInt64LE(64 + 56 + 8));
    const strtabAddrAt = dynOff + 2 * 16 + 8;
    const unmapped = Buffer.from(b); unmapped.writeBigUInt64LE(0xdead0000n, strtabAddrAt);
    expect(codeOf(unmapped)).toBe('STRTAB_UNMAPPED');
    const farString = Buffer.from(b); farString.writeBigUInt64LE(5000n, dynOff + 8);
    expect(codeOf(farString)).toBe('STRING_OUT_OF_RANGE');
    const hugeStrsz = Buffer.from(b); hugeStrsz.writeBigUInt64LE(1n << 33n, dynOff + 3 * 16 + 8);
    expect(codeOf(hugeStrsz)).toBe('TRUNCATED');
    const unterminated = Buffer.from(b);
    const strOff = Number(b.readBigUInt64LE(strtabAddrAt)) - 0x10000;
    const strsz = Number(b.readBigUInt64LE(dynOff + 3 * 16 + 8));
    unterminated.fill(0x41, strOff + 1, strOff + strsz);
    expect(codeOf(unterminated)).toBe('STRING_UNTERMINATED');
  });

  it('survives every truncation and random corruption of a real library', () => {
    const file = join(dir, 'libreal.so');
    gcc(['-shared', '-fPIC', '-Wl,-soname,libreal.so.1', '-o', file]);
    const real = readFileSync(file);
    for (let length = 0; length < real.length; length += length < 1024 ? 1 : 97) codeOf(real.subarray(0, length));
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(real);
      for (let flips = 0; flips < 4; flips++) copy[random() % Math.min(copy.length, 4096)] = random() & 0xff;
      codeOf(copy);
    }
  });
});
