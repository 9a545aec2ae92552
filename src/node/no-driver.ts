// "No driver": one wording, with the reason, for everything that needs the driver's files
// (discover, create, docker-args, cdi, nvidia-docker, the plugin). A version alone (a kernel
// module without its libraries, a leftover file name) is no driver: nothing is built from it.
import type { DriverDiscovery } from './discovery-types.js';
import { HostError } from './errors.js';

/**
 * A HostError with code `ENODRIVER`, `path` the root and `reason` why; its message reads
 * `no NVIDIA driver found in ROOT: REASON` (the sentence every command prints).
 */
export class NoDriverError extends HostError {
  override name = 'NoDriverError';
  constructor(root: string, reason: string) {
    super('ENODRIVER', root, reason);
    this.message = `no NVIDIA driver found in ${root}: ${reason}`;
  }
}

/** Why a discovery holds no driver, or null when it holds one (a version and its libraries). */
export function noDriverReason(d: DriverDiscovery): string | null {
  if (d.driverVersion !== null && d.libraries.length > 0) return null;
  if (d.driverVersion === null) {
    return d.librarySource === 'cache'
      ? 'no /proc/driver/nvidia/version and no NVIDIA driver library in its ld.so.cache'
      : 'no /proc/driver/nvidia/version, no ld.so.cache and no NVIDIA driver library in its library directories';
  }
  const mismatch = d.warnings.find((w) => w.startsWith('Driver/library version mismatch'));
  if (mismatch) return mismatch;
  const from = d.versionSource === 'proc' ? 'the kernel module' : 'the library names';
  const first = d.rejected[0];
  // A reason may already start with its path (a HostError's message): name it once.
  const example = first === undefined ? '' : first.reason.startsWith(`${first.path}: `) ? first.reason : `${first.path}: ${first.reason}`;
  const rejected = first !== undefined ? ` (${d.rejected.length} rejected, e.g. ${example})` : '';
  return `${from} says ${d.driverVersion}, but no library of that version was found${rejected}`;
}

/** The driver's version; throws NoDriverError when the discovery holds no driver. */
export function requireDriver(d: DriverDiscovery): string {
  const reason = noDriverReason(d);
  if (reason !== null || d.driverVersion === null) throw new NoDriverError(d.root, reason ?? 'no driver version');
  return d.driverVersion;
}
