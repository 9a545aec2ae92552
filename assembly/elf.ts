// ELF reader: the header, SONAME and NEEDED (PT_DYNAMIC, DT_STRTAB mapped through PT_LOAD),
// and the NT_GNU_ABI_TAG note (PT_NOTE, else SHT_NOTE sections), for 32/64-bit files of either
// byte order. The host hands over only parts of the file (a 50 MB libcuda is not read whole):
//
//   input  = [u32 chunkCount][u32 0][u64 fileSize][chunkCount x {u64 fileOffset, u32 length, u32 at}][bytes]
//
// where `at` is where the chunk's bytes start, relative to the input base. When a range the
// reader needs is missing, it lists it (status NEED) and the host calls again with it added.
// Every offset is checked against the file size and the chunk it is read from.
import { ensureMemory, getInputLength, inputBase, resultBase } from './memory';
import * as R from './elf-layout';

let bigEndian = false;
let wide = false; // ELFCLASS64
let needCount: i32 = 0;

// Program header facts, gathered once per call.
let phoff: u64 = 0;
let phnum: u32 = 0;
let phentsize: u32 = 0;

function fileSize(): u64 {
  return load<u64>(inputBase() + 8);
}

/** Address in wasm memory of file bytes [offset, offset+length), or 0 when no chunk holds them. */
function at(offset: u64, length: u64): usize {
  const base = inputBase();
  const count = load<u32>(base);
  const inputEnd = <u64>getInputLength();
  for (let i: u32 = 0; i < count; i++) {
    const entry = base + 16 + (<usize>i << 4);
    const start = load<u64>(entry);
    const size = <u64>load<u32>(entry + 8);
    const data = <u64>load<u32>(entry + 12);
    if (data + size > inputEnd) continue; // a chunk that overruns the input is ignored
    if (offset >= start && length <= size && offset - start <= size - length) {
      return base + <usize>(data + (offset - start));
    }
  }
  return 0;
}

function fail(code: i32, offset: u64): i32 {
  const r = resultBase();
  store<i32>(r + R.STATUS, R.STATUS_ERROR);
  store<i32>(r + R.ERROR_CODE, code);
  store<f64>(r + R.ERROR_OFFSET, <f64>offset);
  return R.STATUS_ERROR;
}

/** Asks the host for [offset, offset+length); the range was checked to lie in the file. */
function need(offset: u64, length: u64): void {
  if (needCount >= R.MAX_NEEDS) return;
  const slot = resultBase() + R.NEEDS + (<usize>needCount << 4);
  store<f64>(slot, <f64>offset);
  store<f64>(slot + 8, <f64>length);
  needCount++;
}

/** True when [offset, offset+length) lies inside the file. */
function inFile(offset: u64, length: u64): bool {
  const size = fileSize();
  return offset <= size && length <= size - offset;
}

@inline function u16at(p: usize): u32 {
  const v = <u32>load<u16>(p);
  return bigEndian ? <u32>bswap<u16>(<u16>v) : v;
}
@inline function u32at(p: usize): u32 {
  const v = load<u32>(p);
  return bigEndian ? bswap<u32>(v) : v;
}
@inline function u64at(p: usize): u64 {
  const v = load<u64>(p);
  return bigEndian ? bswap<u64>(v) : v;
}
/** An address-sized field (Elf32_Addr/Off or Elf64_Addr/Off). */
@inline function word(p: usize): u64 {
  return wide ? u64at(p) : <u64>u32at(p);
}

// Program header fields (Elf32_Phdr and Elf64_Phdr order them differently).
function phType(p: usize): u32 { return u32at(p); }
function phOffset(p: usize): u64 { return wide ? u64at(p + 8) : <u64>u32at(p + 4); }
function phVaddr(p: usize): u64 { return wide ? u64at(p + 16) : <u64>u32at(p + 8); }
function phFilesz(p: usize): u64 { return wide ? u64at(p + 32) : <u64>u32at(p + 16); }
function phAlign(p: usize): u64 { return wide ? u64at(p + 48) : <u64>u32at(p + 28); }

/** Maps a virtual address to a file offset through PT_LOAD; returns u64.MAX_VALUE when unmapped. */
function vaddrToOffset(phdrs: usize, vaddr: u64): u64 {
  for (let i: u32 = 0; i < phnum; i++) {
    const p = phdrs + <usize>(i * phentsize);
    if (phType(p) != R.PT_LOAD) continue;
    const start = phVaddr(p);
    const size = phFilesz(p);
    if (vaddr >= start && vaddr - start < size) return phOffset(p) + (vaddr - start);
  }
  return u64.MAX_VALUE;
}

/**
 * Reads the GNU ABI tag from the notes in [offset, offset+size) (a PT_NOTE segment or SHT_NOTE
 * section starting at a multiple of `align`); returns an error status or 0. As the gABI says
 * (and binutils and glibc read them), each note is a 12-byte header, the name padded so that the
 * descriptor starts at a multiple of the alignment *from the note's start*, the descriptor
 * padded likewise: 4 for 32-bit notes, 8 for 64-bit ones such as `.note.gnu.property` (an
 * alignment below 4 counts as 4, as binutils does). Other alignments are no note layout
 * glibc reads: the range is skipped.
 */
function scanNotes(offset: u64, size: u64, align: u64): i32 {
  if (align != 8 && align > 4) return 0;
  const step: u64 = align == 8 ? 8 : 4;
  const mask: u64 = step - 1;
  const base = at(offset, size);
  const r = resultBase();
  let pos: u64 = 0;
  while (pos <= size && size - pos >= 12) {
    const p = base + <usize>pos;
    const namesz = <u64>u32at(p);
    const descsz = <u64>u32at(p + 4);
    const type = u32at(p + 8);
    const nameAt = pos + 12;
    // namesz and descsz are u32: these sums cannot overflow u64.
    if (namesz > size - nameAt) return fail(R.E_BAD_NOTE, offset + pos);
    const descAt = (nameAt + namesz + mask) & ~mask;
    if (descAt > size || descsz > size - descAt) return fail(R.E_BAD_NOTE, offset + pos);
    const next = (descAt + descsz + mask) & ~mask;
    if (type == R.NT_GNU_ABI_TAG && namesz == 4 && descsz >= 16 && load<u32>(base + <usize>nameAt) == 0x00554e47 /* "GNU\0" */) {
      const d = base + <usize>descAt;
      store<i32>(r + R.NOTE_FOUND, 1);
      store<u32>(r + R.NOTE_OS, u32at(d));
      store<u32>(r + R.NOTE_MAJOR, u32at(d + 4));
      store<u32>(r + R.NOTE_MINOR, u32at(d + 8));
      store<u32>(r + R.NOTE_PATCH, u32at(d + 12));
      return 0;
    }
    pos = next; // > pos: the header alone is 12 bytes
  }
  return 0;
}

/** A string of the dynamic string table: stores (address, length) at `slot`; returns an error status or 0. */
function dynString(strtab: usize, strOffset: u64, strsz: u64, index: u64, slot: usize): i32 {
  if (index >= strsz) return fail(R.E_STRING_OUT_OF_RANGE, strOffset);
  const start = strtab + <usize>index;
  const end = strtab + <usize>strsz;
  let p = start;
  while (p < end && load<u8>(p) != 0) p++;
  if (p == end) return fail(R.E_STRING_UNTERMINATED, strOffset + index);
  store<i32>(slot, <i32>start);
  store<i32>(slot + 4, <i32>(p - start));
  return 0;
}

/** Parses what the input holds; see elf-layout.ts for the result table. */
export function elfParse(): i32 {
  const r = resultBase();
  if (!ensureMemory(r + R.NEEDED_LIST)) return R.STATUS_NO_MEMORY;
  memory.fill(r, 0, R.NEEDED_LIST);
  needCount = 0;
  const size = fileSize();

  if (size < 4) return fail(R.E_NOT_ELF, 0);
  const magic = at(0, 4);
  if (magic == 0) { need(0, size < 64 ? size : <u64>64); return R.STATUS_NEED; }
  if (load<u32>(magic) != 0x464c457f) return fail(R.E_NOT_ELF, 0);
  if (size < 16) return fail(R.E_TRUNCATED, size);
  const ident = at(0, 16);
  if (ident == 0) { need(0, size < 64 ? size : <u64>64); return R.STATUS_NEED; }
  const cls = load<u8>(ident + 4);
  const data = load<u8>(ident + 5);
  if (cls != 1 && cls != 2) return fail(R.E_BAD_CLASS, 4);
  if (data != 1 && data != 2) return fail(R.E_BAD_BYTE_ORDER, 5);
  wide = cls == 2;
  bigEndian = data == 2;
  const ehsize: u64 = wide ? 64 : 52;
  if (!inFile(0, ehsize)) return fail(R.E_TRUNCATED, size);
  const h = at(0, ehsize);
  if (h == 0) { need(0, ehsize); return R.STATUS_NEED; }

  store<i32>(r + R.CLASS, cls);
  store<i32>(r + R.DATA, data);
  store<i32>(r + R.OSABI, load<u8>(h + 7));
  store<i32>(r + R.ABIVERSION, load<u8>(h + 8));
  store<i32>(r + R.TYPE, u16at(h + 16));
  store<i32>(r + R.MACHINE, u16at(h + 18));
  store<u32>(r + R.FLAGS, u32at(h + (wide ? 48 : 36)));
  phoff = word(h + (wide ? 32 : 28));
  const shoff = word(h + (wide ? 40 : 32));
  phentsize = u16at(h + (wide ? 54 : 42));
  phnum = u16at(h + (wide ? 56 : 44));
  const shentsize = u16at(h + (wide ? 58 : 46));
  const shnum = u16at(h + (wide ? 60 : 48));
  if (phnum == 0) return sectionNotes(shoff, shnum, shentsize); // nothing to load: notes only in sections
  const minPhentsize: u32 = wide ? 56 : 32;
  if (phentsize < minPhentsize) return fail(R.E_BAD_PROGRAM_HEADERS, wide ? 54 : 42);
  const phsize = <u64>phnum * <u64>phentsize;
  if (!inFile(phoff, phsize)) return fail(R.E_TRUNCATED, phoff);
  const phdrs = at(phoff, phsize);
  if (phdrs == 0) { need(phoff, phsize); return R.STATUS_NEED; }

  // Round 2: the dynamic segment and the note segments, all at once.
  let dynOffset: u64 = 0;
  let dynSize: u64 = 0;
  let missing = false;
  for (let i: u32 = 0; i < phnum; i++) {
    const p = phdrs + <usize>(i * phentsize);
    const type = phType(p);
    if (type != R.PT_DYNAMIC && type != R.PT_NOTE) continue;
    const off = phOffset(p);
    const len = phFilesz(p);
    if (!inFile(off, len)) return fail(R.E_TRUNCATED, phoff + <u64>(i * phentsize));
    if (len > R.MAX_RANGE) return fail(R.E_TOO_LARGE, phoff + <u64>(i * phentsize));
    if (type == R.PT_DYNAMIC) { dynOffset = off; dynSize = len; store<i32>(r + R.HAS_DYNAMIC, 1); }
    if (at(off, len) == 0) { need(off, len); missing = true; }
  }
  if (missing) return R.STATUS_NEED;
  for (let i: u32 = 0; i < phnum && load<i32>(r + R.NOTE_FOUND) == 0; i++) {
    const p = phdrs + <usize>(i * phentsize);
    if (phType(p) != R.PT_NOTE) continue;
    if (scanNotes(phOffset(p), phFilesz(p), phAlign(p)) != 0) return R.STATUS_ERROR;
  }

  // Round 3: the dynamic string table.
  let neededCount: u32 = 0;
  if (dynSize > 0) {
    const dyn = at(dynOffset, dynSize);
    const entsize: u64 = wide ? 16 : 8;
    let strtabAddr: u64 = 0;
    let hasStrtab = false;
    let strsz: u64 = u64.MAX_VALUE;
    let soname: u64 = u64.MAX_VALUE;
    for (let e: u64 = 0; e + entsize <= dynSize; e += entsize) {
      const p = dyn + <usize>e;
      const tag = word(p);
      const val = word(p + (wide ? 8 : 4));
      if (tag == R.DT_NULL) break;
      if (tag == R.DT_STRTAB) { strtabAddr = val; hasStrtab = true; }
      else if (tag == R.DT_STRSZ) strsz = val;
      else if (tag == R.DT_SONAME) soname = val;
      else if (tag == R.DT_NEEDED) neededCount++;
    }
    if (neededCount > 0 || soname != u64.MAX_VALUE) {
      if (!hasStrtab) return fail(R.E_BAD_DYNAMIC, dynOffset);
      const strOffset = vaddrToOffset(phdrs, strtabAddr);
      if (strOffset == u64.MAX_VALUE) return fail(R.E_STRTAB_UNMAPPED, dynOffset);
      if (strsz == u64.MAX_VALUE || !inFile(strOffset, strsz)) return fail(R.E_TRUNCATED, strOffset);
      if (strsz > R.MAX_RANGE) return fail(R.E_TOO_LARGE, strOffset);
      const strtab = at(strOffset, strsz);
      if (strtab == 0) { need(strOffset, strsz); return R.STATUS_NEED; }
      if (!ensureMemory(r + R.NEEDED_LIST + (<usize>neededCount << 3))) return R.STATUS_NO_MEMORY;
      let n: u32 = 0;
      for (let e: u64 = 0; e + entsize <= dynSize; e += entsize) {
        const p = dyn + <usize>e;
        const tag = word(p);
        const val = word(p + (wide ? 8 : 4));
        if (tag == R.DT_NULL) break;
        if (tag == R.DT_SONAME && dynString(strtab, strOffset, strsz, val, r + R.SONAME_ADDR) != 0) return R.STATUS_ERROR;
        if (tag == R.DT_NEEDED) {
          if (dynString(strtab, strOffset, strsz, val, r + R.NEEDED_LIST + (<usize>n << 3)) != 0) return R.STATUS_ERROR;
          n++;
        }
      }
    }
  }
  store<i32>(r + R.NEEDED_COUNT, <i32>neededCount);

  if (load<i32>(r + R.NOTE_FOUND) != 0) return R.STATUS_OK;
  return sectionNotes(shoff, shnum, shentsize);
}

/**
 * Round 4, when no PT_NOTE holds an ABI tag (or there are no program headers: a relocatable
 * object such as crt1.o): the SHT_NOTE sections. A broken section table is ignored, as the loader
 * ignores it.
 */
function sectionNotes(shoff: u64, shnum: u32, shentsize: u32): i32 {
  const r = resultBase();
  const minShentsize: u32 = wide ? 64 : 40;
  if (shoff == 0 || shnum == 0 || shentsize < minShentsize) return R.STATUS_OK;
  const shsize = <u64>shnum * <u64>shentsize;
  if (!inFile(shoff, shsize)) return R.STATUS_OK;
  const shdrs = at(shoff, shsize);
  if (shdrs == 0) { need(shoff, shsize); return R.STATUS_NEED; }
  let missing = false;
  for (let i: u32 = 0; i < shnum; i++) {
    const s = shdrs + <usize>(i * shentsize);
    if (u32at(s + 4) != R.SHT_NOTE) continue;
    const off = wide ? u64at(s + 24) : <u64>u32at(s + 16);
    const len = wide ? u64at(s + 32) : <u64>u32at(s + 20);
    const align = wide ? u64at(s + 48) : <u64>u32at(s + 32);
    if (!inFile(off, len) || len > R.MAX_RANGE) return fail(R.E_BAD_NOTE, shoff + <u64>(i * shentsize));
    if (at(off, len) == 0) { need(off, len); missing = true; continue; }
    if (!missing && scanNotes(off, len, align) != 0) return R.STATUS_ERROR;
    if (load<i32>(r + R.NOTE_FOUND) != 0) break;
  }
  return missing ? R.STATUS_NEED : R.STATUS_OK;
}

/** Number of ranges the last STATUS_NEED asked for. */
export function elfNeedCount(): i32 {
  return needCount;
}
