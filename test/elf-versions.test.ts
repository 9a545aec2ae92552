// The wasm version reader against binutils' readelf -V on real files of this machine, and on
// damaged copies (one ElfError naming the byte offset, never a trap).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ElfError } from '../src/core/elf.js';
import { readElfVersions } from '../src/core/elf-versions.js';
import { describeNeeding } from './helpers/requirements.js';

function readelf(file: string): { needed: string[]; defined: string[] } {
  const out = spawnSync('readelf', ['-V', '-W', file], { encoding: 'utf8' }).stdout;
  const needed: string[] = [];
  const defined: string[] = [];
  let section = '';
  let lib = '';
  for (const line of out.split('\n')) {
    if (line.includes("'.gnu.version_r'")) section = 'r';
    else if (line.includes("'.gnu.version_d'")) section = 'd';
    else if (line.includes("'.gnu.version'")) section = '';
    const file = /File: (\S+)/.exec(line);
    if (section === 'r' && file) lib = file[1]!;
    const name = /Name: (\S+)/.exec(line);
    if (section === 'r' && name && !file) needed.push(`${lib} ${name[1]}`);
    if (section === 'd' && name && /^\s*(0x)?[0-9a-f]+: Rev:/.test(line)) defined.push(name[1]!);
  }
  return { needed, defined };
}

const files = ['/lib/x86_64-linux-gnu/libc.so.6', '/bin/ls', '/lib/x86_64-linux-gnu/libz.so.1', '/lib64/ld-linux-x86-64.so.2'];
const present = spawnSync('readelf', ['--version']).status === 0;

describeNeeding('readElfVersions', !present && 'needs readelf (binutils)', () => {
  it.each(files)('%s: the same needs and definitions as readelf -V', (file) => {
    const ours = readElfVersions(readFileSync(file), file);
    const theirs = readelf(file);
    expect(ours.needed.map((n) => `${n.file} ${n.version}`)).toEqual(theirs.needed);
    expect(ours.defined).toEqual(theirs.defined);
    expect(ours.needed.length + ours.defined.length).toBeGreaterThan(0);
  });

  it('damaged copies fail with an ElfError and a byte offset, never a trap', () => {
    const libc = readFileSync('/lib/x86_64-linux-gnu/libc.so.6');
    for (const cut of [10, 40, 100, 1000, 5000, 70000]) {
      expect(() => readElfVersions(libc.subarray(0, cut))).toThrow(ElfError);
    }
    // Random bytes over the dynamic section and the version tables.
    let seed = 7;
    for (let round = 0; round < 200; round++) {
      const copy = Buffer.from(libc);
      for (let i = 0; i < 64; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        copy[seed % 0x20000] = seed & 0xff;
      }
      try {
        readElfVersions(copy);
      } catch (err) {
        expect(err).toBeInstanceOf(ElfError);
        expect((err as ElfError).describe('x')).toMatch(/^x: /);
      }
    }
  });
});
