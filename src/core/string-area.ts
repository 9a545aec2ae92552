// Fast decoding of a cache's names and paths. Decoding each of 400,000 strings on its own costs
// a typed-array view and a TextDecoder call apiece, and the garbage they leave dominates. In the
// usual cache every string lies in one ASCII area: decode that area once and hand out
// substrings (V8 makes them slices of the one string, no copies). Any byte >= 0x80 in the area
// means per-string UTF-8 decoding, with replacement characters, as before.

import { E_NAME_LENGTH, E_NAME_OFFSET, E_PATH_LENGTH, E_PATH_OFFSET } from './ldcache-table.js';

const decoder = new TextDecoder('utf-8');

/** The decoded string area: `text[i]` is the byte at `start + i`. */
export interface AsciiArea {
  start: number;
  end: number;
  text: string;
}

/**
 * The smallest area holding every string of the table, decoded, when it is all ASCII; null when
 * it is not (or there are no strings).
 */
export function asciiArea(input: Uint8Array, words: Uint32Array, start: number, count: number, entryWords: number): AsciiArea | null {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0, r = start; i < count; i++, r += entryWords) {
    const name = words[r + E_NAME_OFFSET];
    const path = words[r + E_PATH_OFFSET];
    if (name < low) low = name;
    if (path < low) low = path;
    if (name + words[r + E_NAME_LENGTH] > high) high = name + words[r + E_NAME_LENGTH];
    if (path + words[r + E_PATH_LENGTH] > high) high = path + words[r + E_PATH_LENGTH];
  }
  if (!(high > low)) return null;
  const area = input.subarray(low, high);
  for (let i = 0; i < area.length; i++) if (area[i] > 0x7f) return null;
  // All ASCII: one character per byte, so byte offsets are string indexes.
  return { start: low, end: high, text: decoder.decode(area) };
}
