// One-shot parsing: bytes (or bytes already written into the wasm input region) -> LdCache.
// Every failure leaves as an LdCacheError with a code and byte offset, wasm traps included.
import { LdCacheError, type LdCacheErrorCode } from './errors.js';
import { acquireInput, writeInput } from './input-region.js';
import {
  H_COUNT, H_ERROR_ENTRY, H_EXT_OFF, H_ERROR_OFFSET, H_ERROR_VALUE, H_FORMAT, H_HWCAP_COUNT, H_NEW_HEADER, HEADER_WORDS, ENTRY_WORDS, HWCAP_WORDS,
  NONE, ParsedLdCache,
} from './ldcache.js';
import { wasmExports, type CoreExports } from './wasm.js';
import { ERR_BAD_ENDIANNESS, ERR_BAD_EXTENSION, ERR_BAD_MAGIC, ERR_EMPTY, ERR_OUT_OF_MEMORY, ERR_STRING_OUT_OF_RANGE, ERR_STRING_UNTERMINATED, ERR_TABLE_TRUNCATED, ERR_TOO_SHORT } from './core-layout.generated.js';

export interface ParseOptions {
  /** Named in error messages. */
  file?: string;
  /**
   * Read compat files the way a 64-bit glibc does: the embedded new header only at the
   * 8-aligned offset (a 4-aligned one, as 32-bit writers may leave, is missed and the old table
   * is read). Default false: both alignments are tried.
   */
  glibc64Reader?: boolean;
}

/** Core parse flag: compat header only at the 8-aligned offset. */
export const PARSE_GLIBC64 = 1;

export function parseFlagsOf(options: ParseOptions): number {
  return options.glibc64Reader ? PARSE_GLIBC64 : 0;
}

/** LdCacheError codes of the core's ERR_* codes (assembly/cache-read.ts); anything else is INTERNAL. */
const CODES = new Map<number, LdCacheErrorCode>([
  [ERR_EMPTY, 'EMPTY'],
  [ERR_TOO_SHORT, 'TOO_SHORT'],
  [ERR_BAD_MAGIC, 'BAD_MAGIC'],
  [ERR_BAD_ENDIANNESS, 'BAD_ENDIANNESS'],
  [ERR_TABLE_TRUNCATED, 'TABLE_TRUNCATED'],
  [ERR_STRING_OUT_OF_RANGE, 'STRING_OUT_OF_RANGE'],
  [ERR_STRING_UNTERMINATED, 'STRING_UNTERMINATED'],
  [ERR_BAD_EXTENSION, 'BAD_EXTENSION'],
  [ERR_OUT_OF_MEMORY, 'OUT_OF_MEMORY'],
]);

/** Calls into the core; a trap (a core bug, never expected) still leaves as an LdCacheError. */
export function callCore<T>(file: string | undefined, call: (core: CoreExports) => T): T {
  const core = wasmExports();
  try {
    return call(core);
  } catch (err) {
    if (err instanceof LdCacheError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    // A RangeError is the engine refusing memory; anything else is a bug in the core.
    const code = err instanceof RangeError ? 'OUT_OF_MEMORY' : 'INTERNAL';
    throw new LdCacheError(code, `wasm core failed: ${reason}`, 0, file);
  }
}

function headerWords(): Uint32Array {
  const core = wasmExports();
  return new Uint32Array(core.memory.buffer, core.resultBase(), HEADER_WORDS);
}

/** The LdCacheError for the core's error `code` (its details are in the result header). */
export function coreError(code: number, file: string | undefined): LdCacheError {
  const header = headerWords();
  const offset = header[H_ERROR_OFFSET];
  const entry = header[H_ERROR_ENTRY];
  const value = header[H_ERROR_VALUE];
  const what = entry === NONE ? '' : `entry ${entry}: `;
  const name = CODES.get(code) ?? 'INTERNAL';
  let message: string;
  switch (name) {
    case 'EMPTY':
      message = 'empty file, not an ld.so.cache';
      break;
    case 'TOO_SHORT':
      message = `file too short: ${offset} bytes, the header needs ${value}`;
      break;
    case 'BAD_MAGIC':
      message = 'not an ld.so.cache file (bad magic)';
      break;
    case 'BAD_ENDIANNESS':
      message = `invalid byte order flag 0x${value.toString(16).padStart(2, '0')} in the cache header`;
      break;
    case 'TABLE_TRUNCATED':
      message = `entry table of ${value} entries runs past the end of the file`;
      break;
    case 'STRING_OUT_OF_RANGE': {
      const field = isKeyField(header, offset) ? 'name' : 'path';
      message = `${what}${field} offset ${value} points past the end of the file`;
      break;
    }
    case 'STRING_UNTERMINATED':
      message = `${what}string has no NUL before the end of the file`;
      break;
    case 'BAD_EXTENSION':
      message = `malformed extension data (${extensionProblem(header, offset, value)})`;
      break;
    case 'OUT_OF_MEMORY':
      message = 'cannot grow wasm memory for the parse result';
      break;
    default:
      message = `wasm core returned unknown error code ${code}`;
  }
  return new LdCacheError(name, message, offset, file);
}

/** Whether the error offset is an entry's key field (else its value field). */
function isKeyField(header: Uint32Array, offset: number): boolean {
  const format = header[H_FORMAT];
  if (format === 0) return (offset - 16) % 12 === 4;
  return (offset - header[H_NEW_HEADER] - 48) % 24 === 4;
}

function extensionProblem(header: Uint32Array, offset: number, value: number): string {
  const directory = header[H_EXT_OFF];
  if (offset === header[H_NEW_HEADER] + 32) return `extension offset ${value} is misaligned or past the end`;
  if (offset === directory) return `bad extension magic 0x${value.toString(16)}`;
  if (offset === directory + 4) return `${value} extension sections do not fit in the file`;
  return `extension section ${Math.floor((offset - directory - 8) / 16)} ends at ${value}, past the end`;
}

/**
 * Parses `length` bytes that the caller has already written at the wasm input address (see
 * `acquireInput`): the zero-copy path. The returned cache views them in place until another
 * parse takes the region (it then copies what it needs out).
 */
export function parseLdCacheInPlace(length: number, file?: string, options: ParseOptions = {}): ParsedLdCache {
  return parseResident(length, file, parseFlagsOf(options), undefined);
}

function parseResident(length: number, file: string | undefined, parseFlags: number, source: Uint8Array | undefined): ParsedLdCache {
  // Take the region (keeps the bytes; tells any other holder to evict) for the cache made below.
  let cache: ParsedLdCache | undefined;
  const holder = { evict: () => cache?.evict() };
  const inputAddress = acquireInput(length, holder);
  const code = callCore(file, (core) => core.parseCache(length, parseFlags));
  if (code !== 0) throw coreError(code, file);
  const core = wasmExports();
  const header = headerWords();
  const tableWords = HEADER_WORDS + header[H_HWCAP_COUNT]! * HWCAP_WORDS + header[H_COUNT]! * ENTRY_WORDS;
  cache = new ParsedLdCache({ memory: core.memory, inputAddress, length, tableAddress: core.resultBase(), tableWords, parseFlags }, file);
  if (source) cache.keepSource(source);
  return cache;
}

/**
 * Parses a whole cache file held in memory. The bytes are copied once, into wasm memory; the
 * cache reads `bytes` afterwards, so do not modify them while the cache is in use.
 */
export function parseLdCache(bytes: Uint8Array, options: ParseOptions = {}): ParsedLdCache {
  callCore(options.file, () => writeInput(bytes));
  return parseResident(bytes.length, options.file, parseFlagsOf(options), bytes);
}
