// One lock per volumes directory, across processes (the plugin, `nvidia-volume create`,
// `remove`): held while a mount is recorded, and while a generation is judged unmounted and
// moved aside, so that a generation is never taken away between a plugin's decision to hand it to
// a container and the record of that mount. Node has no flock(2): the lock is a file created
// with O_EXCL holding the holder's pid. A lock whose process is gone, or older than STALE_MS
// (holders keep it for milliseconds; a pid of another pid namespace cannot be checked), is broken.
// Within a process, callers queue in memory first, so only one of them polls the file.
import { constants } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError, hostErrorFrom } from './errors.js';
import { errorCode, processAlive, readSmallFile } from './volume-fs.js';

export const LOCK_NAME = '.nvidia-volume.lock';
const STALE_MS = 30_000;
const WAIT_MS = 20_000;

const queues = new Map<string, Promise<unknown>>();

async function acquire(file: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let pause = 2;
  for (;;) {
    try {
      const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      return;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw hostErrorFrom(err, file, 'cannot take the volumes lock');
    }
    let holder = 0;
    let age = 0;
    try {
      holder = Number((await readSmallFile(file, 64))?.trim() ?? '0');
      age = Date.now() - (await stat(file)).mtimeMs;
    } catch {
      // A symlink or another odd file there: treated as a dead holder's and replaced below.
    }
    if (!Number.isInteger(holder) || holder <= 0 || !processAlive(holder) || age > STALE_MS) {
      await unlink(file).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new HostError('EBUSY', file, `held by process ${holder} for ${Math.round(age / 1000)} s; try again later`);
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 50);
  }
}

/** Runs `work` holding the lock of the volumes directory `realDir`. */
export function withVolumesLock<T>(realDir: string, work: () => Promise<T>): Promise<T> {
  const file = join(realDir, LOCK_NAME);
  const previous = queues.get(realDir) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(async () => {
    await acquire(file);
    try {
      return await work();
    } finally {
      await unlink(file).catch(() => undefined);
    }
  });
  const settled = run.catch(() => undefined);
  queues.set(realDir, settled);
  void settled.then(() => {
    if (queues.get(realDir) === settled) queues.delete(realDir);
  });
  return run;
}
