// `nvidia-volume check --image`: the host's (or a root's) driver as discovery finds it, the two
// ways this project injects it (the CDI spec it writes; the v1 volume at /usr/local/nvidia, both
// built by the core: src/core/driver-injection.ts, which the inspector shares) and the core's
// prediction of what the image's linker loads with each.
import { checkImageWithDriver } from '../core/driver-injection.js';
import type { LoadedImage } from '../core/image-types.js';
import type { CheckReport } from '../core/image-check.js';
import type { LegacyX86 } from '../core/abi-rules.js';
import type { DriverDiscovery } from './discovery-types.js';
import { hostIsaLevel, hostLegacyX86 } from './host-cpu.js';
import { addLinkFacts } from './library-link-facts.js';

export { VOLUME_MOUNT, cdiInjection, volumeInjection } from '../core/driver-injection.js';

export interface CheckOptions {
  injections?: ('cdi' | 'volume')[];
  isaLevel?: number;
  /** glibc < 2.37's x86-64 platform and hwcaps (default: this machine's). */
  cpu?: LegacyX86;
  /** Run-time `KEY=VALUE` entries (`docker run -e`). */
  runEnv?: string[];
}

export function checkLoadedImage(image: LoadedImage, discovery: DriverDiscovery, options: CheckOptions = {}): CheckReport {
  // A hand-made discovery lacks what discoverDriver records for the check: read it from the root.
  const libraries = discovery.libraries.map((l) => ({ ...l }));
  if (libraries.some((l) => l.linkerDir === undefined || l.glibcNeeds === undefined)) addLinkFacts(discovery.root, libraries);
  return checkImageWithDriver(image, { ...discovery, libraries }, {
    injections: options.injections,
    isaLevel: options.isaLevel ?? hostIsaLevel(),
    cpu: options.cpu ?? hostLegacyX86(),
    runEnv: options.runEnv,
  });
}
