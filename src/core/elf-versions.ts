// Symbol versions of an ELF file, read by the wasm core (assembly/elf-versions.ts): what it
// needs (`.gnu.version_r`: `libc.so.6` GLIBC_2.34, …) and what it defines (`.gnu.version_d`: a
// libc's GLIBC_2.2.5 … GLIBC_2.36). Like readElfFrom, only the ranges the headers point at are
// read. Browser-safe.
import { LdCacheError } from './errors.js';
import { ElfError, ELF_HEAD_BYTES, type ElfErrorCode, type ElfSource } from './elf.js';
import { acquireInput, memoryView } from './input-region.js';
import { wasmExports } from './wasm.js';

export interface ElfVersionNeed {
  /** The library the version is needed from (`libc.so.6`). */
  file: string;
  /** The version (`GLIBC_2.34`). */
  version: string;
  /** VER_FLG_WEAK (2): a missing weak version is only a warning for the loader. */
  weak: boolean;
}

export interface ElfVersions {
  needed: ElfVersionNeed[];
  /** Versions the file defines, the file's own base name first where present. */
  defined: string[];
}

const CODES: readonly (ElfErrorCode | undefined)[] = [
  undefined, 'NOT_ELF', 'BAD_CLASS', 'BAD_BYTE_ORDER', 'TRUNCATED', 'BAD_PROGRAM_HEADERS', 'BAD_DYNAMIC',
  'STRTAB_UNMAPPED', 'STRING_OUT_OF_RANGE', 'STRING_UNTERMINATED', 'BAD_NOTE', 'TOO_LARGE',
];
const MAX_ROUNDS = 8;
const MAX_TOTAL_BYTES = 64 << 20;
const decoder = new TextDecoder('utf-8');

/** The core's version-reader exports (assembly/elf-versions.ts). */
interface VersionExports {
  elfVersions(): number;
  elfVersionsNeedCount(): number;
}
const versionExports = (): VersionExports => wasmExports() as unknown as VersionExports;

interface Chunk {
  offset: number;
  bytes: Uint8Array;
}

function place(chunks: readonly Chunk[], fileSize: number): void {
  const tableEnd = 16 + chunks.length * 16;
  let total = tableEnd;
  for (const chunk of chunks) total += chunk.bytes.length;
  const base = acquireInput(total);
  const view = new DataView(wasmExports().memory.buffer, base, total);
  view.setUint32(0, chunks.length, true);
  view.setUint32(4, 0, true);
  view.setBigUint64(8, BigInt(fileSize), true);
  let at = tableEnd;
  chunks.forEach((chunk, i) => {
    view.setBigUint64(16 + i * 16, BigInt(chunk.offset), true);
    view.setUint32(16 + i * 16 + 8, chunk.bytes.length, true);
    view.setUint32(16 + i * 16 + 12, at, true);
    memoryView(base + at, chunk.bytes.length).set(chunk.bytes);
    at += chunk.bytes.length;
  });
}

function collect(): ElfVersions {
  const exports = wasmExports();
  const memory = exports.memory.buffer;
  const view = new DataView(memory, exports.resultBase());
  const text = (addr: number, len: number): string => decoder.decode(new Uint8Array(memory, addr, len));
  const result: ElfVersions = { needed: [], defined: [] };
  const count = view.getInt32(144, true);
  for (let i = 0; i < count; i++) {
    const at = 160 + i * 24;
    const kind = view.getInt32(at, true);
    const flags = view.getInt32(at + 4, true);
    const name = text(view.getInt32(at + 16, true), view.getInt32(at + 20, true));
    if (kind === 0) result.needed.push({ file: text(view.getInt32(at + 8, true), view.getInt32(at + 12, true)), version: name, weak: (flags & 2) !== 0 });
    else result.defined.push(name);
  }
  return result;
}

/** Reads an ELF file's version needs and definitions through `source`. */
export function readElfVersionsFrom(source: ElfSource, file?: string): ElfVersions {
  const chunks: Chunk[] = [{ offset: 0, bytes: source.read(0, Math.min(source.size, ELF_HEAD_BYTES)) }];
  let total = chunks[0]!.bytes.length;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    try {
      place(chunks, source.size);
    } catch (err) {
      if (err instanceof LdCacheError) throw new ElfError('OUT_OF_MEMORY', 0, file);
      throw err;
    }
    const exports = wasmExports();
    const status = versionExports().elfVersions();
    if (status === 0) return collect();
    const view = new DataView(exports.memory.buffer, exports.resultBase());
    if (status === 2) throw new ElfError(CODES[view.getInt32(4, true)] ?? 'TRUNCATED', view.getFloat64(8, true), file);
    if (status !== 1) throw new ElfError('OUT_OF_MEMORY', 0, file);
    const count = versionExports().elfVersionsNeedCount();
    for (let i = 0; i < count; i++) {
      const offset = view.getFloat64(16 + i * 16, true);
      const length = view.getFloat64(16 + i * 16 + 8, true);
      total += length;
      if (total > MAX_TOTAL_BYTES) throw new ElfError('TOO_LARGE', offset, file);
      const bytes = source.read(offset, length);
      if (bytes.length < length) throw new ElfError('TRUNCATED', offset + bytes.length, file);
      chunks.push({ offset, bytes });
    }
  }
  throw new ElfError('TOO_LARGE', 0, file, 'ELF headers point at too many separate ranges');
}

export function readElfVersions(bytes: Uint8Array, file?: string): ElfVersions {
  return readElfVersionsFrom({ size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) }, file);
}
