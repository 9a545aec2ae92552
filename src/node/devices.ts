// Device nodes without NVML (spec section 4): ROOT/dev/nvidia*, read with lstat (character
// devices only), checked against the majors the kernel lists in ROOT/proc/devices.
import type { DeviceKind, DeviceNode } from './discovery-types.js';
import type { RootFs } from './rootfs.js';

/** The fixed major of the NVIDIA frontend (nv-frontend.c). */
export const NVIDIA_MAJOR = 195;

/** `Character devices:` of /proc/devices as name -> major. */
export function parseProcDevices(text: string): Map<string, number> {
  const majors = new Map<string, number>();
  let inCharacter = false;
  for (const line of text.split('\n')) {
    if (/^\s*Character devices:/.test(line)) inCharacter = true;
    else if (/^\s*Block devices:/.test(line)) inCharacter = false;
    else if (inCharacter) {
      const match = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
      if (match && !majors.has(match[2]!)) majors.set(match[2]!, Number(match[1]));
    }
  }
  return majors;
}

function kindOf(name: string): DeviceKind | null {
  if (/^nvidia\d+$/.test(name)) return 'gpu';
  if (name === 'nvidiactl') return 'control';
  if (name === 'nvidia-modeset') return 'modeset';
  if (name === 'nvidia-uvm') return 'uvm';
  if (name === 'nvidia-uvm-tools') return 'uvm-tools';
  return null;
}

/** The major a node of this kind must have, or undefined where /proc/devices does not tell. */
function expectedMajor(kind: DeviceKind, majors: Map<string, number> | null): number | undefined {
  if (kind === 'gpu' || kind === 'control' || kind === 'modeset') return NVIDIA_MAJOR;
  if (!majors) return undefined;
  if (kind === 'uvm' || kind === 'uvm-tools') return majors.get('nvidia-uvm');
  if (kind === 'caps') return majors.get('nvidia-caps');
  return undefined;
}

// glibc's dev_t encoding (gnu_dev_major/minor), which is what stat's st_rdev holds.
export const majorOf = (rdev: number): number => {
  const dev = BigInt(rdev);
  return Number(((dev >> 32n) & 0xfffff000n) | ((dev >> 8n) & 0xfffn));
};
export const minorOf = (rdev: number): number => {
  const dev = BigInt(rdev);
  return Number(((dev >> 12n) & 0xffffff00n) | (dev & 0xffn));
};

export function readDevices(fs: RootFs, warnings: string[]): DeviceNode[] {
  const procDevices = fs.readText('/proc/devices', 256 * 1024);
  const majors = procDevices === null ? null : parseProcDevices(procDevices);
  if (majors && !majors.has('nvidia-frontend') && !majors.has('nvidia')) {
    warnings.push('/proc/devices lists no nvidia-frontend (or nvidia) character device: is the kernel module loaded?');
  }
  const candidates: [string, DeviceKind][] = [];
  for (const name of fs.readdir('/dev').names) {
    const kind = kindOf(name);
    if (kind) candidates.push([`/dev/${name}`, kind]);
  }
  for (const name of fs.readdir('/dev/nvidia-caps').names) {
    if (/^nvidia-cap\d+$/.test(name)) candidates.push([`/dev/nvidia-caps/${name}`, 'caps']);
  }
  const devices: DeviceNode[] = [];
  for (const [path, kind] of candidates) {
    const found = fs.tryResolve(path, false);
    if (!found) continue;
    if (!found.stats.isCharacterDevice()) {
      warnings.push(`${path} is not a character device: ignored`);
      continue;
    }
    const major = majorOf(found.stats.rdev);
    const minor = minorOf(found.stats.rdev);
    const expected = expectedMajor(kind, majors);
    if (expected !== undefined && expected !== major) {
      warnings.push(`${path} has major ${major}, but the kernel's ${kind === 'caps' ? 'nvidia-caps' : kind.startsWith('uvm') ? 'nvidia-uvm' : 'nvidia'} major is ${expected}: ignored`);
      continue;
    }
    devices.push({ path, kind, major, minor, mode: found.stats.mode });
  }
  return devices;
}
