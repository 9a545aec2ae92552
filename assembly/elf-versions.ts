// ELF symbol versioning: the versions a file needs (Verneed/Vernaux, `.gnu.version_r`: e.g.
// libc.so.6 GLIBC_2.34) and the versions it defines (Verdef/Verdaux, `.gnu.version_d`: a libc's
// GLIBC_2.2.5 … GLIBC_2.36), found through PT_DYNAMIC (DT_VERNEED/DT_VERDEF addresses mapped
// through PT_LOAD). Same input protocol as elf.ts (chunks of the file; ranges that are missing are
// asked for with STATUS_NEED). Separate from elf.ts so each reader stays small.
//
// Result table (from resultBase()): STATUS 0, ERROR_CODE 4, ERROR_OFFSET 8 (f64),
// NEEDS 16 (8 x {f64 offset, f64 length}), COUNT 144, LIST 160: COUNT x
// {i32 kind (0 needed, 1 defined), i32 flags, i32 fileAddr, i32 fileLen, i32 nameAddr, i32 nameLen}
// (a defined version has no file: fileAddr 0).
import { ensureMemory, getInputLength, inputBase, resultBase } from './memory';
import * as R from './elf-layout';

const V_NEEDS: usize = 16;
const V_COUNT: usize = 144;
const V_LIST: usize = 160;
const V_ENTRY: usize = 24;
const MAX_VERSIONS: u32 = 4096;
/** How much of a version table is asked for at once (tables are a few hundred bytes to a few KiB). */
const TABLE_WINDOW: u64 = 64 << 10;

const DT_VERDEF: u64 = 0x6ffffffc;
const DT_VERDEFNUM: u64 = 0x6ffffffd;
const DT_VERNEED: u64 = 0x6ffffffe;
const DT_VERNEEDNUM: u64 = 0x6fffffff;

let big = false;
let wide64 = false;
let needs: i32 = 0;
let count: u32 = 0;

function size(): u64 {
  return load<u64>(inputBase() + 8);
}

function at(offset: u64, length: u64): usize {
  const base = inputBase();
  const n = load<u32>(base);
  const inputEnd = <u64>getInputLength();
  for (let i: u32 = 0; i < n; i++) {
    const entry = base + 16 + (<usize>i << 4);
    const start = load<u64>(entry);
    const len = <u64>load<u32>(entry + 8);
    const data = <u64>load<u32>(entry + 12);
    if (data + len > inputEnd) continue;
    if (offset >= start && length <= len && offset - start <= len - length) return base + <usize>(data + (offset - start));
  }
  return 0;
}

function inFile(offset: u64, length: u64): bool {
  const s = size();
  return offset <= s && length <= s - offset;
}

function fail(code: i32, offset: u64): i32 {
  const r = resultBase();
  store<i32>(r, R.STATUS_ERROR);
  store<i32>(r + 4, code);
  store<f64>(r + 8, <f64>offset);
  return R.STATUS_ERROR;
}

function need(offset: u64, length: u64): void {
  if (needs >= 8) return;
  const slot = resultBase() + V_NEEDS + (<usize>needs << 4);
  store<f64>(slot, <f64>offset);
  store<f64>(slot + 8, <f64>length);
  needs++;
}

@inline function u16v(p: usize): u32 { const v = <u32>load<u16>(p); return big ? <u32>bswap<u16>(<u16>v) : v; }
@inline function u32v(p: usize): u32 { const v = load<u32>(p); return big ? bswap<u32>(v) : v; }
@inline function u64v(p: usize): u64 { const v = load<u64>(p); return big ? bswap<u64>(v) : v; }
@inline function wordv(p: usize): u64 { return wide64 ? u64v(p) : <u64>u32v(p); }

/** File offset of a virtual address, and how many file bytes of its PT_LOAD follow it (MAX when unmapped). */
function mapVaddr(phdrs: usize, phnum: u32, phentsize: u32, vaddr: u64, rest: usize): u64 {
  for (let i: u32 = 0; i < phnum; i++) {
    const p = phdrs + <usize>(i * phentsize);
    if (u32v(p) != R.PT_LOAD) continue;
    const off = wide64 ? u64v(p + 8) : <u64>u32v(p + 4);
    const va = wide64 ? u64v(p + 16) : <u64>u32v(p + 8);
    const filesz = wide64 ? u64v(p + 32) : <u64>u32v(p + 16);
    if (vaddr >= va && vaddr - va < filesz) {
      store<u64>(rest, filesz - (vaddr - va));
      return off + (vaddr - va);
    }
  }
  return u64.MAX_VALUE;
}

/** Checks a string of the dynamic string table and records it; returns false on a bad offset. */
function str(strtab: usize, strsz: u64, index: u64, slot: usize): bool {
  if (index >= strsz) return false;
  const start = strtab + <usize>index;
  const end = strtab + <usize>strsz;
  let p = start;
  while (p < end && load<u8>(p) != 0) p++;
  if (p == end) return false;
  store<i32>(slot, <i32>start);
  store<i32>(slot + 4, <i32>(p - start));
  return true;
}

function record(kind: i32, flags: i32): usize {
  const slot = resultBase() + V_LIST + <usize>count * V_ENTRY;
  store<i32>(slot, kind);
  store<i32>(slot + 4, flags);
  store<i32>(slot + 8, 0);
  store<i32>(slot + 12, 0);
  count++;
  return slot;
}

/** Reads the file's version needs and definitions; see the table above. */
export function elfVersions(): i32 {
  const r = resultBase();
  if (!ensureMemory(r + V_LIST + <usize>MAX_VERSIONS * V_ENTRY + 64)) return R.STATUS_NO_MEMORY;
  memory.fill(r, 0, V_LIST);
  needs = 0;
  count = 0;
  const s = size();
  if (s < 16) return fail(R.E_NOT_ELF, 0);
  const ident = at(0, 16);
  if (ident == 0) { need(0, s < 64 ? s : 64); return R.STATUS_NEED; }
  if (load<u32>(ident) != 0x464c457f) return fail(R.E_NOT_ELF, 0);
  const cls = load<u8>(ident + 4);
  const data = load<u8>(ident + 5);
  if (cls != 1 && cls != 2) return fail(R.E_BAD_CLASS, 4);
  if (data != 1 && data != 2) return fail(R.E_BAD_BYTE_ORDER, 5);
  wide64 = cls == 2;
  big = data == 2;
  const ehsize: u64 = wide64 ? 64 : 52;
  if (!inFile(0, ehsize)) return fail(R.E_TRUNCATED, s);
  const h = at(0, ehsize);
  if (h == 0) { need(0, ehsize); return R.STATUS_NEED; }
  const phoff = wordv(h + (wide64 ? 32 : 28));
  const phentsize = u16v(h + (wide64 ? 54 : 42));
  const phnum = u16v(h + (wide64 ? 56 : 44));
  if (phnum == 0) return R.STATUS_OK;
  const minPhentsize: u32 = wide64 ? 56 : 32;
  if (phentsize < minPhentsize) return fail(R.E_BAD_PROGRAM_HEADERS, wide64 ? 54 : 42);
  const phsize = <u64>phnum * <u64>phentsize;
  if (!inFile(phoff, phsize)) return fail(R.E_TRUNCATED, phoff);
  const phdrs = at(phoff, phsize);
  if (phdrs == 0) { need(phoff, phsize); return R.STATUS_NEED; }

  let dynOff: u64 = 0;
  let dynSize: u64 = 0;
  for (let i: u32 = 0; i < phnum; i++) {
    const p = phdrs + <usize>(i * phentsize);
    if (u32v(p) != R.PT_DYNAMIC) continue;
    dynOff = wide64 ? u64v(p + 8) : <u64>u32v(p + 4);
    dynSize = wide64 ? u64v(p + 32) : <u64>u32v(p + 16);
  }
  if (dynSize == 0) return R.STATUS_OK;
  if (!inFile(dynOff, dynSize)) return fail(R.E_TRUNCATED, dynOff);
  if (dynSize > R.MAX_RANGE) return fail(R.E_TOO_LARGE, dynOff);
  const dyn = at(dynOff, dynSize);
  if (dyn == 0) { need(dynOff, dynSize); return R.STATUS_NEED; }

  const entsize: u64 = wide64 ? 16 : 8;
  let strtabVa: u64 = u64.MAX_VALUE;
  let strsz: u64 = u64.MAX_VALUE;
  let verneedVa: u64 = u64.MAX_VALUE;
  let verneedNum: u64 = 0;
  let verdefVa: u64 = u64.MAX_VALUE;
  let verdefNum: u64 = 0;
  for (let e: u64 = 0; e + entsize <= dynSize; e += entsize) {
    const p = dyn + <usize>e;
    const tag = wordv(p);
    const val = wordv(p + (wide64 ? 8 : 4));
    if (tag == R.DT_NULL) break;
    if (tag == R.DT_STRTAB) strtabVa = val;
    else if (tag == R.DT_STRSZ) strsz = val;
    else if (tag == DT_VERNEED) verneedVa = val;
    else if (tag == DT_VERNEEDNUM) verneedNum = val;
    else if (tag == DT_VERDEF) verdefVa = val;
    else if (tag == DT_VERDEFNUM) verdefNum = val;
  }
  if (verneedVa == u64.MAX_VALUE && verdefVa == u64.MAX_VALUE) return R.STATUS_OK;
  if (strtabVa == u64.MAX_VALUE || strsz == u64.MAX_VALUE) return fail(R.E_BAD_DYNAMIC, dynOff);
  const restSlot = r + V_LIST - 8; // scratch word
  const strOff = mapVaddr(phdrs, phnum, phentsize, strtabVa, restSlot);
  if (strOff == u64.MAX_VALUE) return fail(R.E_STRTAB_UNMAPPED, dynOff);
  if (!inFile(strOff, strsz)) return fail(R.E_TRUNCATED, strOff);
  if (strsz > R.MAX_RANGE) return fail(R.E_TOO_LARGE, strOff);
  let missing = false;
  const strtab = at(strOff, strsz);
  if (strtab == 0) { need(strOff, strsz); missing = true; }

  // The version tables: a window from their start to at most the end of their segment.
  let needOff: u64 = u64.MAX_VALUE;
  let needLen: u64 = 0;
  if (verneedVa != u64.MAX_VALUE) {
    needOff = mapVaddr(phdrs, phnum, phentsize, verneedVa, restSlot);
    if (needOff == u64.MAX_VALUE) return fail(R.E_STRTAB_UNMAPPED, dynOff);
    needLen = load<u64>(restSlot) < TABLE_WINDOW ? load<u64>(restSlot) : TABLE_WINDOW;
    if (!inFile(needOff, needLen)) return fail(R.E_TRUNCATED, needOff);
    if (at(needOff, needLen) == 0) { need(needOff, needLen); missing = true; }
  }
  let defOff: u64 = u64.MAX_VALUE;
  let defLen: u64 = 0;
  if (verdefVa != u64.MAX_VALUE) {
    defOff = mapVaddr(phdrs, phnum, phentsize, verdefVa, restSlot);
    if (defOff == u64.MAX_VALUE) return fail(R.E_STRTAB_UNMAPPED, dynOff);
    defLen = load<u64>(restSlot) < TABLE_WINDOW ? load<u64>(restSlot) : TABLE_WINDOW;
    if (!inFile(defOff, defLen)) return fail(R.E_TRUNCATED, defOff);
    if (at(defOff, defLen) == 0) { need(defOff, defLen); missing = true; }
  }
  if (missing) return R.STATUS_NEED;

  // Verneed {u16 version, u16 cnt, u32 file, u32 aux, u32 next} -> Vernaux {u32 hash, u16 flags, u16 other, u32 name, u32 next}
  if (needOff != u64.MAX_VALUE) {
    const base = at(needOff, needLen);
    let pos: u64 = 0;
    for (let i: u64 = 0; i < verneedNum; i++) {
      if (pos + 16 > needLen) return fail(R.E_TOO_LARGE, needOff + pos);
      const vn = base + <usize>pos;
      const cnt = u16v(vn + 2);
      const file = <u64>u32v(vn + 4);
      let aux = pos + <u64>u32v(vn + 8);
      for (let j: u32 = 0; j < cnt; j++) {
        if (aux + 16 > needLen) return fail(R.E_TOO_LARGE, needOff + aux);
        if (count >= MAX_VERSIONS) return fail(R.E_TOO_LARGE, needOff + aux);
        const va = base + <usize>aux;
        const slot = record(0, <i32>u16v(va + 4));
        if (!str(strtab, strsz, file, slot + 8)) return fail(R.E_STRING_OUT_OF_RANGE, needOff + pos + 4);
        if (!str(strtab, strsz, <u64>u32v(va + 8), slot + 16)) return fail(R.E_STRING_OUT_OF_RANGE, needOff + aux + 8);
        const next = <u64>u32v(va + 12);
        if (next == 0) break;
        aux += next;
      }
      const next = <u64>u32v(vn + 12);
      if (next == 0) break;
      pos += next;
    }
  }
  // Verdef {u16 version, u16 flags, u16 ndx, u16 cnt, u32 hash, u32 aux, u32 next} -> Verdaux {u32 name, u32 next}
  if (defOff != u64.MAX_VALUE) {
    const base = at(defOff, defLen);
    let pos: u64 = 0;
    for (let i: u64 = 0; i < verdefNum; i++) {
      if (pos + 20 > defLen) return fail(R.E_TOO_LARGE, defOff + pos);
      const vd = base + <usize>pos;
      const aux = pos + <u64>u32v(vd + 12);
      if (u16v(vd + 6) > 0) {
        if (aux + 8 > defLen) return fail(R.E_TOO_LARGE, defOff + aux);
        if (count >= MAX_VERSIONS) return fail(R.E_TOO_LARGE, defOff + aux);
        const slot = record(1, <i32>u16v(vd + 2));
        if (!str(strtab, strsz, <u64>u32v(base + <usize>aux), slot + 16)) return fail(R.E_STRING_OUT_OF_RANGE, defOff + aux);
      }
      const next = <u64>u32v(vd + 16);
      if (next == 0) break;
      pos += next;
    }
  }
  store<i32>(r + V_COUNT, <i32>count);
  return R.STATUS_OK;
}

/** Number of ranges the last STATUS_NEED asked for. */
export function elfVersionsNeedCount(): i32 {
  return needs;
}
