// How the page words an entry's fields: flags as `ldconfig -p` (glibc 2.36) prints them, the
// hwcap as a glibc-hwcaps name or raw hex. The texts themselves come from the core.
import { requiredText, typeText } from '../core/abi.js';
import { hwcapHex } from '../core/json.js';
import type { LdCacheEntry } from '../core/types.js';

export { osAbiText } from '../core/abi.js';
export { hwcapHex };

/** `libc4` … `libc6`, `unknown`: the type word of `ldconfig -p`. */
export function typeWord(type: number): string {
  return typeText(type);
}

const flagsWordCache = new Map<number, string>();

/** `libc6,x86-64`: the text inside `ldconfig -p`'s parentheses, before any hwcap part. */
export function flagsWords(flags: number): string {
  let words = flagsWordCache.get(flags);
  if (words === undefined) {
    words = typeText(flags) + requiredText(flags);
    flagsWordCache.set(flags, words);
  }
  return words;
}

/** The glibc-hwcaps directory name, the raw legacy value in hex, or '' for an ordinary entry. */
export function hwcapText(entry: LdCacheEntry): string {
  if (entry.hwcapName !== undefined) return entry.hwcapName;
  return entry.hwcap === 0n ? '' : hwcapHex(entry.hwcap);
}

/** The flags field as hex, e.g. `0x0303`. */
export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(4, '0')}`;
}
