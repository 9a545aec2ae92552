// Owns the wasm input region. Readers (cache, ELF) parse bytes that sit in wasm memory; a
// parsed result keeps viewing them there, so a single parse never copies. When another parse
// needs the region, the previous holder is told to evict (keep or copy its bytes) first.
//
// The holder is held strongly, not through a WeakRef: every WeakRef made keeps its target alive
// until the current job ends, so a loop of parses would retain every cache it made. A strong
// reference retains at most the latest holder, until the next parse.
import { LdCacheError } from './errors.js';
import { wasmExports } from './wasm.js';

export interface InputHolder {
  /** Called before the region is reused: copy whatever is still needed out of wasm memory. */
  evict(): void;
}

let current: InputHolder | undefined;

/**
 * Makes room for `size` input bytes at the start of the region and returns their address.
 * Bytes already there stay when the same holder grows its lease (streaming).
 */
export function acquireInput(size: number, holder?: InputHolder): number {
  const previous = current;
  if (previous && previous !== holder) {
    current = undefined;
    previous.evict();
  }
  const address = size >= 0 && size <= 0xffff_0000 ? wasmExports().reserveInput(size) : 0;
  if (address === 0) throw new LdCacheError('OUT_OF_MEMORY', `cannot hold ${size} bytes in wasm memory`, 0);
  current = holder;
  return address;
}

/** A view of wasm memory (views die when memory grows: take a fresh one after every core call). */
export function memoryView(address: number, length: number): Uint8Array {
  return new Uint8Array(wasmExports().memory.buffer, address, length);
}

/** Copies `bytes` into the region (for callers that already hold the input in JS memory). */
export function writeInput(bytes: Uint8Array, holder?: InputHolder): number {
  const address = acquireInput(bytes.length, holder);
  memoryView(address, bytes.length).set(bytes);
  return address;
}
