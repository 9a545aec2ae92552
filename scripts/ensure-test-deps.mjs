#!/usr/bin/env node
// Installs the Debian packages that the test suite drives for real (Docker engine, Podman,
// Chromium, qemu for a foreign-architecture ldconfig). Runs before `npm test`; does nothing
// when everything is present. Without root or apt it only reports what is missing: the tests
// that need a missing tool then skip and say why. On CI (CI=true) every component must be
// there: a missing one that cannot be installed (no root, no apt, apt failing, a package that
// installs but does not provide its command) makes this script exit 1 with the reason, and the
// tests that need it would fail rather than skip (test/helpers/requirements.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// command that proves the package is there -> Debian package
const needs = [
  ['gcc', 'gcc'],
  ['ldconfig', 'libc-bin'],
  ['dockerd', 'docker.io'],
  ['busybox', 'busybox-static'],
  ['podman', 'podman'],
  ['runc', 'runc'],
  ['chromium', 'chromium'],
  ['qemu-s390x-static', 'qemu-user-static'],
  ['unshare', 'util-linux'],
  ['file', 'file'],
  // systemd-analyze verify checks the shipped units (it needs no running systemd).
  ['systemd-analyze', 'systemd'],
  // Peak memory of a CLI run (hostile-paths tests) and binutils' readelf (ELF reader tests).
  ['/usr/bin/time', 'time'],
  ['readelf', 'binutils'],
  // An independent YAML reader for the CDI YAML round-trip tests.
  ["python3 -c 'import yaml'", 'python3-yaml'],
  // Image tests: a zstd layer (hostile archives), Debian 11's libc6 and musl unpacked by dpkg-deb.
  ['zstd', 'zstd'],
  ['dpkg-deb', 'dpkg'],
  // Podman 5: a Debian 13 chroot (scripts/fixtures/podman5.sh).
  ['debootstrap', 'debootstrap'],
  ['chroot', 'coreutils'],
];

const has = (cmd) => spawnSync('sh', ['-c', cmd.includes(' ') ? cmd : `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
  || existsSync(`/usr/sbin/${cmd}`) || existsSync(`/sbin/${cmd}`);

const onCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const missingNow = () => [...new Set(needs.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];

/** Locally: report and go on (the tests skip with the reason). On CI: fail with the reason. */
function unavailable(why) {
  if (onCI) {
    console.error(`ensure-test-deps: ${why}; on CI every test component must be set up, failing`);
    process.exit(1);
  }
  console.error(`ensure-test-deps: ${why}; tests that need them will skip`);
}

const missing = missingNow();
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && has('apt-get') && !process.env.LDCACHE_NO_APT;

if (missing.length > 0 && !canApt) {
  const why = !isRoot ? 'not root' : !has('apt-get') ? 'no apt-get' : 'LDCACHE_NO_APT is set';
  unavailable(`missing ${missing.join(' ')} and cannot apt-get install (${why})`);
} else if (missing.length > 0) {
  console.error(`ensure-test-deps: installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } catch (err) {
    unavailable(`apt-get failed (${err.message}) installing ${missing.join(' ')}`);
  }
  const still = missingNow();
  if (still.length > 0) unavailable(`${still.join(' ')} installed but its command is still missing`);
}

// Docker Engine 26 (CDI) from Debian 13's packages, unpacked into a per-machine cache (~63 MB
// once; nothing is installed). Locally a failure is reported again, as a skip, by the test.
if (canApt) {
  const script = new URL('./fixtures/docker26.sh', import.meta.url).pathname;
  const got = spawnSync('sh', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (got.status !== 0) unavailable('Docker 26 could not be fetched (scripts/fixtures/docker26.sh); test/cdi-docker26.test.ts will say why');
}

// Podman 5 (CDI) in a Debian 13 minbase chroot made by debootstrap, kept per machine (about
// 190 MB on disk, built once). Locally a failure is reported again, as a skip, by the test.
if (canApt) {
  const script = new URL('./fixtures/podman5.sh', import.meta.url).pathname;
  const got = spawnSync('sh', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (got.status !== 0) unavailable('the Podman 5 chroot could not be built (scripts/fixtures/podman5.sh); test/cdi-podman5.test.ts will say why');
}
