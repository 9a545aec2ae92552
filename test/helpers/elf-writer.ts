// Hand-made ELF shared objects of any class, byte order and machine (gcc here builds only x86):
// an ELF header, PT_LOAD over the whole file, PT_DYNAMIC (SONAME, NEEDED, STRTAB, STRSZ) and a
// PT_NOTE with an optional GNU ABI tag. Enough for ldcache's reader and for readelf.

export interface SyntheticElf {
  bits: 32 | 64;
  big: boolean;
  machine: number;
  flags?: number;
  soname?: string;
  needed?: string[];
  abiTag?: [number, number, number, number];
  /** Zero bytes before the dynamic data (to put it far from the head). */
  gap?: number;
}

/** A minimal shared object: ELF header, PT_LOAD over the whole file, PT_DYNAMIC, PT_NOTE. */
export function synthesize(spec: SyntheticElf): Uint8Array {
  const w = spec.bits === 64;
  const ehsize = w ? 64 : 52;
  const phentsize = w ? 56 : 32;
  const names = [spec.soname, ...(spec.needed ?? [])].filter((n): n is string => n !== undefined);
  const strtab = Buffer.concat([Buffer.from([0]), ...names.map((n) => Buffer.from(`${n}\0`))]);
  const noteSize = spec.abiTag ? 32 : 0;
  const dynCount = names.length + 3;
  const dynEnt = w ? 16 : 8;
  const phOff = ehsize;
  const noteOff = phOff + 3 * phentsize;
  const strOff = noteOff + noteSize + (spec.gap ?? 0);
  const dynOff = (strOff + strtab.length + 7) & ~7;
  const size = dynOff + dynCount * dynEnt;
  const b = Buffer.alloc(size);
  const le = !spec.big;
  const u16 = (o: number, v: number): number => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (o: number, v: number): number => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const addr = (o: number, v: number): number => (w ? (le ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o)) : u32(o, v));
  const vbase = 0x10000;
  b.write('\x7fELF', 0, 'latin1');
  b[4] = w ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1;
  u16(16, 3);
  u16(18, spec.machine);
  u32(20, 1);
  addr(w ? 32 : 28, phOff);
  u32(w ? 48 : 36, spec.flags ?? 0);
  u16(w ? 52 : 40, ehsize);
  u16(w ? 54 : 42, phentsize);
  u16(w ? 56 : 44, 3);
  const phdr = (i: number, type: number, off: number, len: number, align: number): void => {
    const p = phOff + i * phentsize;
    u32(p, type);
    if (w) {
      addr(p + 8, off); addr(p + 16, vbase + off); addr(p + 24, vbase + off); addr(p + 32, len); addr(p + 40, len); addr(p + 48, align);
    } else {
      u32(p + 4, off); u32(p + 8, vbase + off); u32(p + 12, vbase + off); u32(p + 16, len); u32(p + 20, len); u32(p + 28, align);
    }
  };
  phdr(0, 1, 0, size, 0x1000);
  phdr(1, 2, dynOff, dynCount * dynEnt, 8);
  phdr(2, 4, noteOff, noteSize, 4);
  if (spec.abiTag) {
    u32(noteOff, 4); u32(noteOff + 4, 16); u32(noteOff + 8, 1);
    b.write('GNU\0', noteOff + 12, 'latin1');
    spec.abiTag.forEach((v, i) => u32(noteOff + 16 + i * 4, v));
  }
  strtab.copy(b, strOff);
  let d = dynOff;
  const dyn = (tag: number, val: number): void => {
    addr(d, tag);
    addr(d + (w ? 8 : 4), val);
    d += dynEnt;
  };
  let at = 1;
  for (const [i, n] of names.entries()) {
    dyn(i === 0 && spec.soname !== undefined ? 14 : 1, at);
    at += Buffer.byteLength(n) + 1;
  }
  dyn(5, vbase + strOff);
  dyn(10, strtab.length);
  dyn(0, 0);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
