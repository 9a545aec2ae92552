// Whole-process cost of `ldcache-dump` on the system cache, against `node -e 0` (the floor any
// Node CLI pays; target < 1.3x) and against glibc's own `ldconfig -p`. Output goes to /dev/null.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ldcache-dump.js');
const cache = process.env.LDCACHE_BENCH_CACHE ?? '/etc/ld.so.cache';
const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => existsSync(p));

function run(command, args) {
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

const bench = new Bench({ time: Number(process.env.LDCACHE_BENCH_MS ?? 5000), iterations: 20, warmupTime: 300 });
bench.add('node -e 0', () => run(process.execPath, ['-e', '0']));
bench.add(`ldcache-dump ${cache}`, () => run(process.execPath, [bin, cache]));
if (ldconfig) bench.add(`ldconfig -p -C ${cache}`, () => run(ldconfig, ['-p', '-C', cache]));
await bench.run();

const median = (t) => t.result.latency.p50;
console.table(bench.tasks.map((t) => ({ task: t.name, 'median ms': median(t).toFixed(1), 'mean ms': t.result.latency.mean.toFixed(1), 'min ms': t.result.latency.min.toFixed(1) })));
// On a shared machine the minimum is the least disturbed run: print ratios of both.
for (const [what, stat] of [['median', median], ['min', (t) => t.result.latency.min]]) {
  const [floor, dump, glibc] = bench.tasks.map(stat);
  console.log(`ratio ldcache-dump / node -e 0 (${what}): ${(dump / floor).toFixed(3)}x  [target < 1.3x: ${dump / floor < 1.3 ? 'ok' : 'MISSED'}]`);
  if (glibc !== undefined) console.log(`ratio ldcache-dump / ldconfig -p (${what}): ${(dump / glibc).toFixed(1)}x`);
}
