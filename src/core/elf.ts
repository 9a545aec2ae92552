// Reads an ELF file's identity (class, byte order, machine, ABI), SONAME, NEEDED and GNU ABI
// tag with the wasm core (assembly/elf.ts). Only the parts the headers point at are handed to
// the core: `readElfFrom` asks its source for ranges on demand, so a 50 MB libcuda costs a few
// KiB of reads. Browser-safe: the source is any random-access reader.
import { LdCacheError } from './errors.js';
import { acquireInput, memoryView } from './input-region.js';
import { wasmExports } from './wasm.js';
import { elfArch } from './elf-arch.js';
import * as L from './core-layout.generated.js';

export type ElfErrorCode =
  | 'NOT_ELF'
  | 'BAD_CLASS'
  | 'BAD_BYTE_ORDER'
  | 'TRUNCATED'
  | 'BAD_PROGRAM_HEADERS'
  | 'BAD_DYNAMIC'
  | 'STRTAB_UNMAPPED'
  | 'STRING_OUT_OF_RANGE'
  | 'STRING_UNTERMINATED'
  | 'BAD_NOTE'
  | 'TOO_LARGE'
  | 'OUT_OF_MEMORY'
  | 'READ_FAILED'
  | 'INTERNAL';

/** ElfErrorCode of the core's E_* codes (assembly/elf-layout.ts). */
const CODES = new Map<number, ElfErrorCode>([
  [L.ELF_E_NOT_ELF, 'NOT_ELF'],
  [L.ELF_E_BAD_CLASS, 'BAD_CLASS'],
  [L.ELF_E_BAD_BYTE_ORDER, 'BAD_BYTE_ORDER'],
  [L.ELF_E_TRUNCATED, 'TRUNCATED'],
  [L.ELF_E_BAD_PROGRAM_HEADERS, 'BAD_PROGRAM_HEADERS'],
  [L.ELF_E_BAD_DYNAMIC, 'BAD_DYNAMIC'],
  [L.ELF_E_STRTAB_UNMAPPED, 'STRTAB_UNMAPPED'],
  [L.ELF_E_STRING_OUT_OF_RANGE, 'STRING_OUT_OF_RANGE'],
  [L.ELF_E_STRING_UNTERMINATED, 'STRING_UNTERMINATED'],
  [L.ELF_E_BAD_NOTE, 'BAD_NOTE'],
  [L.ELF_E_TOO_LARGE, 'TOO_LARGE'],
]);

const MESSAGES: Record<ElfErrorCode, string> = {
  NOT_ELF: 'not an ELF file (no \\x7fELF magic)',
  BAD_CLASS: 'invalid ELF class (neither 32- nor 64-bit)',
  BAD_BYTE_ORDER: 'invalid ELF byte order',
  TRUNCATED: 'ELF file truncated: a header points past the end of the file',
  BAD_PROGRAM_HEADERS: 'invalid ELF program header size',
  BAD_DYNAMIC: 'dynamic section has names but no DT_STRTAB',
  STRTAB_UNMAPPED: 'DT_STRTAB address is in no PT_LOAD segment',
  STRING_OUT_OF_RANGE: 'a dynamic string offset is past the end of the string table',
  STRING_UNTERMINATED: 'a dynamic string runs past the end of the string table',
  BAD_NOTE: 'malformed ELF note',
  TOO_LARGE: 'an ELF table is implausibly large',
  OUT_OF_MEMORY: 'cannot hold the ELF headers in wasm memory',
  READ_FAILED: 'cannot read the file',
  INTERNAL: 'the wasm core failed',
};

export class ElfError extends Error {
  override readonly name = 'ElfError';
  readonly code: ElfErrorCode;
  /** Byte offset in the file where the problem was found. */
  readonly offset: number;
  readonly file: string | undefined;

  constructor(code: ElfErrorCode, offset: number, file?: string, message = MESSAGES[code]) {
    super(message);
    this.code = code;
    this.offset = offset;
    this.file = file;
  }

  /** One line: `FILE: message (at byte N)`. */
  describe(file = this.file ?? '<input>'): string {
    return `${file}: ${this.message}${this.code === 'READ_FAILED' || this.code === 'OUT_OF_MEMORY' || this.code === 'INTERNAL' ? '' : ` (at byte ${this.offset})`}`;
  }
}

/** The ElfError for the core's error `code`; a code this host does not know is INTERNAL (a bug, never bad input). */
export function elfCoreError(code: number, offset: number, file?: string): ElfError {
  const known = CODES.get(code);
  if (known === undefined) return new ElfError('INTERNAL', 0, file, `wasm core returned unknown ELF error code ${code}`);
  return new ElfError(known, offset, file);
}

export interface ElfAbiTag {
  /** 0 Linux, 1 Hurd, 2 Solaris, 3 FreeBSD, … */
  os: number;
  /** Kernel ABI version, e.g. [2, 3, 99]. */
  version: [number, number, number];
}

export interface ElfInfo {
  bits: 32 | 64;
  byteOrder: 'little' | 'big';
  /** e_ident[EI_OSABI] and [EI_ABIVERSION]. */
  osAbi: number;
  abiVersion: number;
  /** e_type (3 = ET_DYN), e_machine (62 = x86-64), e_flags. */
  type: number;
  machine: number;
  flags: number;
  /** ABI name with the cache's naming: `x86-64`, `i386`, `x32`, `aarch64`, `armhf`, `armel`, … */
  arch: string;
  /** Whether the file has a PT_DYNAMIC segment. */
  dynamic: boolean;
  soname: string | null;
  needed: string[];
  abiTag: ElfAbiTag | null;
}

/** Random access to a file's bytes: `read` returns what is there (fewer bytes at the end). */
export interface ElfSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** The first read: big enough for the headers, the notes and the dynamic strings of most libraries. */
export const ELF_HEAD_BYTES = 64 * 1024;
const MAX_ROUNDS = 16;
const MAX_TOTAL_BYTES = 64 << 20;

// Result table of assembly/elf-layout.ts (byte offsets, generated from it).
const R = {
  errorCode: L.ELF_ERROR_CODE, errorOffset: L.ELF_ERROR_OFFSET, cls: L.ELF_CLASS, data: L.ELF_DATA, osAbi: L.ELF_OSABI, type: L.ELF_TYPE,
  machine: L.ELF_MACHINE, flags: L.ELF_FLAGS, soname: L.ELF_SONAME_ADDR, neededCount: L.ELF_NEEDED_COUNT, noteFound: L.ELF_NOTE_FOUND,
  note: L.ELF_NOTE_OS, noteMajor: L.ELF_NOTE_MAJOR, noteMinor: L.ELF_NOTE_MINOR, notePatch: L.ELF_NOTE_PATCH, dynamic: L.ELF_HAS_DYNAMIC,
  abiVersion: L.ELF_ABIVERSION, needs: L.ELF_NEEDS, neededList: L.ELF_NEEDED_LIST,
} as const;

const decoder = new TextDecoder('utf-8');

function decodeAt(memory: ArrayBuffer, address: number, length: number): string {
  return decoder.decode(new Uint8Array(memory, address, length));
}

function collect(): Omit<ElfInfo, 'arch'> {
  const exports = wasmExports();
  const resultBase = exports.resultBase();
  const memory = exports.memory.buffer;
  const view = new DataView(memory, resultBase);
  const i32 = (offset: number): number => view.getInt32(offset, true);
  const sonameAddress = i32(R.soname);
  const needed: string[] = [];
  for (let i = 0; i < i32(R.neededCount); i++) {
    needed.push(decodeAt(memory, i32(R.neededList + i * 8), i32(R.neededList + i * 8 + 4)));
  }
  const abiTag: ElfAbiTag | null =
    i32(R.noteFound) === 1
      ? { os: view.getUint32(R.note, true), version: [view.getUint32(R.noteMajor, true), view.getUint32(R.noteMinor, true), view.getUint32(R.notePatch, true)] }
      : null;
  return {
    bits: i32(R.cls) === 2 ? 64 : 32,
    byteOrder: i32(R.data) === 2 ? 'big' : 'little',
    osAbi: i32(R.osAbi),
    abiVersion: i32(R.abiVersion),
    type: i32(R.type),
    machine: i32(R.machine),
    flags: view.getUint32(R.flags, true),
    dynamic: i32(R.dynamic) === 1,
    soname: sonameAddress === 0 ? null : decodeAt(memory, sonameAddress, i32(R.soname + 4)),
    needed,
    abiTag,
  };
}

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

/** One pass of a wasm ELF reader: its result, or `count` (offset, length) f64 pairs at `at` in the result table it needs next. */
export type ElfCoreStep<T> = { need: false; result: T } | { need: true; count: number; at: number };

/**
 * Drives a wasm ELF reader that asks for ranges on demand (elfParse, elfVersions): places the
 * ranges read so far in the input region, runs `step`, and reads what it asks for next, at most
 * `rounds` times and 64 MiB in all. `placeFailed` names the error when the input region cannot be had.
 */
export function runElfCore<T>(source: ElfSource, file: string | undefined, rounds: number, placeFailed: (err: LdCacheError) => ElfErrorCode, step: () => ElfCoreStep<T>): T {
  const chunks: Chunk[] = [{ offset: 0, bytes: source.read(0, Math.min(source.size, ELF_HEAD_BYTES)) }];
  let total = chunks[0]!.bytes.length;
  for (let round = 0; round < rounds; round++) {
    try {
      place(chunks, source.size);
    } catch (err) {
      if (err instanceof LdCacheError) throw new ElfError(placeFailed(err), 0, file);
      throw err;
    }
    const outcome = step();
    if (!outcome.need) return outcome.result;
    const exports = wasmExports();
    const view = new DataView(exports.memory.buffer, exports.resultBase());
    for (let i = 0; i < outcome.count; i++) {
      const offset = view.getFloat64(outcome.at + i * 16, true);
      const length = view.getFloat64(outcome.at + i * 16 + 8, true);
      total += length;
      if (total > MAX_TOTAL_BYTES) throw new ElfError('TOO_LARGE', offset, file);
      const bytes = source.read(offset, length);
      // The file changed under us (or lies about its size): the range is not there.
      if (bytes.length < length) throw new ElfError('TRUNCATED', offset + bytes.length, file);
      chunks.push({ offset, bytes });
    }
  }
  throw new ElfError('TOO_LARGE', 0, file, 'ELF headers point at too many separate ranges');
}

/** Reads an ELF file through `source`, fetching only the ranges its headers point at. */
export function readElfFrom(source: ElfSource, file?: string): ElfInfo {
  return runElfCore(
    source,
    file,
    MAX_ROUNDS,
    (err) => (err.code === 'OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'INTERNAL'),
    () => {
      const exports = wasmExports();
      const status = exports.elfParse();
      if (status === L.ELF_STATUS_OK) {
        const info = collect();
        return { need: false, result: { ...info, arch: elfArch(info.machine, info.bits, info.flags) } };
      }
      const view = new DataView(exports.memory.buffer, exports.resultBase());
      if (status === L.ELF_STATUS_ERROR) {
        throw elfCoreError(view.getInt32(R.errorCode, true), view.getFloat64(R.errorOffset, true), file);
      }
      if (status === L.ELF_STATUS_NO_MEMORY) throw new ElfError('OUT_OF_MEMORY', 0, file);
      if (status !== L.ELF_STATUS_NEED) throw new ElfError('INTERNAL', 0, file, `wasm core returned unknown ELF status ${status}`);
      return { need: true, count: exports.elfNeedCount(), at: R.needs };
    },
  );
}

/** Reads an ELF file held in memory. */
export function readElf(bytes: Uint8Array, file?: string): ElfInfo {
  return readElfFrom({ size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) }, file);
}
