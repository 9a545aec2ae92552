// The kernel module's version from /proc/driver/nvidia/version (spec section 5): the first
// token of the `NVRM version:` line made of digits and dots with at least one dot. Works for
// the proprietary (`… Kernel Module  535.261.03  …`) and open (`… Open Kernel Module for
// x86_64  535.261.03  …`) formats alike.
import { DRIVER_VERSION_PATTERN } from '../core/nvidia-libraries.js';
import type { RootFs } from './rootfs.js';

export const PROC_VERSION_PATH = '/proc/driver/nvidia/version';

export function parseNvrmVersion(text: string): string | null {
  const line = text.split('\n').find((l) => l.startsWith('NVRM version:'));
  if (!line) return null;
  return line.slice('NVRM version:'.length).split(/\s+/).find((token) => DRIVER_VERSION_PATTERN.test(token)) ?? null;
}

/** The loaded kernel module's version inside the root, or null when it has none. */
export function readKernelModuleVersion(fs: RootFs): string | null {
  const text = fs.readText(PROC_VERSION_PATH, 64 * 1024);
  return text === null ? null : parseNvrmVersion(text);
}
