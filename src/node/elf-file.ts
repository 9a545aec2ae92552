// Reads the ELF headers of a file inside a root: opened safely (rootfs), then only the ranges
// the headers point at are read (the first 64 KiB, plus dynamic/string/note ranges on demand).
import { closeSync, readSync } from 'node:fs';
import { ELF_HEAD_BYTES, readElfFrom, type ElfInfo } from '../core/elf.js';
import type { RootFs } from './rootfs.js';

export interface ElfFile {
  /** The real path inside the root. */
  path: string;
  info: ElfInfo;
}

const head = new Uint8Array(ELF_HEAD_BYTES);

/** Throws RootFsError (cannot open) or ElfError (not a valid ELF file). */
export function readElfInRoot(fs: RootFs, path: string): ElfFile {
  const { fd, resolved } = fs.open(path);
  try {
    const size = resolved.stats.size;
    const info = readElfFrom(
      {
        size,
        read(offset, length) {
          const want = Math.max(0, Math.min(length, size - offset));
          // The head read (the most common, and the largest) reuses one buffer: readElfFrom
          // copies it into wasm memory before this function returns.
          const buffer = offset === 0 && want <= head.length ? head.subarray(0, want) : new Uint8Array(want);
          let done = 0;
          while (done < buffer.length) {
            const n = readSync(fd, buffer, done, buffer.length - done, offset + done);
            if (n === 0) break;
            done += n;
          }
          return buffer.subarray(0, done);
        },
      },
      resolved.path,
    );
    return { path: resolved.path, info };
  } finally {
    closeSync(fd);
  }
}
