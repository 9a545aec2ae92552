// Types of the plain-JS baseline parser (bench/baseline-parser.mjs), for the tests that use it
// as an independent reference.
export interface BaselineEntry {
  flags: number;
  name: string;
  path: string;
  osVersion: number;
  hwcap: bigint;
  hwcapName: string | undefined;
}

export interface BaselineOffsetsEntry {
  flags: number;
  nameOffset: number;
  nameLength: number;
  pathOffset: number;
  pathLength: number;
  osVersion: number;
  hwcap: bigint;
}

export interface BaselineCache<E> {
  format: 'old' | 'new' | 'compat';
  littleEndian: boolean;
  count: number;
  entries: E[];
  generator: string | undefined;
  hwcapDirs: string[];
}

export function parseBaseline(bytes: Uint8Array, options: { decode: false }): BaselineCache<BaselineOffsetsEntry>;
export function parseBaseline(bytes: Uint8Array, options?: { decode?: true }): BaselineCache<BaselineEntry>;
