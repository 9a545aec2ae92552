// The one error type that leaves the parser. Browser-safe.

export type LdCacheErrorCode =
  | 'EMPTY' // zero-length input
  | 'TOO_SHORT' // shorter than the header it starts
  | 'BAD_MAGIC' // neither `ld.so-1.7.0` nor `glibc-ld.so.cache1.1`
  | 'BAD_ENDIANNESS' // the new header's flags byte says "invalid" (1); no fitting byte order is TABLE_TRUNCATED
  | 'TABLE_TRUNCATED' // the entry table runs past the end of the input
  | 'STRING_OUT_OF_RANGE' // a key, value or hwcaps-name offset points past the end
  | 'STRING_UNTERMINATED' // a string has no NUL before the end of the input
  | 'BAD_EXTENSION' // the extension directory fails glibc's checks
  | 'OUT_OF_MEMORY' // wasm memory could not grow to hold the input and results
  | 'INTERNAL' // the wasm core itself failed (a bug, never bad input)
  | 'READ_FAILED' // the file could not be read (Node host only)
  | 'TOO_LARGE' // the file is larger than any real cache (Node host only: MAX_CACHE_BYTES)
  | 'NOT_INITIALIZED'; // async init() is needed first (browsers)

export class LdCacheError extends Error {
  override readonly name = 'LdCacheError';
  /** Machine-readable reason. */
  readonly code: LdCacheErrorCode;
  /** Byte offset in the input where the problem was found (0 where none applies). */
  readonly offset: number;
  /** The file the bytes came from, where known. */
  readonly file: string | undefined;

  constructor(code: LdCacheErrorCode, message: string, offset = 0, file?: string) {
    super(message);
    this.code = code;
    this.offset = offset;
    this.file = file;
  }

  /** One line for a CLI: `FILE: message (at byte N)`. */
  describe(file = this.file ?? '<input>'): string {
    return `${file}: ${this.message}${this.code === 'READ_FAILED' || this.code === 'TOO_LARGE' || this.code === 'NOT_INITIALIZED' ? '' : ` (at byte ${this.offset})`}`;
  }

  withFile(file: string): LdCacheError {
    return new LdCacheError(this.code, this.message, this.offset, file);
  }
}
