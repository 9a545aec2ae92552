// The operator's install: `npm pack` of this repository, `npm install -g --prefix P` of the
// tarball (offline: the package has no runtime dependencies, and installing it builds nothing),
// each command run from P/bin with a PATH and working directory that know nothing of the repo,
// the systemd units installed from there and checked by `systemd-analyze verify`, and the
// uninstall.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeNeeding } from './helpers/requirements.js';
import { buildSharedObject, canBuild, ldconfigPrint, runLdconfig } from './helpers/so-builder.js';

const repo = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

const missing =
  (!existsSync(join(repo, 'dist/cli/nvidia-volume.js')) && 'dist/ is not built (npm run build)') ||
  (!has('npm') && 'npm is not on PATH') ||
  (!has('systemd-analyze') && 'systemd-analyze is not installed (node scripts/ensure-test-deps.mjs installs systemd)') ||
  (!canBuild(64) && 'gcc cannot build 64-bit shared objects');

describeNeeding('npm pack + npm install -g --prefix: the commands, the services, the uninstall', missing, () => {
  let work: string;
  let prefix: string;
  let tarball: string;
  let install: SpawnSyncReturns<string>;
  // Only the prefix's bin and the system directories (node itself may live elsewhere).
  let env: NodeJS.ProcessEnv;

  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: work, env, encoding: 'utf8' });
  const npm = (args: string[]) =>
    spawnSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--no-update-notifier'], { cwd: work, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ldcache-install-'));
    prefix = join(work, 'prefix');
    // dist/ is already built (npm test builds first); `npm pack` would run `prepare` to build it again.
    const packed = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repo, encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
    tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
    install = npm(['install', '-g', '--prefix', prefix, '--foreground-scripts', tarball]);
    env = { PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':'), HOME: work, LC_ALL: 'C' };
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the tarball carries the build, the bins and the units, and no sources, tests or dev tools', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const file of ['package.json', 'README.md', 'bin/ldcache-dump.cjs', 'bin/nvidia-volume.js', 'bin/nvidia-docker.js', 'dist/cli/ldcache-dump.cjs',
      'dist/cli/nvidia-volume.js', 'dist/cli/nvidia-volume/cdi-list.js', 'dist/node/index.js', 'dist/index.d.ts', 'dist/inspector.html',
      'systemd/nvidia-volume-plugin.service', 'systemd/nvidia-cdi-refresh.service', 'systemd/nvidia-cdi-refresh.path']) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((f) => /^(src|test|assembly|scripts|bench|node_modules)\//.test(f))).toEqual([]);
  });

  it('installs offline without building anything, and puts the three commands in PREFIX/bin', () => {
    expect(install.status, install.stderr).toBe(0);
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/scripts\/build\.mjs|asc |assemblyscript|tsc /);
    const installed = join(prefix, 'lib/node_modules', pkg.name);
    expect(existsSync(join(installed, 'assembly'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false); // no dependencies were installed
    for (const command of ['ldcache-dump', 'nvidia-volume', 'nvidia-docker']) {
      const found = run('sh', ['-c', `command -v ${command}`]);
      expect(found.stdout.trim(), command).toBe(join(prefix, 'bin', command));
      expect(realpathSync(found.stdout.trim()).startsWith(`${realpathSync(installed)}/bin/`), command).toBe(true);
    }
  });

  it('each command runs from the prefix: --version, --help', () => {
    const version = run('ldcache-dump', ['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`ldcache-dump ${pkg.version}\n`);
    const dumpHelp = run('ldcache-dump', ['--help']);
    expect(dumpHelp.status).toBe(0);
    expect(dumpHelp.stdout).toMatch(/^Usage: ldcache-dump/);
    const volumeVersion = run('nvidia-volume', ['--version']);
    expect(volumeVersion.status).toBe(0);
    expect(volumeVersion.stdout).toBe(`nvidia-volume ${pkg.version}\n`);
    const volumeHelp = run('nvidia-volume', ['--help']);
    expect(volumeHelp.status).toBe(0);
    expect(volumeHelp.stdout).toMatch(/^Usage: nvidia-volume COMMAND/);
    expect(volumeHelp.stdout).toMatch(/install-services/);
    const cdiHelp = run('nvidia-volume', ['cdi', 'list', '--help']);
    expect(cdiHelp.stdout).toMatch(/^Usage: nvidia-volume cdi list/);
    const dockerHelp = run('nvidia-docker', ['--help']);
    expect(dockerHelp.status).toBe(0);
    expect(dockerHelp.stdout).toMatch(/^Usage: nvidia-docker/);
  });

  it('ldcache-dump from the prefix prints a cache written by the real ldconfig exactly as `ldconfig -p`', async () => {
    const libs = join(work, 'libs');
    await mkdir(libs);
    buildSharedObject({ dir: libs, file: 'libinstalled.so.3.1', soname: 'libinstalled.so.3' });
    buildSharedObject({ dir: libs, file: 'libother.so.1', soname: 'libother.so.1' });
    const conf = join(work, 'ld.so.conf');
    await writeFile(conf, `${libs}\n`);
    const cache = join(work, 'ld.so.cache');
    const made = runLdconfig(['-C', cache, '-f', conf]);
    expect(made.status, made.stderr.toString()).toBe(0);
    const dumped = spawnSync('ldcache-dump', [cache], { cwd: work, env });
    expect(dumped.status, dumped.stderr.toString()).toBe(0);
    const want = ldconfigPrint(cache).stdout;
    expect(want.toString()).toContain(`libinstalled.so.3 (libc6,x86-64) => ${libs}/libinstalled.so.3`);
    expect(dumped.stdout.equals(want)).toBe(true);
  });

  it('install-services from the prefix writes units that run this node and this nvidia-volume; systemd-analyze verify accepts them; --remove removes them', async () => {
    const units = join(work, 'units');
    const installed = run('nvidia-volume', ['install-services', '--unit-dir', units, '--no-enable']);
    expect(installed.status, installed.stderr).toBe(0);
    const names = readdirSync(units).sort();
    expect(names).toEqual(['nvidia-cdi-refresh.path', 'nvidia-cdi-refresh.service', 'nvidia-volume-plugin.service']);
    const command = `${process.execPath} ${join(prefix, 'bin/nvidia-volume')}`;
    const plugin = await readFile(join(units, 'nvidia-volume-plugin.service'), 'utf8');
    expect(plugin).toMatch(new RegExp(`^ExecStart=${command.replace(/[.+]/g, '\\$&')} plugin$`, 'm'));
    expect(plugin).toMatch(/^Before=docker\.service$/m);
    const refresh = await readFile(join(units, 'nvidia-cdi-refresh.service'), 'utf8');
    expect(refresh).toMatch(new RegExp(`^ExecStart=${command.replace(/[.+]/g, '\\$&')} cdi --remove-if-no-driver --output /var/run/cdi/nvidia\\.yaml$`, 'm'));
    // The refresh must see the host's /tmp: the spec mounts MPS's pipe directory there, and
    // the path unit reruns it when MPS makes that directory.
    expect(refresh).not.toMatch(/^PrivateTmp=(?!no|false)/m);
    expect(await readFile(join(units, 'nvidia-cdi-refresh.path'), 'utf8')).toMatch(/^PathChanged=\/tmp\/nvidia-mps$/m);
    // Any local user can create and remove /tmp/nvidia-mps in a loop: with systemd's default start
    // limit (5 starts in 10 s) the refresh would fail with start-limit-hit, and the path unit with
    // it, ending every watch (driver upgrades included). The limit is off, in the [Unit] section.
    expect(refresh.slice(refresh.indexOf('[Unit]'), refresh.indexOf('[Service]'))).toMatch(/^StartLimitIntervalSec=0$/m);
    // The repository's own files appear nowhere in what the services run.
    expect(`${plugin}${refresh}`).not.toContain(repo);

    // verify loads each unit, checks its settings and that each ExecStart program is executable.
    const verify = spawnSync('systemd-analyze', ['verify', ...names.map((n) => join(units, n))], { encoding: 'utf8' });
    expect(`${verify.stdout}${verify.stderr}`.trim()).toBe('');
    expect(verify.status).toBe(0);
    // It does check: the shipped unit names a command that is not installed here.
    const shipped = spawnSync('systemd-analyze', ['verify', join(repo, 'systemd/nvidia-volume-plugin.service')], { encoding: 'utf8' });
    expect(existsSync('/usr/local/bin/nvidia-volume') || /nvidia-volume is not executable/.test(shipped.stderr)).toBe(true);

    // The plugin unit's own command line starts the plugin (on a private socket here) and
    // SIGTERM, what systemd sends on stop, removes its socket.
    const words = /^ExecStart=(.*)$/m.exec(plugin)![1]!.split(' ');
    const socket = join(work, 'p.sock');
    const child = spawn(words[0]!, [...words.slice(1), '--socket', socket, '--name', `install-test-${process.pid}`, '--dir', join(work, 'volumes')], { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + 20_000;
    while (!log.includes('listening on') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain(`listening on ${socket}`);
    expect(lstatSync(socket).isSocket()).toBe(true);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);

    const removed = run('nvidia-volume', ['install-services', '--remove', '--unit-dir', units, '--no-enable']);
    expect(removed.status, removed.stderr).toBe(0);
    expect(readdirSync(units)).toEqual([]);
  });

  it('npm uninstall -g --prefix removes the commands and the package', () => {
    const removed = npm(['uninstall', '-g', '--prefix', prefix, pkg.name]);
    expect(removed.status, removed.stderr).toBe(0);
    for (const command of ['ldcache-dump', 'nvidia-volume', 'nvidia-docker']) expect(existsSync(join(prefix, 'bin', command)), command).toBe(false);
    expect(existsSync(join(prefix, 'lib/node_modules', pkg.name))).toBe(false);
    expect(run('sh', ['-c', 'command -v nvidia-volume']).status).not.toBe(0);
  });
});
