// Names and paths as JS strings: decoded from one ASCII area when every string is ASCII, else
// one by one as UTF-8 with replacement characters. Both must give what a plain TextDecoder gives.
import { describe, expect, it } from 'vitest';
import { parseLdCache } from '../src/index.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';

const utf8 = new TextDecoder('utf-8');
const text = (value: string | Uint8Array): string => (typeof value === 'string' ? value : utf8.decode(value));

function expectStrings(entries: WriterEntry[]): void {
  for (const format of ['new', 'compat', 'old'] as const) {
    const cache = parseLdCache(writeCache({ format, entries, sort: false }).bytes);
    const seen = cache.entries.map((e) => [e.name, e.path]);
    // The iterator's fresh entries read the same strings as the array's.
    expect([...cache].map((e) => [e.name, e.path]), format).toEqual(seen);
    // The strings are exactly the bytes' UTF-8 decoding, and agree with the raw byte views.
    expect(seen, format).toEqual(entries.map((e) => [text(e.name), text(e.path)]));
    for (const e of cache.entries) expect([utf8.decode(e.nameBytes), utf8.decode(e.pathBytes)]).toEqual([e.name, e.path]);
  }
}

describe('entry names and paths as strings', () => {
  it('all ASCII: every entry, shared tails included', () => {
    expectStrings([
      { name: 'libfoo.so.1', path: '/usr/lib/x86_64-linux-gnu/libfoo.so.1', flags: 0x303 },
      { name: 'libbar.so.22', path: '/opt/bar/lib/libbar.so.22', flags: 0x303 },
      { name: 'libfoo.so.1', path: '/usr/lib/i386-linux-gnu/libfoo.so.1', flags: 0x3 },
    ]);
  });

  it('one non-ASCII path: every string still decodes right (replacement characters for bad UTF-8)', () => {
    expectStrings([
      { name: 'libfoo.so.1', path: '/usr/lib/libfoo.so.1', flags: 0x303 },
      { name: 'libcafé.so.1', path: '/opt/café/libcafé.so.1', flags: 0x303 },
      { name: new Uint8Array([0x6c, 0x69, 0x62, 0xff, 0x2e, 0x73, 0x6f]), path: '/usr/lib/libbad.so', flags: 0x303 },
    ]);
  });

  it('a string longer than the core looks at with SIMD (512 bytes) and one at the very end: still exact', () => {
    const long = `/opt/${'x'.repeat(700)}/libfoo.so.1`;
    expectStrings([
      { name: 'libfoo.so.1', path: long, flags: 0x303 },
      { name: 'libbar.so.2', path: '/usr/lib/libbar.so.2', flags: 0x303 },
    ]);
  });

  it('non-ASCII only in a name (not the path), and a name outside its path', () => {
    expectStrings([
      { name: 'libé.so.1', path: '/usr/lib/libe.so.1', flags: 0x303 },
      { name: 'libz.so.1', path: '/usr/lib/libz.so.1', flags: 0x303 },
    ]);
  });
});
