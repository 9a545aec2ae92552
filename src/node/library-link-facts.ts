// What the image check (CLI and inspector) needs of each driver library beyond what selection
// reads: where the root's linker finds it (the directory CDI mounts its soname in, by the core's
// rule) and the GLIBC_x.y versions it needs (its .gnu.version_r, read by the wasm reader). Set on
// the discovery, so that `nvidia-volume discover --json` carries them to the inspector.
import { linkerDirs } from '../core/driver-injection.js';
import { ElfError } from '../core/elf.js';
import { defaultLinkerDir } from './cdi-linker-dirs.js';
import type { DriverLibrary } from './discovery-types.js';
import { readElfVersionsInRoot } from './elf-versions-file.js';
import { RootFs, RootFsError } from './rootfs.js';

/** Libraries of glibc whose versions (`GLIBC_2.34`) say which glibc a file needs. */
const GLIBC_FILES = /^(libc\.so|libm\.so|libpthread\.so|libdl\.so|librt\.so|ld-linux)/;

/** The GLIBC_x.y versions a file needs, or null when its version sections cannot be read. */
export function glibcNeedsOf(fs: RootFs, path: string): string[] | null {
  try {
    const needs = readElfVersionsInRoot(fs, path).needed.filter((n) => GLIBC_FILES.test(n.file) && n.version.startsWith('GLIBC_')).map((n) => n.version);
    return [...new Set(needs)];
  } catch (err) {
    if (err instanceof ElfError || err instanceof RootFsError) return null;
    throw err;
  }
}

/** Sets `linkerDir` and `glibcNeeds` on each library (a fresh view of the root: discovery's warnings stay as they are). */
export function addLinkFacts(root: string, libraries: DriverLibrary[]): void {
  const fs = new RootFs(root);
  const dirs = linkerDirs(libraries, (dir) => fs.tryResolve(dir)?.path ?? dir, (arch, bits) => defaultLinkerDir(fs, arch, bits));
  libraries.forEach((lib, i) => {
    lib.linkerDir = dirs[i] ?? null;
    lib.glibcNeeds = glibcNeedsOf(fs, lib.path);
  });
}
