// The two cache magics, compared as byte strings.
import { ERR_BAD_MAGIC, ERR_OK } from './cache-read';
import { fail } from './cache-result';

// `glibc-ld.so.cache1.1` and `ld.so-1.7.0` (neither is NUL-terminated in the file).
const NEW_MAGIC = memory.data<u8>([
  0x67, 0x6c, 0x69, 0x62, 0x63, 0x2d, 0x6c, 0x64, 0x2e, 0x73, 0x6f, 0x2e, 0x63, 0x61, 0x63, 0x68, 0x65, 0x31, 0x2e, 0x31,
]);
const NEW_MAGIC_LENGTH: u32 = 20;
const OLD_MAGIC = memory.data<u8>([0x6c, 0x64, 0x2e, 0x73, 0x6f, 0x2d, 0x31, 0x2e, 0x37, 0x2e, 0x30]);
const OLD_MAGIC_LENGTH: u32 = 11;

/** Length of the common prefix of `magic` and the `length` bytes at `at`. */
function matching(at: usize, length: u32, magic: usize, magicLength: u32): u32 {
  const n = min<u32>(length, magicLength);
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(at + i) != load<u8>(magic + i)) return i;
  }
  return n;
}

/** Whether the `length` bytes at `at` start with the whole new magic. */
export function isNewMagic(at: usize, length: u64): bool {
  return length >= NEW_MAGIC_LENGTH && matching(at, NEW_MAGIC_LENGTH, NEW_MAGIC, NEW_MAGIC_LENGTH) == NEW_MAGIC_LENGTH;
}

export function isOldMagic(at: usize, length: u64): bool {
  return length >= OLD_MAGIC_LENGTH && matching(at, OLD_MAGIC_LENGTH, OLD_MAGIC, OLD_MAGIC_LENGTH) == OLD_MAGIC_LENGTH;
}

/**
 * BAD_MAGIC when the first `length` bytes (possibly a prefix of the file) cannot start either
 * magic; the error offset is the first byte that differs from the closer one.
 */
export function cacheMagicError(at: usize, length: u32): i32 {
  const asNew = matching(at, length, NEW_MAGIC, NEW_MAGIC_LENGTH);
  if (asNew == min<u32>(length, NEW_MAGIC_LENGTH)) return ERR_OK;
  const asOld = matching(at, length, OLD_MAGIC, OLD_MAGIC_LENGTH);
  if (asOld == min<u32>(length, OLD_MAGIC_LENGTH)) return ERR_OK;
  return fail(ERR_BAD_MAGIC, max<u32>(asNew, asOld), 0xffffffff, 0);
}
