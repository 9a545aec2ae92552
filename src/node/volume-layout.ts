// What a driver volume holds, computed from a discovery without touching the disk:
// `bin/` (programs), `lib64/` (64-bit libraries), `lib/` (32-bit libraries), plus the soname
// links the dynamic linker and build tools look for. nvidia-docker v1's layout, with duplicate
// names resolved instead of failing the whole volume (its issue #186). The plan itself is the
// core's (src/core/volume-plan.ts), shared with the image check.
import { planVolumeLayout, type VolumeLayout } from '../core/volume-plan.js';
import type { DriverDiscovery } from './discovery-types.js';
import { requireDriver } from './no-driver.js';

export { isDriverVersion, VERSION_PATTERN, type VolumeFile, type VolumeLayout, type VolumeLink } from '../core/volume-plan.js';

/** The volume of a discovery's driver (throws NoDriverError when it holds none). */
export function planVolume(discovery: DriverDiscovery): VolumeLayout {
  return planVolumeLayout(discovery, requireDriver(discovery));
}
