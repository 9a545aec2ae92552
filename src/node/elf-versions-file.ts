// Symbol versions of a file inside a root (opened safely through RootFs; only the ranges the
// headers point at are read).
import { closeSync } from 'node:fs';
import { readElfVersionsFrom, type ElfVersions } from '../core/elf-versions.js';
import { fdElfSource } from './elf-fd-source.js';
import type { RootFs } from './rootfs.js';

/** Throws RootFsError (cannot open) or ElfError (not a valid ELF file). */
export function readElfVersionsInRoot(fs: RootFs, path: string): ElfVersions {
  const { fd, resolved } = fs.open(path);
  try {
    return readElfVersionsFrom(fdElfSource(fd, resolved.stats.size), resolved.path);
  } finally {
    closeSync(fd);
  }
}
