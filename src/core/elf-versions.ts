// Symbol versions of an ELF file, read by the wasm core (assembly/elf-versions.ts): what it
// needs (`.gnu.version_r`: `libc.so.6` GLIBC_2.34, …) and what it defines (`.gnu.version_d`: a
// libc's GLIBC_2.2.5 … GLIBC_2.36). Like readElfFrom, only the ranges the headers point at are
// read. Browser-safe.
import { ElfError, runElfCore, type ElfErrorCode, type ElfSource } from './elf.js';
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
const decoder = new TextDecoder('utf-8');

/** The core's version-reader exports (assembly/elf-versions.ts). */
interface VersionExports {
  elfVersions(): number;
  elfVersionsNeedCount(): number;
}
const versionExports = (): VersionExports => wasmExports() as unknown as VersionExports;

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
  return runElfCore(
    source,
    file,
    MAX_ROUNDS,
    () => 'OUT_OF_MEMORY',
    () => {
      const exports = wasmExports();
      const status = versionExports().elfVersions();
      if (status === 0) return { need: false, result: collect() };
      const view = new DataView(exports.memory.buffer, exports.resultBase());
      if (status === 2) throw new ElfError(CODES[view.getInt32(4, true)] ?? 'TRUNCATED', view.getFloat64(8, true), file);
      if (status !== 1) throw new ElfError('OUT_OF_MEMORY', 0, file);
      return { need: true, count: versionExports().elfVersionsNeedCount(), at: 16 };
    },
  );
}

export function readElfVersions(bytes: Uint8Array, file?: string): ElfVersions {
  return readElfVersionsFrom({ size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) }, file);
}
