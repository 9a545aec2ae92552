// An ElfSource over an open file descriptor: `read` returns what is there (fewer bytes at the end).
import { readSync } from 'node:fs';
import type { ElfSource } from '../core/elf.js';

/**
 * Reads `fd` (of `size` bytes) on demand. With `head`, a read at offset 0 that fits reuses that
 * buffer: only for callers that copy the bytes (into wasm memory) before the next read.
 */
export function fdElfSource(fd: number, size: number, head?: Uint8Array): ElfSource {
  return {
    size,
    read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const buffer = head !== undefined && offset === 0 && want <= head.length ? head.subarray(0, want) : new Uint8Array(want);
      let done = 0;
      while (done < buffer.length) {
        const n = readSync(fd, buffer, done, buffer.length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return buffer.subarray(0, done);
    },
  };
}
