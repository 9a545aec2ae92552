// Debian packages of another release fetched with `apt-get download` and a private apt state
// (nothing of the host's apt configuration or lists changes): e.g. bullseye's libc6 2.31 for
// images with an older glibc. Throws with apt's message when the mirror cannot be reached.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** package name -> downloaded .deb path. */
export function debianDownload(work: string, release: string, packages: string[]): Map<string, string> {
  const apt = join(work, `apt-${release}`);
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `deb http://deb.debian.org/debian ${release} main\n`);
  const opts = [
    '-o', `Dir::State::Lists=${apt}/lists`, '-o', 'Dir::State::status=/dev/null', '-o', `Dir::Cache=${apt}/cache`,
    '-o', `Dir::Etc::SourceList=${apt}/sources.list`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', 'APT::Sandbox::User=root', '-q',
  ];
  const update = spawnSync('apt-get', [...opts, 'update'], { encoding: 'utf8', timeout: 240_000 });
  if (update.status !== 0) throw new Error(`apt-get update (${release}) failed: ${update.stderr}`);
  const got = spawnSync('apt-get', [...opts, 'download', ...packages], { cwd: join(apt, 'debs'), encoding: 'utf8', timeout: 240_000 });
  if (got.status !== 0) throw new Error(`apt-get download ${packages.join(' ')} (${release}) failed: ${got.stderr}`);
  const debs = new Map<string, string>();
  for (const f of readdirSync(join(apt, 'debs'))) debs.set(f.split('_')[0]!, join(apt, 'debs', f));
  return debs;
}
