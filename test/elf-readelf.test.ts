// readElf against binutils' readelf on real files: every ELF file of this machine's library
// directories (the multiarch ones whole, the rest of /usr/lib within a time budget), a driver
// root built by the test helpers (64- and 32-bit), and gcc-built objects with -fcf-protection
// (whose .note.gnu.property sits in an 8-aligned PT_NOTE segment) and hand-written 8-aligned
// notes. Every file that readelf reads cleanly (exit 0, nothing on stderr) must be read by
// readElf, and class, byte order, type, machine, flags, OS ABI, SONAME, NEEDED and the
// NT_GNU_ABI_TAG note must be what readelf's own text says.
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, openSync, readdirSync, readSync, closeSync, rmSync, writeFileSync, realpathSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ElfError, type ElfInfo } from '../src/core/elf.js';
import { readElfInRoot } from '../src/node/elf-file.js';
import { RootFs } from '../src/node/rootfs.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding, need } from './helpers/requirements.js';

const readelfMissing = spawnSync('readelf', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'readelf (binutils) is missing';
const gccMissing = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'gcc is missing';

/** Directories read whole: where the dynamic linker finds libraries. */
const LIBRARY_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/i386-linux-gnu', '/usr/lib/i386-linux-gnu', '/lib32', '/usr/lib32', '/lib64', '/usr/lib64', '/libx32', '/usr/libx32', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/local/lib'];
/** Walked after them in sorted order until this budget is spent (a cold /usr/lib walk takes 10 s). */
const REST = ['/usr/lib'];
const REST_BUDGET_MS = 2500;

/** What readelf's text says about one file. */
interface ReadelfFacts {
  bits: 32 | 64;
  byteOrder: 'little' | 'big';
  type: number | undefined;
  machine: number | undefined;
  osAbi: number | undefined;
  abiVersion: number;
  flags: number;
  dynamic: boolean;
  soname: string | null;
  needed: string[];
  abiTag: { os: number; version: number[] } | null;
}

const TYPES: Record<string, number> = { NONE: 0, REL: 1, EXEC: 2, DYN: 3, CORE: 4 };
const MACHINES: Record<string, number> = { 'Intel 80386': 3, 'Advanced Micro Devices X86-64': 62, AArch64: 183, ARM: 40 };
const OS_ABIS: Record<string, number> = { 'UNIX - System V': 0, 'UNIX - GNU': 3 };
const NOTE_OS: Record<string, number> = { Linux: 0, Hurd: 1, Solaris: 2, FreeBSD: 3 };

function parseReadelf(text: string): ReadelfFacts {
  const field = (name: string): string => new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const tag = /NT_GNU_ABI_TAG \(ABI version tag\)\s+OS: (\w+), ABI: (\d+)\.(\d+)\.(\d+)/.exec(text);
  return {
    bits: field('Class') === 'ELF64' ? 64 : 32,
    byteOrder: /big endian/.test(field('Data')) ? 'big' : 'little',
    type: TYPES[/^(\w+)/.exec(field('Type'))?.[1] ?? ''],
    machine: MACHINES[field('Machine')],
    osAbi: OS_ABIS[field('OS/ABI')],
    abiVersion: Number(field('ABI Version')),
    flags: Number.parseInt(field('Flags'), 16),
    // readElf's `dynamic`: a PT_DYNAMIC program header (readelf -l), whatever the section says.
    dynamic: /^\s+DYNAMIC\s/m.test(text),
    soname: /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(text)?.[1] ?? null,
    needed: [...text.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]!),
    abiTag: tag ? { os: NOTE_OS[tag[1]!] ?? -1, version: tag.slice(2, 5).map(Number) } : null,
  };
}

/** readelf -h -l -d -n of each file; files readelf complains about (stderr, exit status) are left out. */
function readelfAll(files: string[]): Map<string, ReadelfFacts> {
  const facts = new Map<string, ReadelfFacts>();
  const one = (file: string): void => {
    const r = spawnSync('readelf', ['-W', '-h', '-l', '-d', '-n', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status === 0 && r.stderr === '') facts.set(file, parseReadelf(r.stdout));
  };
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    if (batch.length === 1) {
      one(batch[0]!);
      continue;
    }
    const r = spawnSync('readelf', ['-W', '-h', '-l', '-d', '-n', ...batch], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0 || r.stderr !== '') {
      for (const file of batch) one(file); // find the clean ones
      continue;
    }
    // With several files readelf starts each one with "File: PATH".
    const parts = r.stdout.split(/^File: (.*)$/m);
    for (let j = 1; j + 1 < parts.length; j += 2) facts.set(parts[j]!, parseReadelf(parts[j + 1]!));
  }
  return facts;
}

function isElf(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const magic = Buffer.alloc(4);
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

/** Regular ELF files under `dirs` (each inode once, real paths, sorted walk), until `deadline`. */
function elfFiles(dirs: string[], seen: Set<string>, deadline = Infinity): { files: string[]; complete: boolean } {
  const files: string[] = [];
  const walk = (dir: string): boolean => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return true;
    }
    for (const name of names) {
      if (Date.now() > deadline) return false;
      const path = join(dir, name);
      const info = lstatSync(path, { throwIfNoEntry: false });
      if (!info) continue;
      if (info.isDirectory()) {
        if (!walk(path)) return false;
        continue;
      }
      const key = `${info.dev}:${info.ino}`;
      if (!info.isFile() || seen.has(key) || info.size < 52) continue;
      seen.add(key);
      if (isElf(path)) files.push(path);
    }
    return true;
  };
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    if (!walk(realpathSync(dir))) return { files, complete: false };
  }
  return { files, complete: true };
}

const host = new RootFs('/');
function readOurs(file: string): ElfInfo | ElfError {
  try {
    return readElfInRoot(host, file).info;
  } catch (err) {
    if (err instanceof ElfError) return err;
    throw err;
  }
}

/** Every file readelf read cleanly is read by readElf, with the facts readelf's text gives. */
function expectAgreement(files: string[]): number {
  const theirs = readelfAll(files);
  const failures: string[] = [];
  for (const [file, facts] of theirs) {
    const ours = readOurs(file);
    if (ours instanceof ElfError) {
      failures.push(ours.describe(file));
      continue;
    }
    const mine = {
      bits: ours.bits, byteOrder: ours.byteOrder, type: facts.type === undefined ? undefined : ours.type,
      machine: facts.machine === undefined ? undefined : ours.machine, osAbi: facts.osAbi === undefined ? undefined : ours.osAbi,
      abiVersion: ours.abiVersion, flags: ours.flags, dynamic: ours.dynamic, soname: ours.soname, needed: ours.needed,
      abiTag: ours.abiTag && { os: ours.abiTag.os, version: ours.abiTag.version },
    };
    if (JSON.stringify(mine) !== JSON.stringify(facts)) failures.push(`${file}: readElf ${JSON.stringify(mine)} but readelf ${JSON.stringify(facts)}`);
  }
  expect(failures.slice(0, 20), `${failures.length} of ${theirs.size} files disagree`).toEqual([]);
  return theirs.size;
}

describeNeeding('readElf agrees with readelf -h -l -d -n', readelfMissing, () => {
  let scratch: string;
  let root: DriverRoot | undefined;
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'elf-readelf-'));
  });
  afterAll(async () => {
    await root?.cleanup();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("on every ELF file of this machine's library directories (libc.so.6 included), then /usr/lib within a budget", () => {
    const seen = new Set<string>();
    const whole = elfFiles(LIBRARY_DIRS, seen);
    const libc = whole.files.find((f) => f.endsWith('/libc.so.6'));
    expect(libc, 'this machine has a libc.so.6 in its multiarch directory').toBeDefined();
    // libc.so.6 is the file the bug report names: its ABI tag must be readelf's.
    expect(readOurs(libc!)).not.toBeInstanceOf(ElfError);
    const rest = elfFiles(REST, seen, Date.now() + REST_BUDGET_MS);
    const checked = expectAgreement([...whole.files, ...rest.files]);
    expect(checked).toBeGreaterThan(50);
    console.info(`elf-readelf: ${checked} files agree (${whole.files.length} from the library directories, ${rest.files.length} more from /usr/lib${rest.complete ? '' : ' before the time budget ran out'})`);
  });

  it('on a driver root built by the test helpers (gcc-built 64- and 32-bit libraries)', async (ctx) => {
    need(ctx, gccMissing);
    root = await buildDriverRoot({ gpus: 1 });
    const { files } = elfFiles([root.root], new Set());
    expect(files.length).toBeGreaterThanOrEqual(root.libraries.length);
    expect(expectAgreement(files)).toBe(files.length);
  });

  it('on gcc-built objects with -fcf-protection and 8-aligned notes, 64- and 32-bit', (ctx) => {
    need(ctx, gccMissing);
    const c = join(scratch, 'lib.c');
    writeFileSync(c, 'int answer(void) { return 42; }\n');
    writeFileSync(join(scratch, 'main.c'), 'int main(void) { return 0; }\n');
    // An 8-aligned note section whose first note's name (5 bytes) needs 3 bytes of padding
    // under 8-byte alignment but 3 under 4 too: the descriptor starts at 24 (8) not 20 (4);
    // the ABI tag after it is found only when each note is laid out as the gABI says.
    const notes = join(scratch, 'notes.S');
    writeFileSync(notes, [
      '.section .note.GNU-stack,"",@progbits',
      '.section .note.zz8,"a",@note', '.balign 8',
      '.long 5, 8, 0x1234', '.asciz "abcd"', '.balign 8', '.quad 0x1122334455667788', '.balign 8',
      '.long 4, 16, 1', '.asciz "GNU"', '.long 0, 4, 19, 7', '',
    ].join('\n'));
    const out = (name: string): string => join(scratch, name);
    const built: string[] = [];
    const cc = (name: string, args: string[]): void => {
      execFileSync('gcc', ['-fcf-protection', '-O1', ...args, '-o', out(name)], { stdio: ['ignore', 'ignore', 'pipe'] });
      built.push(out(name));
    };
    // -nostdlib: the property survives linking only when every input has it (Debian's crt files do not).
    cc('libcet64.so.1', ['-nostdlib', '-shared', '-fPIC', '-Wl,-soname,libcet64.so.1', c]);
    cc('cet64-exe', [join(scratch, 'main.c')]);
    cc('cet64-static', ['-static', join(scratch, 'main.c')]);
    cc('libcet32.so.1', ['-m32', '-nostdlib', '-shared', '-fPIC', '-Wl,-soname,libcet32.so.1', c]);
    cc('libnotes64.so', ['-shared', '-fPIC', '-nostdlib', c, notes]);
    cc('libnotes32.so', ['-m32', '-shared', '-fPIC', '-nostdlib', '-Wl,-soname,libnotes32.so', c, notes]);
    cc('cet64.o', ['-c', c]);
    cc('cet32.o', ['-m32', '-c', c]);
    // The objects have what this test is about: the property note in an 8-aligned segment.
    const segments = execFileSync('readelf', ['-lW', out('libcet64.so.1')], { encoding: 'utf8' });
    expect(segments).toMatch(/^\s+NOTE\s+.*0x8$/m);
    expect(execFileSync('readelf', ['-nW', out('libcet64.so.1')], { encoding: 'utf8' })).toContain('NT_GNU_PROPERTY_TYPE_0');
    expect(expectAgreement(built)).toBe(built.length);
    // The executables carry glibc's ABI tag (crt1.o), the hand-written notes 4.19.7 behind an odd-sized name.
    for (const name of ['cet64-exe', 'cet64-static']) expect((readOurs(out(name)) as ElfInfo).abiTag).not.toBeNull();
    for (const name of ['libnotes64.so', 'libnotes32.so']) expect((readOurs(out(name)) as ElfInfo).abiTag).toEqual({ os: 0, version: [4, 19, 7] });
  });
});
