// Owns the wasm input region. Readers (cache, ELF) parse bytes that sit in wasm memory; a
// parsed result keeps viewing them there, so no second copy is made. When another parse needs
// the region, the previous holder is told to evict (copy its bytes out) first, but only if it
// is still alive: a single parse never copies.
import { LdCacheError } from './errors.js';
import { wasmExports } from './wasm.js';

export interface InputHolder {
  /** Called before the region is reused: copy whatever is still needed out of wasm memory. */
  evict(): void;
}

let current: WeakRef<InputHolder> | undefined;

/**
 * Makes room for `size` input bytes at the start of the region and returns their address.
 * Bytes already there stay when the same holder grows its lease (streaming).
 */
export function acquireInput(size: number, holder?: InputHolder): number {
  const previous = current?.deref();
  if (previous && previous !== holder) {
    current = undefined;
    previous.evict();
  }
  const reserve = wasmExports().reserveInput as (size: number) => number;
  const address = size >= 0 && size <= 0xffff_0000 ? reserve(size) : 0;
  if (address === 0) throw new LdCacheError('OUT_OF_MEMORY', `cannot hold ${size} bytes in wasm memory`, 0);
  current = holder ? new WeakRef(holder) : undefined;
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
