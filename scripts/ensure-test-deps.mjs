#!/usr/bin/env node
// Installs the Debian packages that the test suite drives for real (Docker engine, Podman,
// Chromium, qemu for a foreign-architecture ldconfig). Runs before `npm test`; does nothing
// when everything is present. Without root or apt it only reports what is missing: the tests
// that need a missing tool then skip and say why.
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
  // An independent YAML reader for the CDI YAML round-trip tests.
  ["python3 -c 'import yaml'", 'python3-yaml'],
];

const has = (cmd) => spawnSync('sh', ['-c', cmd.includes(' ') ? cmd : `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
  || existsSync(`/usr/sbin/${cmd}`) || existsSync(`/sbin/${cmd}`);

const missing = [...new Set(needs.filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && has('apt-get') && !process.env.LDCACHE_NO_APT;

if (missing.length > 0 && !canApt) {
  console.error(`ensure-test-deps: missing ${missing.join(' ')}; tests that need them will skip`);
} else if (missing.length > 0) {
  console.error(`ensure-test-deps: installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } catch (err) {
    console.error(`ensure-test-deps: apt-get failed (${err.message}); tests that need ${missing.join(' ')} will skip`);
  }
}

// Docker Engine 26 (CDI) from Debian 13's packages, unpacked into a per-machine cache (~63 MB
// once; nothing is installed). A failure here is reported again, as a failure, by the test.
if (canApt) {
  const script = new URL('./fixtures/docker26.sh', import.meta.url).pathname;
  const got = spawnSync('sh', [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (got.status !== 0) console.error('ensure-test-deps: Docker 26 could not be fetched; test/cdi-docker26.test.ts will say why');
}
