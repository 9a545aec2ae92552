// GSP firmware of the driver version: ROOT/lib/firmware/nvidia/<version>/* and
// ROOT/usr/lib/firmware/…, each resolved inside the root, deduplicated by real file.
import type { FirmwareFile } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

export const FIRMWARE_DIRS = ['/lib/firmware', '/usr/lib/firmware', '/lib/firmware/updates', '/usr/lib/firmware/updates'];

export function readFirmware(fs: RootFs, version: string): FirmwareFile[] {
  const seen = new Set<string>();
  const files: FirmwareFile[] = [];
  for (const base of FIRMWARE_DIRS) {
    const { dir, names } = fs.readdir(`${base}/nvidia/${version}`);
    for (const name of names) {
      const found = fs.tryResolve(`${dir}/${name}`);
      if (!found || !found.stats.isFile() || seen.has(found.path)) continue;
      seen.add(found.path);
      files.push({ path: found.path });
    }
  }
  return files;
}
