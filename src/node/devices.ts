// Device nodes without NVML (spec section 4): ROOT/dev/nvidia*, read with lstat (character
// devices only). Only nodes proven to be NVIDIA's reach a container: the frontend's static major
// 195, or the dynamic majors ROOT/proc/devices lists for nvidia-uvm and nvidia-caps; the rest
// (a `c 1:1` named nvidia-uvm is /dev/mem) is rejected with the reason.
import type { DeviceKind, DeviceNode, RejectedEntry } from './discovery-types.js';
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

/**
 * Majors the kernel hands out dynamically (fs/char_dev.c: 254 down to 234, then 511 down to 384).
 * nvidia-uvm and nvidia-caps get theirs there; a major outside these ranges is statically some
 * other driver's (1 is mem: /dev/mem, /dev/kmem, /dev/port), whatever a root's proc/devices says.
 */
export function isDynamicMajor(major: number): boolean {
  return (major >= 234 && major <= 254) || (major >= 384 && major <= 511);
}

/** The /proc/devices name that owns a kind's major. */
const OWNER: Record<DeviceKind, string> = {
  gpu: 'nvidia-frontend', control: 'nvidia-frontend', modeset: 'nvidia-frontend', uvm: 'nvidia-uvm', 'uvm-tools': 'nvidia-uvm', caps: 'nvidia-caps', other: '',
};

/** The minor a node of this name must have, or undefined where any minor is NVIDIA's. */
function expectedMinor(kind: DeviceKind, path: string): number | undefined {
  if (kind === 'control') return 255;
  if (kind === 'modeset') return 254;
  if (kind === 'uvm') return 0;
  if (kind === 'uvm-tools') return 1;
  const number = /(\d+)$/.exec(path)?.[1];
  return number === undefined ? undefined : Number(number); // nvidia<N>, nvidia-cap<M>: the minor is the number
}

/**
 * Why a node is not proven to be NVIDIA's, or null when it is. Proof: 195 for the frontend nodes
 * (the major the kernel's devices.txt assigns to NVIDIA, registered statically by nv-frontend.c);
 * for nvidia-uvm and nvidia-caps, whose majors are dynamic, the major the root's /proc/devices
 * lists for that name, which must be a dynamic major no other driver there claims. Minors must be
 * the driver's (nvidiactl 255, nvidia-modeset 254, nvidia-uvm 0, -tools 1, nvidia<N> N < 254).
 */
function unproven(kind: DeviceKind, path: string, major: number, minor: number, majors: Map<string, number> | null): string | null {
  const owner = OWNER[kind];
  if (owner === '') return 'not a known NVIDIA device';
  if (owner === 'nvidia-frontend') {
    if (major !== NVIDIA_MAJOR) return `major ${major} is not NVIDIA's (${path} must be ${NVIDIA_MAJOR}:*, the major devices.txt assigns to NVIDIA)`;
  } else {
    if (majors === null) return `major ${major} cannot be proven NVIDIA's: ${owner}'s major is dynamic and the root has no /proc/devices to tell it`;
    const listed = majors.get(owner);
    if (listed === undefined) return `major ${major} cannot be proven NVIDIA's: /proc/devices lists no ${owner}`;
    if (listed !== major) return `major ${major} is not ${owner}'s (/proc/devices says ${listed})`;
    if (!isDynamicMajor(major)) return `major ${major} is not a dynamic major, so it cannot be ${owner}'s (/proc/devices lies)`;
    for (const [name, other] of majors) {
      if (other === major && !name.startsWith('nvidia')) return `major ${major} is also listed for ${name} in /proc/devices`;
    }
  }
  const wanted = expectedMinor(kind, path);
  if (wanted !== undefined && wanted !== minor) return `minor ${minor} is not the minor of ${path} (${wanted})`;
  if (kind === 'gpu' && minor >= 254) return `minor ${minor} is not a GPU's (254 and 255 are nvidia-modeset and nvidiactl)`;
  return null;
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

/**
 * The NVIDIA device nodes of the root that are proven to be NVIDIA's (see `unproven`). Every
 * other candidate under /dev is left out and listed in `rejected` with the reason; a node that
 * is not a character device (a file, a link) too.
 */
export function readDevices(fs: RootFs, warnings: string[], rejected: RejectedEntry[] = []): DeviceNode[] {
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
  let unprovable = 0;
  for (const [path, kind] of candidates) {
    const found = fs.tryResolve(path, false);
    if (!found) continue;
    if (!found.stats.isCharacterDevice()) {
      warnings.push(`${path} is not a character device: ignored`);
      rejected.push({ cachePath: path, path, reason: 'not a character device' });
      continue;
    }
    const major = majorOf(found.stats.rdev);
    const minor = minorOf(found.stats.rdev);
    const why = unproven(kind, path, major, minor, majors);
    if (why !== null) {
      if (majors === null && OWNER[kind] !== 'nvidia-frontend') unprovable++;
      else warnings.push(`${path} (c ${major}:${minor}) left out: ${why}`);
      rejected.push({ cachePath: path, path, reason: `c ${major}:${minor}: ${why}` });
      continue;
    }
    devices.push({ path, kind, major, minor, mode: found.stats.mode });
  }
  if (unprovable > 0) {
    warnings.push(`no /proc/devices: ${unprovable} nvidia-uvm/nvidia-caps node${unprovable === 1 ? '' : 's'} left out (their majors are dynamic; nothing proves them NVIDIA's)`);
  }
  return devices;
}
