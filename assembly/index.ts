// The wasm module's exports: the memory protocol and the readers.
export * from './memory';
export * from './cache';
export * from './elf';
export * from './format';
export * from './elf-versions';
