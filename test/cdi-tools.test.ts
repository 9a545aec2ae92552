// The operator's CDI commands on real spec files: `nvidia-volume cdi list` (the devices the specs in
// the spec directories define), `nvidia-volume cdi validate FILE` (strict, one line per problem),
// the YAML reader they use (checked against Python's PyYAML as an independent reader), and the
// refresh behaviour of `cdi --output` (an unchanged spec is left untouched, a driver upgrade
// replaces it atomically).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toYaml } from '../src/core/cdi-yaml.js';
import { parseYaml } from '../src/core/yaml-read.js';
import { gpusByIndex } from './helpers/cdi-expect.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { describeNeeding, need } from './helpers/requirements.js';

const repo = resolve(import.meta.dirname, '..');
const cli = (args: string[]) => spawnSync(process.execPath, [join(repo, 'bin/nvidia-volume.js'), ...args], { encoding: 'utf8' });
const hasPyYaml = spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;

/** PyYAML's reading of `text` (safe_load), as JSON. */
function pyYaml(text: string): unknown {
  return JSON.parse(execFileSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: text, encoding: 'utf8' }));
}

// nvidia-ctk's layout (Go yaml: sequences at their key's indentation, plain scalars, a `---`).
const ctkStyle = `---
cdiVersion: 0.5.0
containerEdits:
  deviceNodes:
  - path: /dev/nvidia-modeset
  - path: /dev/nvidiactl
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  hooks:
  - args:
    - nvidia-cdi-hook
    - create-symlinks
    - --link
    - libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so
    hookName: createContainer
    path: /usr/bin/nvidia-cdi-hook
  mounts:
  - containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.535.261.03
    hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.535.261.03
    options:
    - ro
    - nosuid
    - nodev
    - bind
devices:
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: "0"
- containerEdits:   # the whole set
    deviceNodes: [{path: /dev/nvidia0}, {path: '/dev/nvidia1'}]
  name: all
kind: nvidia.com/gpu
`;

describeNeeding('YAML reader (PyYAML as the reference)', !hasPyYaml && 'python3-yaml is not installed (node scripts/ensure-test-deps.mjs)', () => {
  it.each([
    ['nvidia-ctk layout', ctkStyle],
    ['scalars and quoting', `a: 'it''s'\nb: "tab\\tand \\u00e9 \\"q\\""\nc: ~\nd: -12\ne: 1.5e+3\nf: true\ng: 0.5.0\nh: /x#y\ni: v # comment\nj: []\nk: {}\n`],
    ['nested sequences', 'top:\n  - - 1\n    - two\n  -\n    k: v\n  - [a, "b, c", {x: y}]\n'],
  ])('%s: same value as PyYAML', (_, text) => {
    expect(parseYaml(text)).toEqual(pyYaml(text));
  });

  it('reads what the spec writer emits, for a spec with awkward strings', () => {
    const doc = { cdiVersion: '0.5.0', kind: 'a.b/c', devices: [{ name: '0', containerEdits: { env: ['A=: #x', "q='\"", 'nl=\n', 'yes', '0x10', 'é\u0085'] } }] };
    const text = toYaml(doc);
    expect(pyYaml(text)).toEqual(doc);
    expect(parseYaml(text)).toEqual(doc);
  });

});

describe('YAML reader: what it does not read is an error naming the line', () => {
  it.each([
    ['a: &x 1\n', 1, /anchors/],
    ['a:\n  b: |\n    text\n', 2, /block scalars/],
    ['a: b\n  c: d\n', 2, /indentation/],
    ['a: 1\nb: 2\na: 3\n', 3, /duplicate key 'a'/],
    ['a: 1\n---\nb: 2\n', 2, /one document/],
    ['a: "open\n', 1, /does not end/],
    ['a:\n\t- x\n', 2, /tab/],
    [`a: ${'['.repeat(100_000)}\n`, 1, /nesting deeper than 200 levels/],
    [Array.from({ length: 5000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'), 201, /nesting deeper than 200 levels/],
  ])('refuses %j at line %i', (text, line, message) => {
    expect(() => parseYaml(text)).toThrow(new RegExp(`^line ${line}: `));
    expect(() => parseYaml(text)).toThrow(message);
  });
});

describeNeeding('nvidia-volume cdi list / validate / --output on real spec files', !hasPyYaml && 'python3-yaml is not installed (node scripts/ensure-test-deps.mjs)', () => {
  let work: string;
  let built: DriverRoot;
  let upgraded: DriverRoot;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cdi-tools-'));
    [built, upgraded] = await Promise.all([
      buildDriverRoot({ gpus: 2, i386: false }),
      buildDriverRoot({ gpus: 2, i386: false, version: '550.163.01' }),
    ]);
  });
  afterAll(async () => {
    await built?.cleanup();
    await upgraded?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('list: every device the generated spec defines (by index, by UUID, all), from YAML and JSON, in both directories', async () => {
    const etc = join(work, 'etc-cdi');
    const run = join(work, 'run-cdi');
    const yaml = cli(['cdi', '--root', built.root, '--output', join(etc, 'nvidia.yaml')]);
    expect(yaml.status, yaml.stderr).toBe(0);
    // A second vendor's spec, written by hand, and a directory that does not exist (skipped, as engines do).
    await mkdir(run);
    await writeFile(join(run, 'other.json'), JSON.stringify({ cdiVersion: '0.3.0', kind: 'example.com/fpga', devices: [{ name: 'f1', containerEdits: { env: ['F=1'] } }] }));
    const listed = cli(['cdi', 'list', '--spec-dir', etc, '--spec-dir', run, '--spec-dir', join(work, 'missing')]);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    const gpus = gpusByIndex(built);
    const want = ['example.com/fpga=f1', ...gpus.map((_, i) => `nvidia.com/gpu=${i}`), ...gpus.map((g) => `nvidia.com/gpu=${g.uuid}`), 'nvidia.com/gpu=all'];
    expect(listed.stdout.trimEnd().split('\n').sort()).toEqual(want.sort());
    // One per line, kind=name, and nothing else on stdout.
    expect(listed.stdout).toMatch(/^([a-z0-9.-]+\/[a-z0-9_.-]+=[A-Za-z0-9_.:-]+\n)+$/);
  });

  it('list: a spec an engine would refuse gives no devices and one warning naming the file; the others still list', async () => {
    const dir = join(work, 'mixed');
    await mkdir(dir);
    await writeFile(join(dir, 'good.yaml'), 'cdiVersion: 0.3.0\nkind: example.com/a\ndevices:\n- name: one\n  containerEdits:\n    env: [A=1]\n');
    await writeFile(join(dir, 'newer-field.json'), JSON.stringify({ cdiVersion: '0.5.0', kind: 'example.com/b', annotations: { x: 'y' }, devices: [{ name: 'two', containerEdits: { env: ['B=1'] } }] }));
    await writeFile(join(dir, 'broken.yaml'), 'cdiVersion: 0.5.0\nkind: example.com/c\ndevices:\n- name: &a three\n');
    await writeFile(join(dir, 'notes.txt'), 'not a spec');
    await symlink(join(dir, 'good.yaml'), join(dir, '.hidden.yaml'));
    // A FIFO would block a plain read forever; nothing writes to it.
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    const listed = spawnSync(process.execPath, [join(repo, 'bin/nvidia-volume.js'), 'cdi', 'list', '--spec-dir', dir], { encoding: 'utf8', timeout: 20_000 });
    expect(listed.signal).toBe(null);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toBe('example.com/a=one\n');
    const warnings = listed.stderr.trimEnd().split('\n');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe(`nvidia-volume cdi list: warning: skipped ${join(dir, 'broken.yaml')}: line 4: anchors and aliases are not supported`);
    expect(warnings[1]).toBe(`nvidia-volume cdi list: warning: skipped ${join(dir, 'fifo.yaml')}: not a regular file`);
    expect(warnings[2]).toMatch(new RegExp(`^nvidia-volume cdi list: warning: skipped ${join(dir, 'newer-field.json')}: annotations: .*0\\.6\\.0`));
  });

  it('validate: a generated spec (YAML and JSON) is valid, exit 0', async () => {
    const json = join(work, 'v.json');
    expect(cli(['cdi', '--root', built.root, '--output', json]).status).toBe(0);
    const yaml = join(work, 'v.yaml');
    await writeFile(yaml, ctkStyle);
    const result = cli(['cdi', 'validate', json, yaml]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^${json}: valid \\(cdiVersion 0\\.5\\.0.*\\n${yaml}: valid \\(cdiVersion 0\\.5\\.0.*2 devices of nvidia\\.com/gpu\\)\\n$`));
  });

  it('validate: one line per problem, naming the file and the place, exit 1', async () => {
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, [
      'cdiVersion: 0.5.0',
      'kind: nvidia.com/gpu',
      'devices:',
      '- name: "bad name!"',
      '  containerEdits:',
      '    deviceNodes:',
      '    - path: dev/nvidia0', // relative
      '    mounts:',
      '    - hostPath: /x',
      '      containerPath: /x',
      '      sharing: yes', // unknown field
      'containerEdits:',
      '  intelRdt: {closID: x}', // 0.7.0
      '',
    ].join('\n'));
    const result = cli(['cdi', 'validate', bad]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(line.startsWith(`${bad}: `), line).toBe(true);
    expect(result.stderr).toMatch(/devices\[0\]\.name: /);
    expect(result.stderr).toMatch(/devices\[0\]\.containerEdits\.deviceNodes\[0\]\.path: /);
    expect(result.stderr).toMatch(/devices\[0\]\.containerEdits\.mounts\[0\]\.sharing: /);
    expect(result.stderr).toMatch(/containerEdits\.intelRdt: .*0\.7\.0/);
  });

  it('validate: unreadable, unparsable and non-spec files get one line each, exit 1', async () => {
    const truncated = join(work, 'trunc.json');
    await writeFile(truncated, '{"cdiVersion": "0.5.0", "kind": ');
    const notObject = join(work, 'list.yaml');
    await writeFile(notObject, '- a\n- b\n');
    const result = cli(['cdi', 'validate', truncated, notObject, join(work, 'absent.yaml'), work]);
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^${truncated}: .*JSON`));
    expect(lines[1]).toMatch(new RegExp(`^${notObject}: `));
    expect(lines[2]).toBe(`${join(work, 'absent.yaml')}: no such file`);
    expect(lines[3]).toBe(`${work}: is a directory`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('cdi --output: an unchanged spec is left untouched (inode, mtime); a driver upgrade writes the new one in place of it', async () => {
    const out = join(work, 'refresh', 'nvidia.yaml');
    expect(cli(['cdi', '--root', built.root, '--output', out]).status).toBe(0);
    const first = await stat(out);
    const firstText = await readFile(out, 'utf8');
    await new Promise((r) => setTimeout(r, 20)); // so that a rewrite would show in mtime
    expect(cli(['cdi', '--root', built.root, '--output', out]).status).toBe(0);
    const again = await stat(out);
    expect([again.ino, again.mtimeMs, again.ctimeMs]).toEqual([first.ino, first.mtimeMs, first.ctimeMs]);

    // The upgrade: the same root path now holds the 550 driver.
    const old = `${built.root}.old`;
    await rename(built.root, old);
    await rename(upgraded.root, built.root);
    try {
      const result = cli(['cdi', '--root', built.root, '--output', out]);
      expect(result.status, result.stderr).toBe(0);
    } finally {
      await rename(built.root, upgraded.root);
      await rename(old, built.root);
    }
    const after = await stat(out);
    const text = await readFile(out, 'utf8');
    expect(after.ino).not.toBe(first.ino); // renamed into place, not rewritten in place
    expect(after.mode & 0o777).toBe(0o644);
    expect(firstText).toContain('libcuda.so.535.261.03');
    expect(text).toContain('libcuda.so.550.163.01');
    expect(text).not.toContain('535.261.03');
    expect(parseYaml(text)).toEqual(pyYaml(text));
  });

  it("the refresh service's own command (systemd/nvidia-cdi-refresh.service), in a private /run: writes, keeps an unchanged spec, follows an upgrade, removes the spec when the driver is gone", async (ctx) => {
    need(ctx, process.getuid?.() !== 0 && 'needs root for a private mount namespace with its own /run');
    const unit = await readFile(join(repo, 'systemd/nvidia-cdi-refresh.service'), 'utf8');
    const words = /^ExecStart=(\S+) (.*)$/m.exec(unit)![2]!.split(' ');
    expect(words).toContain('/var/run/cdi/nvidia.yaml');
    const spec = '/var/run/cdi/nvidia.yaml';
    const cmd = (root: string): string => [process.execPath, join(repo, 'bin/nvidia-volume.js'), ...words, '--root', root].map((w) => `'${w}'`).join(' ');
    const empty = join(work, 'no-driver-root');
    await mkdir(join(empty, 'etc'), { recursive: true });
    const old = `${built.root}.old`;
    const script = [
      'set -e',
      'mount -t tmpfs private-run /run',
      `${cmd(built.root)}`, `stat -c 'A %i %Y %s' ${spec}`, `sha256sum ${spec}`,
      'sleep 1.1', // a rewrite would show in the mtime's seconds
      `${cmd(built.root)}`, `stat -c 'B %i %Y %s' ${spec}`,
      // The upgrade: the same root path now holds the 550 driver.
      `mv '${built.root}' '${old}'`, `mv '${upgraded.root}' '${built.root}'`,
      `${cmd(built.root)} || true`, `mv '${built.root}' '${upgraded.root}'`, `mv '${old}' '${built.root}'`,
      `stat -c 'C %i %Y %s' ${spec}`, `grep -c 'libcuda.so.550.163.01' ${spec}`, `grep -c 'libcuda.so.535.261.03' ${spec} || true`,
      // The driver removed.
      `${cmd(empty)} 2>&1`, `test -e ${spec} && echo D-still-there || echo D-removed`,
    ].join('\n');
    const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const line = (tag: string): string[] => new RegExp(`^${tag} (.*)$`, 'm').exec(result.stdout)![1]!.split(' ');
    const [a, b, c] = [line('A'), line('B'), line('C')];
    expect(b).toEqual(a); // inode, mtime, size: untouched
    expect(c[0]).not.toBe(a[0]);
    expect(result.stdout).toMatch(/^[1-9]\d*\n0\n/m); // the 550 library is there, no 535 one
    expect(result.stdout).toContain(`no NVIDIA driver found in ${empty}`);
    expect(result.stdout).toMatch(/D-removed/);
    // The host's own /run was never touched.
    expect(existsSync(spec) && (await readFile(spec, 'utf8')).includes(built.root)).toBe(false);
  });

  it('cdi --output replaces a planted symlink instead of trusting or following it', async () => {
    const dir = join(work, 'planted');
    await mkdir(dir);
    const target = join(work, 'victim.yaml');
    const out = join(dir, 'nvidia.yaml');
    // The link points at a file that already holds exactly the spec: still not "up to date".
    expect(cli(['cdi', '--root', built.root, '--output', target]).status).toBe(0);
    const victim = await readFile(target);
    const victimStat = await stat(target);
    await symlink(target, out);
    expect(cli(['cdi', '--root', built.root, '--output', out]).status).toBe(0);
    const placed = await stat(out);
    expect(placed.ino).not.toBe(victimStat.ino);
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    expect(await readFile(target)).toEqual(victim);
    expect((await stat(target)).mtimeMs).toBe(victimStat.mtimeMs);
  });
});
