// Peak RSS (KiB) of `node ARGS` run in a child with `env`: from GNU time where present (a child's
// own getrusage also counts the parent it was forked from), else the child's own `maxRssKiB`
// printed as JSON.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export function peakKiB(env, args) {
  const out = join(tmpdir(), `ldcache-bench-rss-${process.pid}`);
  if (!existsSync('/usr/bin/time')) return JSON.parse(execFileSync(process.execPath, args, { env, encoding: 'utf8' }) || '{"maxRssKiB":0}').maxRssKiB ?? 0;
  execFileSync('/usr/bin/time', ['-o', out, '-f', '%M', process.execPath, ...args], { env, encoding: 'utf8' });
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  rmSync(out, { force: true });
  return kib;
}
