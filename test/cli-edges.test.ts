// The operator-facing edges of `nvidia-volume` and `nvidia-docker`, run as users run them (the
// built bin/ scripts in child processes) on real driver roots: "no driver" in one wording with
// its reason everywhere (a root whose kernel module reports a version but whose libraries are
// gone builds nothing), empty option values, unknown options and commands, --version, removing
// a mounted volume, device modes in JSON, and copy progress on a terminal only.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverDriver } from '../src/node/discover.js';
import { HostError } from '../src/node/errors.js';
import { DriverVolumePlugin } from '../src/node/plugin-handlers.js';
import { createDriverVolume } from '../src/node/volume.js';
import { buildDriverRoot, type DriverRoot } from './helpers/driver-root.js';
import { runCommand } from './helpers/dockerd.js';
import { need } from './helpers/requirements.js';

const execFileP = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const volumeBin = join(repo, 'bin/nvidia-volume.js');
const dockerBin = join(repo, 'bin/nvidia-docker.js');
if (!existsSync(join(repo, 'dist/cli/nvidia-volume.js'))) throw new Error('dist/ is not built: run npm run build first');

let built: DriverRoot;
/** A root whose kernel module says `built.version` but whose driver libraries were removed (the cache still lists them). */
let gone: DriverRoot;
let work: string;
let recorder: string;

beforeAll(async () => {
  [built, gone] = await Promise.all([buildDriverRoot({ i386: false }), buildDriverRoot({ i386: false, binaries: false, firmware: false })]);
  for (const library of gone.libraries) await rm(join(gone.root, library.path));
  work = await mkdtemp(join(tmpdir(), 'cli-edges-'));
  // Stands in for docker: records its argv, so a test sees whether it ran and with what; asked
  // for an image's Env (what the wrapper reads NVIDIA_VISIBLE_DEVICES from), it has none.
  recorder = join(work, 'docker-recorder');
  await writeFile(recorder, '#!/bin/sh\ncase " $* " in *" image inspect "*) echo null; exit 0;; esac\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  await chmod(recorder, 0o755);
});
afterAll(async () => {
  await Promise.all([built?.cleanup(), gone?.cleanup()]);
  if (work) await rm(work, { recursive: true, force: true });
});

const volume = (args: string[], env: NodeJS.ProcessEnv = {}) => runCommand(process.execPath, [volumeBin, ...args], { env: { ...process.env, ...env } });
const wrapper = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCommand(process.execPath, [dockerBin, ...args], { env: { ...process.env, NV_DOCKER: recorder, ...env } });

describe('no driver: one wording, with the reason, and nothing built', () => {
  it('refuses a root with a driver version but no driver library in create, cdi, docker-args, nvidia-docker and the plugin', async () => {
    const reason = `nvidia-volume: no NVIDIA driver found in ${gone.root}: the kernel module says ${gone.version}, but no library of that version was found`;
    const discover = await volume(['discover', '--root', gone.root]);
    expect(discover.code).toBe(1);
    expect(discover.stderr.startsWith(`${reason} (`)).toBe(true);
    const line = discover.stderr.slice('nvidia-volume: '.length);
    expect(line.split('\n')).toHaveLength(2); // one line
    // The example of what was rejected names its path once.
    const example = /\(\d+ rejected, e\.g\. (\S+): (.*)\)$/.exec(line.trimEnd());
    expect(example).not.toBeNull();
    expect(example![2]!.startsWith(example![1]!)).toBe(false);

    const dir = join(work, 'gone-volumes');
    const create = await volume(['create', '--root', gone.root, '--dir', dir]);
    expect([create.code, create.stdout, create.stderr]).toEqual([1, '', `nvidia-volume: ${line}`]);
    // Nothing built: no version directory, and `list` lists nothing.
    expect(existsSync(join(dir, 'nvidia_driver', gone.version))).toBe(false);
    expect((await volume(['list', '--dir', dir, '--json'])).stdout).toBe('[]\n');

    const cdi = await volume(['cdi', '--root', gone.root]);
    expect([cdi.code, cdi.stdout, cdi.stderr]).toEqual([1, '', `nvidia-volume: ${line}`]);
    const args = await volume(['docker-args', '--root', gone.root]);
    expect([args.code, args.stdout, args.stderr]).toEqual([1, '', `nvidia-volume: ${line}`]);
    const docker = await wrapper(['--root', gone.root, 'run', '--rm', 'img']);
    expect([docker.code, docker.stdout, docker.stderr]).toEqual([1, '', `nvidia-docker: ${line}`]);

    // The library says it by code: a HostError ENODRIVER about the root.
    const thrown = await createDriverVolume({ root: gone.root, dir }).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(HostError);
    expect([(thrown as HostError).code, (thrown as HostError).path, (thrown as HostError).message]).toEqual(['ENODRIVER', gone.root, line.trimEnd()]);

    const plugin = await DriverVolumePlugin.open({ name: 'gone', root: gone.root, dir, discover: async () => discoverDriver({ root: gone.root }) });
    expect(plugin.startupNotes()).toContain(line.trimEnd());
    const name = `nvidia_driver_${gone.version}`;
    expect((await plugin.handle('/VolumeDriver.Create', JSON.stringify({ Name: name }))).body.Err).toBe(`cannot create ${name}: ${line.trimEnd()}`);
    expect(existsSync(join(dir, 'nvidia_driver', gone.version))).toBe(false);
  });

  it('says the same for a root with no driver at all', async () => {
    const empty = await mkdtemp(join(work, 'empty-root-'));
    const lines = await Promise.all([
      volume(['discover', '--root', empty]),
      volume(['create', '--root', empty, '--dir', join(work, 'empty-volumes')]),
      volume(['cdi', '--root', empty]),
      volume(['docker-args', '--root', empty]),
    ]);
    const expected = `nvidia-volume: no NVIDIA driver found in ${empty}: no /proc/driver/nvidia/version, no ld.so.cache and no NVIDIA driver library in its library directories\n`;
    for (const result of lines) expect([result.code, result.stderr]).toEqual([1, expected]);
  });
});

describe('usage errors', () => {
  it('refuses an empty --root or --dir (exit 2) instead of using the current directory', async () => {
    const cwd = await mkdtemp(join(work, 'cwd-'));
    const cases: [string[], string][] = [
      [['discover', '--root', ''], 'root'],
      [['create', '--root', built.root, '--dir', ''], 'dir'],
      [['create', '--root='], 'root'],
      [['cdi', '--root', ''], 'root'],
      [['docker-args', '--root', ''], 'root'],
      [['list', '--dir', ''], 'dir'],
    ];
    for (const [args, option] of cases) {
      const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
        execFile(process.execPath, [volumeBin, ...args], { cwd }, (err, _stdout, stderr) => done({ code: err ? (err.code as number) : 0, stderr }));
      });
      expect([args, result.code, result.stderr.split('\n')[0]]).toEqual([args, 2, `nvidia-volume: option '--${option}' needs a non-empty value`]);
    }
    expect(await readdir(cwd)).toEqual([]);
    const docker = await wrapper(['--root', '', 'run', 'img']);
    expect([docker.code, docker.stdout]).toEqual([2, '']);
    expect(docker.stderr.split('\n')[0]).toBe("nvidia-docker: option '--root' needs a value");
  });

  it('names the closest option or command in one line, or lists the known ones', async () => {
    const typo = await volume(['create', '--rot', built.root]);
    expect([typo.code, typo.stderr]).toEqual([2, "nvidia-volume: unknown option '--rot' (did you mean '--root'?)\n"]);
    const swapped = await volume(['remove', '--froce', '1.2']);
    expect(swapped.stderr).toBe("nvidia-volume: unknown option '--froce' (did you mean '--force'?)\n");
    const far = await volume(['list', '--xyzzy']);
    expect([far.code, far.stderr]).toEqual([2, "nvidia-volume: unknown option '--xyzzy' (known: --dir, --json, --help, -h)\n"]);
    const command = await volume(['craete']);
    expect([command.code, command.stderr]).toEqual([2, "nvidia-volume: unknown command 'craete' (did you mean 'create'?)\n"]);
  });

  it('documents in --help every option each command accepts', async () => {
    // The options a parser accepts are the ones it lists for an unknown option; each must be in
    // that command's --help (ldcache-dump's --image and --image-ref, cdi's -o once were not);
    // --help itself is proven by printing it.
    const dumpBin = join(repo, 'bin/ldcache-dump.cjs');
    const commands: [bin: string, args: string[]][] = [
      [dumpBin, []],
      ...['discover', 'create', 'list', 'remove', 'plugin', 'docker-args', 'cdi', 'cdi list', 'cdi validate', 'install-services', 'check'].map(
        (command): [string, string[]] => [volumeBin, command.split(' ')],
      ),
    ];
    for (const [bin, args] of commands) {
      const unknown = await runCommand(process.execPath, [bin, ...args, '--zzzz-no-such-option']);
      const known = /\(known: ([^)]+)\)/.exec(unknown.stderr)?.[1]?.split(', ');
      expect([args, unknown.code, (known?.length ?? 0) > 1]).toEqual([args, 2, true]);
      const help = await runCommand(process.execPath, [bin, ...args, '--help']);
      expect([args, help.code]).toEqual([args, 0]);
      const undocumented = known!.filter((option) => option !== '--help' && option !== '-h' && !new RegExp(`(^|[\\s,\\[])${option}([\\s,=\\]]|$)`, 'm').test(help.stdout));
      expect([args, undocumented]).toEqual([args, []]);
    }
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(await volume(['--version'])).toEqual({ code: 0, stdout: `nvidia-volume ${pkg.version}\n`, stderr: '' });
  });
});

describe('--json', () => {
  it('prints a failure as a JSON object on stdout too, with its code', async () => {
    const empty = await mkdtemp(join(work, 'json-root-'));
    const none = await volume(['docker-args', '--root', empty, '--json']);
    expect(none.code).toBe(1);
    const printed = JSON.parse(none.stdout) as { error: { code: string; message: string; path: string; exitCode: number } };
    expect(printed).toEqual({ error: { code: 'ENODRIVER', message: none.stderr.slice('nvidia-volume: '.length).trimEnd(), path: empty, exitCode: 1 } });
    const missing = await volume(['discover', '--json', '--root', join(empty, 'missing')]);
    expect([missing.code, (JSON.parse(missing.stdout) as { error: { code: string } }).error.code]).toEqual([1, 'ENOENT']);
    const usage = await volume(['create', '--json', '--rot', empty]);
    expect([usage.code, JSON.parse(usage.stdout)]).toEqual([2, { error: { code: 'USAGE', message: "unknown option '--rot' (did you mean '--root'?)", exitCode: 2 } }]);
    // Without --json, stdout stays empty.
    expect((await volume(['docker-args', '--root', empty])).stdout).toBe('');
  });
});

describe('remove', () => {
  it('keeps a mounted volume and says how to force it; names the directory searched for a missing one', async () => {
    const dir = join(work, 'mounted');
    const plugin = await DriverVolumePlugin.open({ name: 'nvidia-docker', root: built.root, dir, discover: async () => discoverDriver({ root: built.root }) });
    const name = `nvidia_driver_${built.version}`;
    const mounted = await plugin.handle('/VolumeDriver.Mount', JSON.stringify({ Name: name, ID: 'c1' }));
    expect(mounted.body.Err).toBe('');
    const path = join(dir, 'nvidia_driver', built.version);
    const inode = (await lstat(path)).ino;

    const refused = await volume(['remove', '--dir', dir, name]);
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toBe(
      `nvidia-volume: ${path}: volume ${name} is mounted (1 mount recorded by the plugin); stop the containers using it, or add --force to remove it anyway (they lose their driver files)\n`,
    );
    expect((await lstat(path)).ino).toBe(inode);
    const forced = await volume(['remove', '--dir', dir, '--force', name]);
    expect([forced.code, forced.stdout]).toEqual([0, `removed ${name}\n`]);
    expect(existsSync(path)).toBe(false);

    const missing = await volume(['remove', '--dir', dir, '1.2.3']);
    expect([missing.code, missing.stderr]).toEqual([1, `nvidia-volume: no volume nvidia_driver_1.2.3 in ${join(dir, 'nvidia_driver')}\n`]);
  });
});

describe('discover --json', () => {
  it('prints device modes as octal strings, as stat shows them', async (ctx) => {
    need(ctx, !built.devicesCreated && `device nodes are needed: ${built.devicesSkipReason}`);
    const printed = JSON.parse((await volume(['discover', '--root', built.root, '--json'])).stdout) as { devices: { path: string; mode: unknown }[] };
    expect(printed.devices.length).toBe(built.devices.length);
    for (const device of printed.devices) {
      const { stdout } = await execFileP('stat', ['-c', '%a', join(built.root, device.path)]);
      expect(device.mode).toBe(stdout.trim().padStart(4, '0'));
    }
  });
});

describe('create progress', () => {
  it('shows progress on a terminal and nothing when piped', async () => {
    // `script` gives the command a pseudo-terminal as stdin, stdout and stderr.
    const dir = join(work, 'progress');
    const command = `${process.execPath} ${volumeBin} create --copy --json --root ${built.root} --dir ${dir}`;
    const tty = await runCommand('script', ['-qec', command, '/dev/null']);
    expect(tty.code).toBe(0);
    const files = (JSON.parse(tty.stdout.slice(tty.stdout.indexOf('{'))) as { files: number }).files;
    expect(tty.stdout).toMatch(new RegExp(`\\rplacing driver files: ${files}/${files} files, [0-9.]+ MB\\x1b\\[K\\r?\\n`));
    expect(tty.stdout).toContain(`placing driver files: 0/${files} files`);

    await rm(dir, { recursive: true });
    await mkdir(dir);
    const piped = await volume(['create', '--copy', '--root', built.root, '--dir', dir]);
    expect([piped.code, piped.stderr]).toEqual([0, '']);
    expect(piped.stdout).toMatch(/^created /);
  });
});
