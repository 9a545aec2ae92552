// Symbol versions of a file inside a root (opened safely through RootFs; only the ranges the
// headers point at are read).
import { closeSync, readSync } from 'node:fs';
import { readElfVersionsFrom, type ElfVersions } from '../core/elf-versions.js';
import type { RootFs } from './rootfs.js';

/** Throws RootFsError (cannot open) or ElfError (not a valid ELF file). */
export function readElfVersionsInRoot(fs: RootFs, path: string): ElfVersions {
  const { fd, resolved } = fs.open(path);
  try {
    const size = resolved.stats.size;
    return readElfVersionsFrom(
      {
        size,
        read(offset, length) {
          const buffer = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
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
  } finally {
    closeSync(fd);
  }
}
