// Whole-process cost of `ldcache-dump` on the system cache, against `node -e 0` (the floor any
// Node CLI pays; target < 1.3x) and against glibc's own `ldconfig -p`. Output goes to /dev/null.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'ldcache-dump.cjs');
const cache = process.env.LDCACHE_BENCH_CACHE ?? '/etc/ld.so.cache';
const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => existsSync(p));

function run(command, args) {
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

// Several short rounds, so that a load change on a shared machine hits every task alike.
const rounds = Number(process.env.LDCACHE_BENCH_ROUNDS ?? 5);
const tasks = [
  ['node -e 0', () => run(process.execPath, ['-e', '0'])],
  [`ldcache-dump ${cache}`, () => run(process.execPath, [bin, cache])],
  ...(ldconfig ? [[`ldconfig -p -C ${cache}`, () => run(ldconfig, ['-p', '-C', cache])]] : []),
];
const samples = new Map(tasks.map(([name]) => [name, { medians: [], mins: [] }]));
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ time: Number(process.env.LDCACHE_BENCH_MS ?? 1500), iterations: 5, warmupTime: 100 });
  for (const [name, fn] of tasks) bench.add(name, fn);
  await bench.run();
  for (const t of bench.tasks) {
    samples.get(t.name).medians.push(t.result.latency.p50);
    samples.get(t.name).mins.push(t.result.latency.min);
  }
}

const middle = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const stats = tasks.map(([name]) => ({ name, median: middle(samples.get(name).medians), min: Math.min(...samples.get(name).mins) }));
console.table(stats.map((s) => ({ task: s.name, 'median of round medians ms': s.median.toFixed(1), 'min ms': s.min.toFixed(1) })));
// On a shared machine the minimum is the least disturbed run: print ratios of both.
for (const what of ['median', 'min']) {
  const [floor, dump, glibc] = stats.map((s) => s[what]);
  console.log(`ratio ldcache-dump / node -e 0 (${what}): ${(dump / floor).toFixed(3)}x  [target < 1.3x: ${dump / floor < 1.3 ? 'ok' : 'MISSED'}]`);
  if (glibc !== undefined) console.log(`ratio ldcache-dump / ldconfig -p (${what}): ${(dump / glibc).toFixed(1)}x`);
}

// CPU time (user + sys, startup included) is steadier than wall time when other work shares
// the machine: a preloaded hook reports process.cpuUsage() at exit, for both node commands alike.
const work = mkdtempSync(join(tmpdir(), 'ldcache-dumpbench-'));
try {
  const hook = join(work, 'cpu.mjs');
  writeFileSync(hook, "import { writeSync } from 'node:fs';\nprocess.on('exit', () => { const u = process.cpuUsage(); writeSync(2, `cpu-us ${u.user + u.system}\\n`); });\n");
  const cpu = (args) => {
    const r = spawnSync(process.execPath, ['--import', hook, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    return Number(/cpu-us (\d+)/.exec(r.stderr)?.[1]) / 1000;
  };
  const floorCpu = [];
  const dumpCpu = [];
  for (let i = 0; i < Number(process.env.LDCACHE_BENCH_CPU_RUNS ?? 30); i++) {
    floorCpu.push(cpu(['-e', '0']));
    dumpCpu.push(cpu([bin, cache]));
  }
  const f = middle(floorCpu);
  const d = middle(dumpCpu);
  console.log(`CPU ms per run (median): node -e 0 ${f.toFixed(1)}, ldcache-dump ${d.toFixed(1)}; ratio ${(d / f).toFixed(3)}x  [target < 1.3x: ${d / f < 1.3 ? 'ok' : 'MISSED'}]`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
