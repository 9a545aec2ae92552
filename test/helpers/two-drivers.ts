// A root holding two NVIDIA drivers' libraries, 535 (nvidia/current) and a leftover 470
// (nvidia/tesla-470), gcc-built, with the cache written by the real ldconfig from an ld.so.conf
// that lists either directory first: the two orders in which the same files reach the cache.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildSharedObject, writeCacheWithLdconfig } from './so-builder.js';

export const DRIVER = '535.261.03';
export const LEFTOVER = '470.256.02';
export const CURRENT_DIR = '/usr/lib/x86_64-linux-gnu/nvidia/current';
export const LEFTOVER_DIR = '/usr/lib/x86_64-linux-gnu/nvidia/tesla-470';

export type Order = 'leftover-first' | 'driver-first';

/** Builds the root under `root`; returns the host path of its /etc/ld.so.cache. */
export function buildTwoDriverRoot(root: string, order: Order): string {
  for (const [dir, version] of [[CURRENT_DIR, DRIVER], [LEFTOVER_DIR, LEFTOVER]] as const) {
    buildSharedObject({ dir: join(root, dir), file: `libcuda.so.${version}`, soname: 'libcuda.so.1' });
    buildSharedObject({ dir: join(root, dir), file: `libnvidia-ml.so.${version}`, soname: 'libnvidia-ml.so.1' });
    buildSharedObject({ dir: join(root, dir), file: `libnvidia-glcore.so.${version}`, soname: `libnvidia-glcore.so.${version}` });
    // The soname links, as the driver's packages install them (ldconfig -X makes none).
    for (const stem of ['libcuda', 'libnvidia-ml']) symlinkSync(`${stem}.so.${version}`, join(root, dir, `${stem}.so.1`));
  }
  const dirs = order === 'leftover-first' ? [LEFTOVER_DIR, CURRENT_DIR] : [CURRENT_DIR, LEFTOVER_DIR];
  return writeCacheWithLdconfig({ root, dirs });
}
