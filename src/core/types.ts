// The cache model shared by every consumer (CLI, inspector, discovery). Browser-safe: no Node imports.

/** Cache layouts: `old` = `ld.so-1.7.0`, `new` = `glibc-ld.so.cache1.1`, `compat` = old table + embedded new one. */
export type CacheFormat = 'old' | 'new' | 'compat';
export type ByteOrder = 'little' | 'big';

/** One cache entry. Offsets are file offsets into the parsed bytes; strings are decoded on first access. */
export interface LdCacheEntry {
  /** Position in file order (what `ldconfig -p` prints in). */
  readonly index: number;
  /** The raw signed 32-bit `flags` field. */
  readonly flags: number;
  /** `flags & 0xff`: 0 libc4, 1 ELF, 2 libc5, 3 libc6. */
  readonly type: number;
  /** `flags & 0xff00`: the ABI ("required") value, e.g. 0x0300 for x86-64. */
  readonly required: number;
  /** ABI name derived from the flags, e.g. `x86-64`, `i386`, `x32`, `aarch64`, `armhf`, `s390x`. */
  readonly arch: string;
  /** Pointer width of the ABI (x32 and MIPS n32 are 32), or `null` where the flags do not tell. */
  readonly bits: 32 | 64 | null;
  /** NT_GNU_ABI_TAG as stored by glibc <= 2.35 (`os << 24 | major << 16 | minor << 8 | patch`); 0 if none. */
  readonly osVersion: number;
  /** The raw 64-bit hwcap field (0 for old-format entries). */
  readonly hwcap: bigint;
  /** The glibc-hwcaps subdirectory (`x86-64-v3`) for an extension entry whose name resolves. */
  readonly hwcapName: string | undefined;
  /** Whether hwcap marks a glibc-hwcaps extension entry (bit 62 set, bits 42-61 and 63 clear). */
  readonly isHwcapsEntry: boolean;
  /** The ISA level of an extension entry (x86: 1 = v2, 2 = v3, 3 = v4), else 0. */
  readonly isaLevel: number;
  /** Soname (the cache key), decoded as UTF-8 with replacement characters. */
  readonly name: string;
  /** Path (the cache value), decoded as UTF-8 with replacement characters. */
  readonly path: string;
  /** The exact bytes of the name and path (no copy: views into the parsed bytes). */
  readonly nameBytes: Uint8Array;
  readonly pathBytes: Uint8Array;
  readonly nameOffset: number;
  readonly nameLength: number;
  readonly pathOffset: number;
  readonly pathLength: number;
}

export interface LdCache extends Iterable<LdCacheEntry> {
  readonly format: CacheFormat;
  readonly byteOrder: ByteOrder;
  /** Entries in file order (of the table `ldconfig -p` prints: the new one where present). */
  readonly entries: readonly LdCacheEntry[];
  /** Number of entries, as printed in `ldconfig -p`'s header line. */
  readonly count: number;
  /** The extension's generator string (`ldconfig (Debian GLIBC 2.36-9) stable release version 2.36`), if any. */
  readonly generator: string | undefined;
  /** glibc-hwcaps subdirectory names of the extension, in file order. */
  readonly hwcapDirs: readonly string[];
  /** The bytes that were parsed. */
  readonly bytes: Uint8Array;
}
