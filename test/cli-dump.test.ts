// The built `ldcache-dump` CLI as a real process, against the real ldconfig: byte-identical
// output, exit codes 0/1/2, one-line errors with the byte offset, JSON forms that agree with
// the text, filters, --root, and a quiet end when the reader closes the pipe.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLdCache } from '../src/core/parse.js';
import { LdCacheError } from '../src/core/errors.js';
import { buildSharedObject, ldconfigPrint, ldconfigVersion, makeTempDir, runLdconfig, writeCacheWithLdconfig } from './helpers/so-builder.js';
import { writeCache, type WriterEntry } from './helpers/cache-writer.js';
import { describeNeeding } from './helpers/requirements.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const bin = join(repo, 'bin', 'ldcache-dump.cjs');
const built = existsSync(join(repo, 'dist', 'cli', 'ldcache-dump.cjs'));
const reason = !built ? 'dist/ is not built (npm run build)' : ldconfigVersion() !== '2.36' ? 'needs the real ldconfig of glibc 2.36' : undefined;

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function dump(...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** `\tNAME (FLAGS) => PATH` lines of ldconfig -p text, split into their parts. */
function entryLines(text: string): Array<{ line: string; name: string; flags: string; path: string }> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('\t'))
    .map((line) => {
      const m = /^\t(.*) \(([^()]*)\) => (.*)$/s.exec(line)!;
      return { line, name: m[1], flags: m[2], path: m[3] };
    });
}

function expectOneLineError(run: Run, status: number): void {
  expect(run.status).toBe(status);
  expect(run.stdout.length).toBe(0);
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines[0]).toMatch(/^ldcache-dump: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(lines.length).toBe(status === 2 ? 2 : 1);
}

let temp: { dir: string; cleanup: () => void } | undefined;
let root = '';
let rootCache = '';
let bigCache = '';

beforeAll(() => {
  if (reason) return;
  temp = makeTempDir('ldcache-cli-');
  root = join(temp.dir, 'root');
  const lib = join(root, 'usr/lib/x86_64-linux-gnu');
  for (const soname of ['libcuda.so.1', 'libnvidia-ml.so.1', 'libz.so.1', 'lib\todd%s.so.1', 'libz.so.10']) {
    buildSharedObject({ dir: lib, file: `libx${soname.length}-${soname.charCodeAt(4)}.so`, soname });
  }
  buildSharedObject({ dir: join(lib, 'glibc-hwcaps/x86-64-v3'), file: 'libz.so.1', soname: 'libz.so.1' });
  buildSharedObject({ dir: join(root, 'usr/lib32'), file: 'libcuda.so.1', soname: 'libcuda.so.1', bits: 32, needed: ['libc.so.6'] });
  rootCache = writeCacheWithLdconfig({ root, dirs: ['/usr/lib/x86_64-linux-gnu', '/usr/lib32'] });
  // Enough output (~600 KB) that `| head -1` closes the pipe while ldcache-dump still writes.
  const many: WriterEntry[] = Array.from({ length: 8000 }, (_, i) => ({ name: `libmany${i}.so.1`, path: `/usr/lib/x86_64-linux-gnu/libmany${i}.so.1`, flags: 0x303 }));
  bigCache = join(temp.dir, 'big.cache');
  writeFileSync(bigCache, writeCache({ format: 'new', entries: many }).bytes);
});

afterAll(() => temp?.cleanup());

describeNeeding('ldcache-dump (built CLI, real process)', reason, () => {
  it('prints the host cache byte for byte as ldconfig -p does', () => {
    const ours = dump();
    const theirs = runLdconfig(['-p']);
    expect(ours.stderr).toBe('');
    expect(ours.status).toBe(0);
    expect(latin1(ours.stdout)).toBe(latin1(theirs.stdout));
  });

  it('prints FILE (odd sonames, glibc-hwcaps, 32-bit) as ldconfig -p -C FILE, path as given', () => {
    const ours = dump(rootCache);
    expect(ours.status).toBe(0);
    expect(latin1(ours.stdout)).toBe(latin1(ldconfigPrint(rootCache).stdout));
    expect(latin1(ours.stdout)).toContain('lib\todd%s.so.1');
  });

  it('--root DIR reads DIR/etc/ld.so.cache and prints as ldconfig -r DIR -p', () => {
    const ours = dump('--root', root);
    const theirs = runLdconfig(['-r', root, '-p']);
    expect(theirs.status).toBe(0);
    expect(ours.status).toBe(0);
    expect(latin1(ours.stdout)).toBe(latin1(theirs.stdout));
    const withFile = dump('-r', root, '/etc/ld.so.cache');
    expect(latin1(withFile.stdout)).toBe(latin1(runLdconfig(['-r', root, '-p', '-C', '/etc/ld.so.cache']).stdout));
  });

  it('--root resolves an absolute cache symlink inside the root, as ldconfig -r does (chroot)', () => {
    const linked = join(temp!.dir, 'linked-root');
    mkdirSync(join(linked, 'etc'), { recursive: true });
    mkdirSync(join(linked, 'var/cache'), { recursive: true });
    writeFileSync(join(linked, 'var/cache/ld.so.cache'), readFileSync(rootCache));
    symlinkSync('/var/cache/ld.so.cache', join(linked, 'etc/ld.so.cache'));
    const theirs = runLdconfig(['-r', linked, '-p']);
    expect(theirs.status).toBe(0);
    const ours = dump('--root', linked);
    expect(ours.stderr).toBe('');
    expect(latin1(ours.stdout)).toBe(latin1(theirs.stdout));
  });

  it('--root never follows a cache symlink out of the root', () => {
    const hostile = join(temp!.dir, 'hostile-root');
    mkdirSync(join(hostile, 'etc'), { recursive: true });
    // The target exists on the host (the good root's cache) but not inside this root.
    symlinkSync(`../../../../../../../..${rootCache}`, join(hostile, 'etc/ld.so.cache'));
    const run = dump('--root', hostile);
    expectOneLineError(run, 1);
    expect(run.stderr).toContain(hostile);
  });

  it('prints a big-endian cache as ldconfig prints its little-endian twin', () => {
    const entries: WriterEntry[] = [
      { name: 'libbe.so.1', path: '/lib/libbe.so.1', flags: 0x0403 },
      { name: 'libbe.so.1', path: '/lib32/libbe.so.1', flags: 0x0003 },
    ];
    const little = join(temp!.dir, 'twin.cache');
    const big = join(temp!.dir, 'twin-be.cache');
    writeFileSync(little, writeCache({ format: 'new', entries }).bytes);
    writeFileSync(big, writeCache({ format: 'new', entries, byteOrder: 'big' }).bytes);
    const expected = latin1(ldconfigPrint(little).stdout).replace(little, big);
    expect(latin1(dump(big).stdout)).toBe(expected);
  });

  it('exits 1 with one line naming the file for missing, unreadable and invalid files', () => {
    const missing = join(temp!.dir, 'missing.cache');
    const run = dump(missing);
    expectOneLineError(run, 1);
    expect(run.stderr).toContain(`ldcache-dump: ${missing}: `);
    expectOneLineError(dump(temp!.dir), 1);
    expectOneLineError(dump('--root', join(temp!.dir, 'no-such-root')), 1);
  });

  it('exits 1 with the byte offset for damaged files, the offset the parser reports', () => {
    const whole = readFileSync(rootCache);
    const damaged: Array<[string, Uint8Array]> = [
      ['truncated-table', whole.subarray(0, 60)],
      ['truncated-strings', whole.subarray(0, whole.length - 40)],
      ['bad-magic', Buffer.concat([Buffer.from('xlibc'), whole.subarray(5)])],
      ['short', whole.subarray(0, 7)],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, bytes] of damaged) {
      const file = join(temp!.dir, `${name}.cache`);
      writeFileSync(file, bytes);
      let expected: LdCacheError | undefined;
      try {
        parseLdCache(bytes);
      } catch (err) {
        expected = err as LdCacheError;
      }
      expect(expected, name).toBeInstanceOf(LdCacheError);
      const run = dump(file);
      expectOneLineError(run, 1);
      expect(run.stderr).toBe(`ldcache-dump: ${expected!.describe(file)}\n`);
      expect(run.stderr).toMatch(new RegExp(`\\(at byte ${expected!.offset}\\)\\n$`));
    }
  });

  it('exits 2 on usage errors, with a hint and no stack', () => {
    for (const args of [['--glibc', 'latest'], ['--glibc', '3'], ['a', 'b'], ['--arch'], ['--grep', '(']]) {
      const run = dump(...args);
      expectOneLineError(run, 2);
      expect(run.stderr).toContain("Try 'ldcache-dump --help'");
    }
    // With --json the usage error is also a JSON object on stdout.
    const both = dump('--json', '--ndjson');
    expect([both.status, JSON.parse(both.stdout.toString()).error.code]).toEqual([2, 'USAGE']);
    expect(both.stderr.toString()).toMatch(/^ldcache-dump: --json and --ndjson exclude each other\n/);
    // A regex error says "invalid regular expression" once.
    expect(dump('--grep', '(').stderr.toString().match(/regular expression/gi)).toHaveLength(1);
    // An unknown architecture: one line with the names it knows.
    const arch = dump('--arch', 'sparc9', '/etc/ld.so.cache');
    expect([arch.status, arch.stdout.length]).toEqual([2, 0]);
    expect(arch.stderr.toString()).toMatch(/^ldcache-dump: --arch: unknown architecture 'sparc9' \(known: x86-64, i386, .*amd64.*\)\n$/);
    // An unknown option: one line that names the closest known option, no hint needed.
    const typo = dump('--jsno');
    expect([typo.status, typo.stdout.length, typo.stderr]).toEqual([2, 0, "ldcache-dump: unknown option '--jsno' (did you mean '--json'?)\n"]);
  });

  it('--help and --version', () => {
    const help = dump('--help');
    expect(help.status).toBe(0);
    expect(help.stdout.toString()).toMatch(/^Usage: ldcache-dump/);
    expect(help.stdout.toString()).toMatch(/header line counts the entries shown/);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(dump('--version').stdout.toString()).toBe(`ldcache-dump ${pkg.version}\n`);
  });

  it('--json is one document that agrees with the text output', () => {
    const text = latin1(dump(rootCache).stdout);
    const run = dump('--json', rootCache);
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout.toString()) as { file: string; format: string; count: number; generator: string; entries: Array<{ name: string; path: string; hwcapName: string | null; arch: string }> };
    const lines = entryLines(text);
    expect(doc.file).toBe(rootCache);
    expect(doc.format).toBe('new');
    expect(doc.count).toBe(lines.length);
    expect(text.split('\n')[0]).toBe(`${doc.count} libs found in cache \`${rootCache}'`);
    expect(text).toContain(`Cache generated by: ${doc.generator}\n`);
    doc.entries.forEach((entry, i) => {
      expect(Buffer.from(entry.name).toString('latin1')).toBe(lines[i].name);
      expect(Buffer.from(entry.path).toString('latin1')).toBe(lines[i].path);
      if (entry.hwcapName) expect(lines[i].flags).toContain(`hwcap: "${entry.hwcapName}"`);
    });
  });

  it('--ndjson is one entry per line, the same entries as --json', () => {
    const doc = JSON.parse(dump('--json', rootCache).stdout.toString()) as { entries: unknown[] };
    const out = dump('--ndjson', rootCache).stdout.toString();
    expect(out.endsWith('\n')).toBe(true);
    const rows = out.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(rows).toEqual(doc.entries);
  });

  it('--arch and --grep show the matching lines of ldconfig -p, and count them in the header', () => {
    const all = latin1(ldconfigPrint(rootCache).stdout);
    const lines = entryLines(all);
    const cases: Array<[string[], (l: (typeof lines)[number]) => boolean]> = [
      [['--arch', 'x86-64'], (l) => /^libc6,x86-64\b/.test(l.flags)],
      [['--arch', 'i386'], (l) => l.flags === 'libc6'],
      [['--grep', 'cuda'], (l) => /cuda/.test(l.name) || /cuda/.test(l.path)],
      [['--grep', '^libz\\.so\\.1$'], (l) => /^libz\.so\.1$/.test(l.name)],
      [['--grep', 'glibc-hwcaps', '--arch', 'x86-64'], (l) => l.path.includes('glibc-hwcaps')],
      [['--arch', 'aarch64'], () => false],
      // The spellings of uname -m and Debian.
      [['--arch', 'x86_64'], (l) => /^libc6,x86-64\b/.test(l.flags)],
      [['--arch', 'amd64'], (l) => /^libc6,x86-64\b/.test(l.flags)],
      [['--arch', 'i686'], (l) => l.flags === 'libc6'],
      [['--arch', 'arm64'], () => false],
    ];
    for (const [args, keep] of cases) {
      const run = dump(...args, rootCache);
      const expected = lines.filter(keep);
      // Nothing matched: exit 1, as grep does (the header still says 0).
      expect(run.status, args.join(' ')).toBe(expected.length === 0 ? 1 : 0);
      const shown = latin1(run.stdout);
      expect(shown.split('\n')[0]).toBe(`${expected.length} libs found in cache \`${rootCache}'`);
      expect(entryLines(shown).map((l) => l.line)).toEqual(expected.map((l) => l.line));
      const json = JSON.parse(dump('--json', ...args, rootCache).stdout.toString()) as { count: number; entries: unknown[] };
      expect(json.count).toBe(expected.length);
      expect(json.entries.length).toBe(expected.length);
    }
  });

  it('--glibc 2.31 and 2.41 run and differ from 2.36 where spec 13.4 says', () => {
    const v36 = latin1(dump(rootCache).stdout);
    const v31 = latin1(dump('--glibc', '2.31', rootCache).stdout);
    const v41 = latin1(dump('--glibc', '2.41', rootCache).stdout);
    expect(v41).toBe(v36);
    expect(v31).not.toContain('Cache generated by');
    expect(v31).toMatch(/hwcap: 0x400000[0-9a-f]{10}\) => .*x86-64-v3/);
    // Any 2.N: 2.35 (Ubuntu 22.04) has hwcaps names and the generator line (2.33+), and 2.28
    // prints as the oldest known, 2.31; 2.40 as 2.41 here (libc6 types only in this cache).
    const v35 = latin1(dump('--glibc', '2.35', rootCache).stdout);
    expect(v35).toContain('Cache generated by');
    expect(v35).toMatch(/hwcap: "x86-64-v3"/);
    expect(latin1(dump('--glibc', '2.28', rootCache).stdout)).toBe(v31);
    expect(latin1(dump('--glibc', '2.40', rootCache).stdout)).toBe(v41);
    expect(dump('--help').stdout.toString()).toMatch(/2\.35 \(Ubuntu 22\.04\)/);
  });

  it('FILE - reads standard input (a pipe), printing as ldconfig -p -C - would', () => {
    const bytes = readFileSync(rootCache);
    const run = spawnSync(process.execPath, [bin, '-'], { input: bytes });
    expect(run.status).toBe(0);
    const expected = latin1(ldconfigPrint(rootCache).stdout).replace(`\`${rootCache}'`, "`-'");
    expect(latin1(run.stdout)).toBe(expected);
  });

  it('--json: flags as ldconfig words them, root when --root is given, errors as a JSON object too', () => {
    const all = entryLines(latin1(ldconfigPrint(rootCache).stdout));
    const doc = JSON.parse(dump('--json', rootCache).stdout.toString()) as { root?: string; entries: Array<{ flagsText: string }> };
    expect(doc.root).toBeUndefined();
    // ldconfig's "(libc6,x86-64, hwcap: ...)" starts with the same words.
    expect(doc.entries.map((e) => e.flagsText)).toEqual(all.map((l) => l.flags.split(', ')[0]));
    const rooted = JSON.parse(dump('--json', '--root', root).stdout.toString()) as { root?: string; file: string };
    expect([rooted.root, rooted.file]).toEqual([root, '/etc/ld.so.cache']);
    const missing = dump('--json', join(root, 'missing.cache'));
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.stdout.toString())).toEqual({ error: { code: 'READ_FAILED', message: 'No such file or directory', file: join(root, 'missing.cache'), offset: 0 } });
    expect(missing.stderr.toString()).toBe(`ldcache-dump: ${join(root, 'missing.cache')}: No such file or directory\n`);
    const ndjson = dump('--ndjson', '--arch', 'nonsense', rootCache);
    expect([ndjson.status, JSON.parse(ndjson.stdout.toString()).error.code]).toEqual([2, 'USAGE']);
  });

  it('ends quietly with exit 0 when the reader closes the pipe (| head -1)', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" "${bigCache}" | head -1`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`8000 libs found in cache \`${bigCache}'\n`);
  });

  it('writes through a file redirect and a pipe alike (one write, nothing lost)', () => {
    const out = join(temp!.dir, 'out.txt');
    mkdirSync(temp!.dir, { recursive: true });
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" "${bigCache}" > "${out}"`]);
    expect(r.status).toBe(0);
    expect(latin1(readFileSync(out))).toBe(latin1(ldconfigPrint(bigCache).stdout));
    expect(latin1(dump(bigCache).stdout)).toBe(latin1(ldconfigPrint(bigCache).stdout));
  });
});
