// Whole-process cost of `ldcache-dump` on a 200,000-entry cache (and the system cache), against
// glibc's own `ldconfig -p -C FILE` and `node -e 0` (the floor every Node CLI pays): CPU time
// (user + system) and peak RSS of each child, from GNU time (/usr/bin/time -f), output to
// /dev/null. Every command runs once per round, rounds interleaved so that a load change on a
// shared machine hits all alike; medians and the min-max spread are printed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCache } from './gen-cache.mjs';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'ldcache-dump.cjs');
const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => existsSync(p));
const gnuTime = '/usr/bin/time';
if (!existsSync(gnuTime)) {
  console.log('dump bench skipped: GNU time (/usr/bin/time, Debian package "time") is missing');
  process.exit(0);
}
const ROUNDS = Number(process.env.LDCACHE_BENCH_ROUNDS ?? 9);
const big = await benchCache(Number(process.env.LDCACHE_BENCH_ENTRIES ?? 200_000));
const small = await benchCache(20_000);
const work = mkdtempSync(join(tmpdir(), 'ldcache-dumpbench-'));

/** CPU ms (user + sys) and peak RSS (MB) of one run, output to /dev/null. */
function measure(argv) {
  const report = join(work, 'time.txt');
  const r = spawnSync(gnuTime, ['-o', report, '-f', '%U %S %M', ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  const [user, sys, rssKiB] = readFileSync(report, 'utf8').trim().split(/\s+/).map(Number);
  return { cpu: (user + sys) * 1000, rss: rssKiB / 1024 };
}

const node = process.execPath;
const tasks = [
  ['node -e 0', [node, '-e', '0']],
  ['ldconfig -p -C FILE', [ldconfig, '-p', '-C', big]],
  ['ldcache-dump FILE', [node, bin, big]],
  ['ldcache-dump --json FILE', [node, bin, '--json', big]],
  ['ldcache-dump --ndjson FILE', [node, bin, '--ndjson', big]],
  ['ldcache-dump --ndjson FILE (20,000 entries)', [node, bin, '--ndjson', small]],
  ['ldcache-dump --json FILE (20,000 entries)', [node, bin, '--json', small]],
  ['ldcache-dump /etc/ld.so.cache', [node, bin, '/etc/ld.so.cache']],
  ['ldconfig -p -C /etc/ld.so.cache', [ldconfig, '-p', '-C', '/etc/ld.so.cache']],
  // LDCACHE_BENCH_BEFORE=DIR: the same commands with another build's dist/ (before/after in one run).
  ...(process.env.LDCACHE_BENCH_BEFORE
    ? ['', '--json', '--ndjson'].map((mode) => [`before: ldcache-dump ${mode ? `${mode} ` : ''}FILE`, [node, join(process.env.LDCACHE_BENCH_BEFORE, 'dist', 'cli', 'ldcache-dump.cjs'), ...(mode ? [mode] : []), big]])
    : []),
].filter(([, argv]) => argv[0] !== undefined && (argv[argv.length - 1] !== '/etc/ld.so.cache' || existsSync('/etc/ld.so.cache')));

const samples = new Map(tasks.map(([name]) => [name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) for (const [name, argv] of tasks) samples.get(name).push(measure(argv));
} finally {
  rmSync(work, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const stat = (name, key) => {
  const xs = samples.get(name)?.map((s) => s[key]) ?? [];
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
};
console.log(`cache: ${big} (${(readFileSync(big).length / 1e6).toFixed(1)} MB); ${ROUNDS} rounds`);
console.table(tasks.map(([name]) => {
  const cpu = stat(name, 'cpu');
  const rss = stat(name, 'rss');
  return { task: name, 'CPU ms median': cpu.median.toFixed(0), 'CPU spread': `${cpu.min.toFixed(0)}-${cpu.max.toFixed(0)}`, 'peak RSS MB median': rss.median.toFixed(1), 'RSS spread': `${rss.min.toFixed(1)}-${rss.max.toFixed(1)}` };
}));

const cpu = (name) => stat(name, 'cpu').median;
const rss = (name) => stat(name, 'rss').median;
const verdict = (ok) => (ok ? 'ok' : 'MISSED');
const above = cpu('ldcache-dump FILE') - cpu('node -e 0');
console.log(`text: ldcache-dump minus node -e 0 = ${above.toFixed(0)} ms CPU; ldconfig -p ${cpu('ldconfig -p -C FILE').toFixed(0)} ms: ${(above / cpu('ldconfig -p -C FILE')).toFixed(2)}x  [goal <= 2x: ${verdict(above <= 2 * cpu('ldconfig -p -C FILE'))}]`);
console.log(`text: ldcache-dump / ldconfig -p whole process: CPU ${(cpu('ldcache-dump FILE') / cpu('ldconfig -p -C FILE')).toFixed(2)}x, peak RSS ${rss('ldcache-dump FILE').toFixed(0)} MB vs ${rss('ldconfig -p -C FILE').toFixed(0)} MB`);
for (const mode of ['--json', '--ndjson']) {
  const name = `ldcache-dump ${mode} FILE`;
  const c = cpu(name) / cpu('ldcache-dump FILE');
  const m = rss(name) / rss('ldcache-dump FILE');
  console.log(`${mode} / text: CPU ${c.toFixed(2)}x [goal <= 2x: ${verdict(c <= 2)}], peak RSS ${m.toFixed(2)}x [goal <= 2x: ${verdict(m <= 2)}]`);
}
// Flat: 10x the entries costs their input (the file is held once) and nothing per entry beyond it.
const growth = rss('ldcache-dump --ndjson FILE') - rss('ldcache-dump --ndjson FILE (20,000 entries)');
const inputGrowth = (readFileSync(big).length - readFileSync(small).length) / (1024 * 1024);
console.log(`--ndjson peak RSS 20,000 -> 200,000 entries: +${growth.toFixed(1)} MB for +${inputGrowth.toFixed(1)} MB of input (${(growth / inputGrowth).toFixed(2)} MB per MB of input) [flat: the output is not held]`);
const jsonGrowth = rss('ldcache-dump --json FILE') - rss('ldcache-dump --json FILE (20,000 entries)');
console.log(`--json peak RSS 20,000 -> 200,000 entries: +${jsonGrowth.toFixed(1)} MB`);
if (samples.has('ldcache-dump /etc/ld.so.cache')) {
  console.log(`system cache: ldcache-dump ${cpu('ldcache-dump /etc/ld.so.cache').toFixed(0)} ms CPU vs node -e 0 ${cpu('node -e 0').toFixed(0)} ms (${(cpu('ldcache-dump /etc/ld.so.cache') / cpu('node -e 0')).toFixed(2)}x), ldconfig -p ${cpu('ldconfig -p -C /etc/ld.so.cache').toFixed(0)} ms`);
}
