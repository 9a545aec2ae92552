// The object layer on a 200,000-entry cache: what a user's loop costs per entry, against a C
// loop doing the same work (bench/c/entries.c: parse, bounds-check, strnlen both strings;
// "fields" also reads flags, osversion and hwcap) and, for new-format files, a plain-JS parser
// producing the same entry objects. Every line parses the file and then reads the named fields
// of every entry. Layout: LDCACHE_BENCH_LAYOUT=new|compat|old[/little|big] (new/little default).
// Peak memory: each task is also run once in a child process, whose peak RSS is printed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { peakKiB } from './peak-rss.mjs';
import { parseLdCache } from '../dist/core/parse.js';
import { archBits, archName, cacheFamily } from '../dist/core/abi.js';
import { benchCache, benchLayout } from './gen-cache.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ENTRIES = Number(process.env.LDCACHE_BENCH_ENTRIES ?? 200_000);
const layout = benchLayout();
const file = await benchCache(ENTRIES, layout);
const bytes = readFileSync(file);

/** A plain-JS reader of new-format files producing the same entries (name, path, flags, arch, bits, osVersion, hwcap). */
function plainEntries(b) {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const little = (b[28] & 3) !== 3;
  const count = view.getUint32(20, little);
  if (48 + 24 * count > b.length) throw new Error('truncated');
  // The same trick as the wasm path: decode the ASCII string area once, hand out substrings.
  let low = b.length;
  for (let i = 0; i < count; i++) low = Math.min(low, view.getUint32(48 + 24 * i + 4, little), view.getUint32(48 + 24 * i + 8, little));
  const text = new TextDecoder('latin1').decode(b.subarray(low));
  const required = new Set();
  for (let i = 0; i < count; i++) required.add(view.getInt32(48 + 24 * i, little) & 0xff00);
  const family = cacheFamily(required);
  const entries = new Array(count);
  for (let i = 0; i < count; i++) {
    const at = 48 + 24 * i;
    const key = view.getUint32(at + 4, little) - low;
    const value = view.getUint32(at + 8, little) - low;
    const flags = view.getInt32(at, little);
    entries[i] = {
      index: i,
      name: text.substring(key, text.indexOf('\0', key)),
      path: text.substring(value, text.indexOf('\0', value)),
      flags,
      arch: archName(flags, family),
      bits: archBits(flags, family),
      osVersion: view.getUint32(at + 12, little),
      hwcap: view.getBigUint64(at + 16, little),
    };
  }
  return entries;
}

/** The plain-JS baseline: the same entries as an array, name + path read. */
function plainTask() {
  let sum = 0;
  const entries = plainEntries(bytes);
  for (let i = 0; i < entries.length; i++) sum += entries[i].name.length + entries[i].path.length;
  return sum;
}
const PLAIN = 'plain JS parser: array of the same entries, read name + path';
const ARRAY = '.entries array (every entry object kept), read name + path';
const ITERATOR = 'iterator: for (const e of parseLdCache(b)), read name + path';
const FIELDS = 'iterator: read every field (name, path, flags, arch, bits, osVersion, hwcap)';
/** The goals, in multiples of C doing the same work. */
const GOALS = { [ITERATOR]: 4, [FIELDS]: 8, [ARRAY]: 10 };

let sink = 0;
// LDCACHE_BENCH_BEFORE=DIR: the same loops with another build's dist/ (before/after in one run).
const before = process.env.LDCACHE_BENCH_BEFORE ? await import(join(process.env.LDCACHE_BENCH_BEFORE, 'dist', 'core', 'parse.js')) : undefined;
const tasks = {
  [ITERATOR]: () => {
    let sum = 0;
    for (const e of parseLdCache(bytes)) sum += e.name.length + e.path.length;
    return sum;
  },
  [FIELDS]: () => {
    let sum = 0;
    for (const e of parseLdCache(bytes)) {
      sum += e.name.length + e.path.length + (e.flags & 0xff) + e.arch.length + (e.bits ?? 0) + e.osVersion + (e.hwcap !== 0n ? 1 : 0);
    }
    return sum;
  },
  [ARRAY]: () => {
    let sum = 0;
    const entries = parseLdCache(bytes).entries;
    for (let i = 0; i < entries.length; i++) sum += entries[i].name.length + entries[i].path.length;
    return sum;
  },
  ...(layout.format === 'new' ? { [PLAIN]: plainTask } : {}),
  'parse only: parseLdCache(b).count (no entry read; copies the bytes in, as every task above)': () => parseLdCache(bytes).count,
  ...(before
    ? {
        'before: iterator, read name + path': () => {
          let sum = 0;
          for (const e of before.parseLdCache(bytes)) sum += e.name.length + e.path.length;
          return sum;
        },
        'before: iterator, read every field': () => {
          let sum = 0;
          for (const e of before.parseLdCache(bytes)) sum += e.name.length + e.path.length + (e.flags & 0xff) + e.arch.length + (e.bits ?? 0) + e.osVersion + (e.hwcap !== 0n ? 1 : 0);
          return sum;
        },
        'before: .entries array, read name + path': () => {
          let sum = 0;
          const entries = before.parseLdCache(bytes).entries;
          for (let i = 0; i < entries.length; i++) sum += entries[i].name.length + entries[i].path.length;
          return sum;
        },
      }
    : {}),
};

const only = process.env.LDCACHE_BENCH_TASK;
if (only !== undefined) {
  // Child mode: run one task once, print its peak RSS.
  sink += Object.values(tasks)[Number(only)]();
  process.stdout.write(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, sink }));
  process.exit(0);
}

console.log(`cache: ${file} (${ENTRIES} entries, ${(bytes.length / 1e6).toFixed(1)} MB)`);
const names = Object.keys(tasks);
// Every name + path reader must give the same sum (and C's, below), or the lines compare unlike work.
const sums = new Map(names.map((n) => [n, tasks[n]()]));
const nameSums = names.filter((n) => n.endsWith('read name + path')).map((n) => sums.get(n));
if (new Set(nameSums).size !== 1) throw new Error(`readers disagree on the name/path length sum: ${nameSums}`);

const bench = new Bench({ time: Number(process.env.LDCACHE_BENCH_MS ?? 2000), iterations: 10, warmupTime: 300 });
for (const name of names) bench.add(name, () => { sink += tasks[name](); });
// C: the same parse + loop over a buffer read once, run in rounds before and after the JS tasks
// (a shared machine's speed drifts; one C run can land in a slow or a fast patch): the median
// of the rounds is the reference, and the spread is printed.
const C_ROUNDS = 3;
const work = mkdtempSync(join(tmpdir(), 'ldcache-entries-bench-'));
const exe = join(work, 'entries');
const cRuns = { names: [], fields: [] };
function runC() {
  for (const mode of ['names', 'fields']) {
    const result = JSON.parse(execFileSync(exe, [file, mode, '400', layout.byteOrder], { encoding: 'utf8' }));
    if (mode === 'names' && result.sum !== nameSums[0]) throw new Error(`C's name/path length sum ${result.sum} is not the readers' ${nameSums[0]}`);
    cRuns[mode].push(result.nsPerPass / ENTRIES);
  }
}
try {
  execFileSync('gcc', ['-O2', '-o', exe, join(here, 'c', 'entries.c')]);
  for (let i = 0; i < C_ROUNDS; i++) runC();
  await bench.run();
  for (let i = 0; i < C_ROUNDS; i++) runC();
} finally {
  rmSync(work, { recursive: true, force: true });
}
const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const c = { names: median(cRuns.names), fields: median(cRuns.fields) };
const base = peakKiB(process.env, ['-e', '0']);
const rss = names.map((_, i) => peakKiB({ ...process.env, LDCACHE_BENCH_TASK: String(i) }, [fileURLToPath(import.meta.url)]));

const rows = bench.tasks.map((t, i) => {
  const l = t.result.latency;
  const per = (ms) => (ms * 1e6) / ENTRIES;
  const mode = t.name.includes('every field') ? 'fields' : 'names';
  const goal = GOALS[t.name];
  const ratio = per(l.p50) / c[mode];
  return {
    task: t.name,
    'ns/entry median': per(l.p50).toFixed(1),
    'spread (min-p75)': `${per(l.min).toFixed(0)}-${per(l.p75).toFixed(0)}`,
    'x C': ratio.toFixed(1),
    goal: goal === undefined ? '-' : `<= ${goal}x C: ${ratio <= goal ? 'ok' : 'MISSED'}`,
    'peak RSS MB (node alone)': `${(rss[i] / 1024).toFixed(0)} (${(base / 1024).toFixed(0)})`,
  };
});
console.table(rows);
const spread = (mode) => `${Math.min(...cRuns[mode]).toFixed(0)}-${Math.max(...cRuns[mode]).toFixed(0)}`;
console.log(`C (gcc -O2, bench/c/entries.c, same parse + loop; median of ${2 * C_ROUNDS} runs, before and after): names ${c.names.toFixed(1)} ns/entry (${spread('names')}), every field ${c.fields.toFixed(1)} ns/entry (${spread('fields')})`);
const p = (name) => bench.tasks.find((t) => t.name === name).result.latency.p50;
if (names.includes(PLAIN)) console.log(`plain JS parser / .entries array: ${(p(PLAIN) / p(ARRAY)).toFixed(2)}x`);
if (sink === 0.5) console.log(sink);
