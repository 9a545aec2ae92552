// CDI specs from the driver discovery of a root: what Docker 25+, Podman, containerd and CRI-O
// take instead of a volume plugin.
import type { CdiSpec } from '../core/cdi-types.js';
import { toYaml } from '../core/cdi-yaml.js';
import { defaultLinkerDir } from './cdi-linker-dirs.js';
import { assertValidCdiSpec, buildCdiSpec, DEFAULT_CDI_KIND, type BuiltCdiSpec } from './cdi-build.js';
import { discoverDriver } from './discover.js';
import type { DriverDiscovery } from './discovery-types.js';
import { RootFs } from './rootfs.js';

export type CdiFormat = 'json' | 'yaml';

export interface GenerateCdiOptions {
  /** The driver root (default `/`). */
  root?: string;
  /** `vendor/class` (default nvidia.com/gpu). */
  kind?: string;
  /** Declare this cdiVersion; by default the lowest that covers the content (at most 0.5.0). */
  cdiVersion?: string;
  /** Where the engine sees the root, when not at `root` (e.g. discover /host, write paths for /). */
  hostRoot?: string;
  /** A discovery already made for `root`, to skip discovering again. */
  discovery?: DriverDiscovery;
}

export interface GeneratedCdiSpec extends BuiltCdiSpec {
  discovery: DriverDiscovery;
}

/** Discovers the driver under `root` and builds a validated CDI spec from it. */
export async function generateCdiSpec(options: GenerateCdiOptions = {}): Promise<GeneratedCdiSpec> {
  const root = options.root ?? '/';
  const discovery = options.discovery ?? discoverDriver({ root });
  const fs = new RootFs(discovery.root);
  const built = buildCdiSpec(discovery, {
    kind: options.kind ?? DEFAULT_CDI_KIND,
    cdiVersion: options.cdiVersion,
    hostRoot: options.hostRoot,
    // Resolved as chroot would: /lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu on merged /usr.
    resolveDir: (dir) => fs.tryResolve(dir)?.path ?? dir,
    defaultLinkerDir: (arch, bits) => defaultLinkerDir(fs, arch, bits),
  });
  // Never hand out a spec an engine would reject.
  assertValidCdiSpec(built.spec);
  return { ...built, warnings: [...discovery.warnings, ...built.warnings], discovery };
}

/** The spec as file text: JSON (2-space indent) or YAML. */
export function formatCdiSpec(spec: CdiSpec, format: CdiFormat = 'json'): string {
  return format === 'yaml' ? toYaml(spec) : `${JSON.stringify(spec, null, 2)}\n`;
}

export { buildCdiSpec, assertValidCdiSpec, CdiSpecError, DEFAULT_CDI_KIND } from './cdi-build.js';
export { validateCdiSpec, requiredCdiVersion } from '../core/cdi-validate.js';
export { writeSpecFile, writeSpecFileIfChanged } from './cdi-write.js';
export { DEFAULT_CDI_SPEC_DIRS, listCdiDevices, readCdiSpecFile, parseCdiSpecText, CdiReadError, type ListedCdiDevices } from './cdi-read.js';
