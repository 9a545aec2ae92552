// Reads the ELF headers of a file inside a root: opened safely (rootfs), then only the ranges
// the headers point at are read (the first 64 KiB, plus dynamic/string/note ranges on demand).
import { closeSync } from 'node:fs';
import { ELF_HEAD_BYTES, readElfFrom, type ElfInfo } from '../core/elf.js';
import { fdElfSource } from './elf-fd-source.js';
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
    // The head read (the most common, and the largest) reuses one buffer: readElfFrom copies it
    // into wasm memory before this function returns.
    const info = readElfFrom(fdElfSource(fd, resolved.stats.size, head), resolved.path);
    return { path: resolved.path, info };
  } finally {
    closeSync(fd);
  }
}
