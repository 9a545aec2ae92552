// One-shot parsing: bytes (or bytes already written into the wasm input region) -> LdCache.
// Every failure leaves as an LdCacheError with a code and byte offset, wasm traps included.
import { LdCacheError, type LdCacheErrorCode } from './errors.js';
import { acquireInput, writeInput } from './input-region.js';
import {
  H_COUNT, H_ERROR_ENTRY, H_EXT_OFF, H_ERROR_OFFSET, H_ERROR_VALUE, H_FORMAT, H_HWCAP_COUNT, H_NEW_HEADER, HEADER_WORDS, ENTRY_WORDS, HWCAP_WORDS,
  NONE, ParsedLdCache, type Reparse, type TableLocation,
} from './ldcache.js';
import { wasmExports } from './wasm.js';

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

// Codes returned by the core (assembly/cache-read.ts), in order.
const CODES: readonly LdCacheErrorCode[] = [
  'EMPTY', // placeholder for 0, never used
  'EMPTY',
  'TOO_SHORT',
  'BAD_MAGIC',
  'BAD_ENDIANNESS',
  'TABLE_TRUNCATED',
  'STRING_OUT_OF_RANGE',
  'STRING_UNTERMINATED',
  'BAD_EXTENSION',
  'OUT_OF_MEMORY',
];

interface CoreCache {
  parseCache(length: number, flags: number): number;
  probeCache(length: number): number;
  resultBase(): number;
}

/** Calls into the core; a trap (a core bug, never expected) still leaves as an LdCacheError. */
export function callCore<T>(file: string | undefined, call: (core: CoreCache) => T): T {
  const core = wasmExports() as unknown as CoreCache;
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
  const core = wasmExports() as unknown as CoreCache;
  return new Uint32Array(wasmExports().memory.buffer, core.resultBase(), HEADER_WORDS);
}

/** The LdCacheError for the core's error `code` (its details are in the result header). */
export function coreError(code: number, file: string | undefined): LdCacheError {
  const header = headerWords();
  const offset = header[H_ERROR_OFFSET];
  const entry = header[H_ERROR_ENTRY];
  const value = header[H_ERROR_VALUE];
  const what = entry === NONE ? '' : `entry ${entry}: `;
  const name = CODES[code] ?? 'OUT_OF_MEMORY';
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
    default:
      message = 'cannot grow wasm memory for the parse result';
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

/** Runs the core on the `length` bytes in the input region, which it hands to `cache`. */
function parseResident(cache: ParsedLdCache, length: number, file: string | undefined, parseFlags: number): TableLocation {
  // Re-register the region to the cache (keeps the bytes; tells any other holder to evict).
  const inputAddress = acquireInput(length, cache);
  const code = callCore(file, (core) => core.parseCache(length, parseFlags));
  if (code !== 0) throw coreError(code, file);
  const core = wasmExports() as unknown as CoreCache;
  const header = headerWords();
  const tableWords = HEADER_WORDS + header[H_HWCAP_COUNT] * HWCAP_WORDS + header[H_COUNT] * ENTRY_WORDS;
  return { memory: wasmExports().memory, inputAddress, length, tableAddress: core.resultBase(), tableWords, parseFlags };
}

/** Brings an evicted cache back into wasm memory (the same bytes parse the same way). */
const reparse: Reparse = (cache, bytes) => {
  callCore(cache.file, () => writeInput(bytes));
  const location = parseResident(cache, bytes.length, cache.file, cache.parseFlags);
  cache.attach(location, reparse);
  return location;
};

/**
 * Parses `length` bytes that the caller has already written at the wasm input address (see
 * `acquireInput`): the zero-copy path. The returned cache views them in place.
 */
export function parseLdCacheInPlace(length: number, file?: string, options: ParseOptions = {}): ParsedLdCache {
  const cache = new ParsedLdCache(file);
  cache.attach(parseResident(cache, length, file, parseFlagsOf(options)), reparse);
  return cache;
}

/**
 * Parses a whole cache file held in memory. The bytes are copied once, into wasm memory; the
 * cache may read `bytes` again later (when another parse took the wasm region), so do not
 * modify them while the cache is in use.
 */
export function parseLdCache(bytes: Uint8Array, options: ParseOptions = {}): ParsedLdCache {
  callCore(options.file, () => writeInput(bytes));
  const cache = parseLdCacheInPlace(bytes.length, options.file, options);
  cache.keepSource(bytes);
  return cache;
}
