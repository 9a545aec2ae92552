// Loads the wasm core once and hands its exports to the readers (cache, ELF). Browser-safe:
// the release binary is inlined (base64) by the build, so no fetch or fs is needed.
import { LdCacheError } from './errors.js';
import { wasmBase64 } from './wasm-binary.generated.js';

/** The core's exports (assembly/index.ts): numbers in, numbers out, plus the memory they address. */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  /** Room for `size` input bytes; returns their address, 0 when memory cannot grow. */
  reserveInput(size: number): number;
  getInputLength(): number;
  /** Where result tables start (after the input). */
  resultBase(): number;
  ensureMemory(end: number): number;
  /** Checks the first `length` input bytes against both magics: 0 or an ERR_* code. */
  probeCache(length: number): number;
  /** Parses the `length` input bytes (flags: PARSE_GLIBC64): 0 or an ERR_* code. */
  parseCache(length: number, flags: number): number;
  /** Reads the ELF ranges placed in the input region: an ELF_STATUS_* value. */
  elfParse(): number;
  /** How many ranges the last ELF_STATUS_NEED asks for. */
  elfNeedCount(): number;
  /** The first free byte after the last parse's result table, for the formatter's tables and output. */
  formatAreaBase(): number;
  /** Grows memory so that [0, end) is addressable: 1, or 0 when it cannot. */
  reserveFormatArea(end: number): number;
  /** Formats `ldconfig -p` lines of list positions [from, to) into [out, out + capacity): returns the position reached. */
  formatLines(texts: number, list: number, from: number, to: number, out: number, capacity: number, flags: number): number;
  /** JSON lines of list positions [from, to) (JSON_DOCUMENT: commas between objects up to `total`). */
  formatJsonLines(texts: number, list: number, from: number, to: number, total: number, out: number, capacity: number, flags: number): number;
  /** Bytes written by the last formatLines/formatJsonLines call. */
  formattedLength(): number;
}

let binary: Uint8Array | undefined;
let compiled: WebAssembly.Module | undefined;
let instance: CoreExports | undefined;

function decodeBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function coreBinary(): Uint8Array {
  return (binary ??= decodeBase64(wasmBase64));
}

function instantiate(module: WebAssembly.Module): CoreExports {
  const imports = {
    env: {
      abort(): never {
        // Only reachable in the debug build's assertions: a bug in the core, never bad input.
        throw new Error('ldcache wasm core aborted');
      },
    },
  };
  return new WebAssembly.Instance(module, imports).exports as unknown as CoreExports;
}

/** Compiles the core asynchronously: needed once in browsers before the first parse. Harmless in Node. */
export async function init(): Promise<void> {
  if (instance) return;
  compiled ??= await WebAssembly.compile(coreBinary() as BufferSource);
  instance = instantiate(compiled);
}

/** The core's exports, compiled synchronously on first use where the platform allows it (Node, workers). */
export function wasmExports(): CoreExports {
  if (instance) return instance;
  try {
    compiled ??= new WebAssembly.Module(coreBinary() as BufferSource);
  } catch (err) {
    throw new LdCacheError('NOT_INITIALIZED', `the wasm core needs \`await init()\` first here (${(err as Error).message})`);
  }
  return (instance = instantiate(compiled));
}

/** Replaces the core with another build of it (the tests run the debug build through this). */
export function useWasmBinary(bytes: Uint8Array): void {
  binary = bytes;
  compiled = undefined;
  instance = undefined;
}
