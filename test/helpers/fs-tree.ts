// Every path under a directory, sorted: for "nothing else was written here" checks.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      out.push(join(d, e.name));
      if (e.isDirectory()) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return out.sort();
}
