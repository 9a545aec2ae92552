// GPUs from /proc/driver/nvidia/gpus/<bus id>/information (spec section 4): lines `Key:`,
// spaces and tabs, then the value.
import type { GpuInfo } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

export const PROC_GPUS_DIR = '/proc/driver/nvidia/gpus';

/** Key/value pairs of an `information` file. */
export function parseGpuInformation(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return fields;
}

/** The GPUs the kernel module lists, in bus id order. */
export function readGpus(fs: RootFs, warnings: string[]): GpuInfo[] {
  const { names } = fs.readdir(PROC_GPUS_DIR);
  const gpus: GpuInfo[] = [];
  for (const busId of names) {
    const text = fs.readText(`${PROC_GPUS_DIR}/${busId}/information`, 64 * 1024);
    if (text === null) {
      warnings.push(`${PROC_GPUS_DIR}/${busId}/information is missing`);
      continue;
    }
    const fields = parseGpuInformation(text);
    const minorText = fields.get('Device Minor');
    const minor = minorText !== undefined && /^\d+$/.test(minorText) ? Number(minorText) : null;
    if (minorText !== undefined && minor === null) warnings.push(`${PROC_GPUS_DIR}/${busId}/information: bad Device Minor "${minorText}"`);
    const devicePath = minor === null ? null : `/dev/nvidia${minor}`;
    gpus.push({
      busId: fields.get('Bus Location') ?? busId,
      model: fields.get('Model') ?? null,
      uuid: fields.get('GPU UUID') ?? null,
      minor,
      devicePath: devicePath !== null && fs.tryResolve(devicePath, false)?.stats.isCharacterDevice() ? devicePath : null,
    });
  }
  return gpus;
}
