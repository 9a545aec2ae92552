// Linear-memory protocol shared by the readers.
//
// [static data][input bytes @ INPUT_BASE][pad to 8][results @ resultBase()]
//
// The host asks for room for `size` input bytes and writes the file straight there (fs.readSync
// into a view of wasm memory, or chunk by chunk from a stream): the only copy of the input is
// the one in wasm memory. A reader then writes its result table after the input, growing
// memory as needed; the host re-reads `memory.buffer` after every call that can grow it.

// Room after the input so that 16-byte SIMD loads near its end stay inside memory.
const SLACK: usize = 64;

let inputLength: usize = 0;

@inline
export function inputBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Grows memory so that [0, end) is addressable. */
export function ensureMemory(end: usize): bool {
  const have = (<usize>memory.size()) << 16;
  if (end <= have) return true;
  const pages = (end - have + 0xffff) >> 16;
  if (pages > 0xffff) return false;
  return memory.grow(<i32>pages) >= 0;
}

/** Reserves room for `size` input bytes (keeping whatever is already there); returns their address, or 0 when memory cannot grow. */
export function reserveInput(size: u32): usize {
  const base = inputBase();
  if (!ensureMemory(base + <usize>size + SLACK)) return 0;
  inputLength = size;
  return base;
}

export function getInputLength(): u32 {
  return <u32>inputLength;
}

/** Where result tables start: after the input and its slack, 8-aligned. */
export function resultBase(): usize {
  return (inputBase() + inputLength + SLACK + 7) & ~(<usize>7);
}
