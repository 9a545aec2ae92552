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
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get') || process.env.LDCACHE_NO_APT) {
  console.error(`ensure-test-deps: missing ${missing.join(' ')}; tests that need them will skip`);
  process.exit(0);
}
console.error(`ensure-test-deps: installing ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
} catch (err) {
  console.error(`ensure-test-deps: apt-get failed (${err.message}); tests that need ${missing.join(' ')} will skip`);
}
