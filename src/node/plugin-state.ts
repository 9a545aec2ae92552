// Which containers hold which driver volume, per Docker mount ID, kept in a small JSON file in
// the volumes directory so that a plugin restart (or `nvidia-volume remove`) still knows a
// volume is in use. One file per plugin name; every write is atomic (temp file + rename) and
// writes are serialized, the last one always carrying the newest counts.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { readSmallFile } from './volume-fs.js';

const PREFIX = '.plugin-';
const SUFFIX = '.mounts.json';
/** Plugin names become file and socket names: keep them plain. */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

type Counts = Record<string, Record<string, number>>;

function parseCounts(text: string): Counts {
  const value = JSON.parse(text) as { mounts?: unknown };
  const counts: Counts = {};
  if (typeof value !== 'object' || value === null || typeof value.mounts !== 'object' || value.mounts === null) return counts;
  for (const [volume, ids] of Object.entries(value.mounts as Record<string, unknown>)) {
    if (typeof ids !== 'object' || ids === null) continue;
    for (const [id, n] of Object.entries(ids as Record<string, unknown>)) {
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) (counts[volume] ??= {})[id] = n;
    }
  }
  return counts;
}

export class MountState {
  private counts: Counts;
  private writing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  private constructor(
    readonly file: string,
    counts: Counts,
    /** Set when the file existed but could not be read: the counts start empty. */
    readonly loadWarning: string | null,
  ) {
    this.counts = counts;
  }

  static fileFor(realDir: string, pluginName: string): string {
    if (!PLUGIN_NAME_PATTERN.test(pluginName)) throw new Error(`invalid plugin name '${pluginName}'`);
    return join(realDir, `${PREFIX}${pluginName}${SUFFIX}`);
  }

  static async load(realDir: string, pluginName: string): Promise<MountState> {
    const file = MountState.fileFor(realDir, pluginName);
    try {
      const text = await readSmallFile(file);
      return new MountState(file, text === null ? {} : parseCounts(text), null);
    } catch (err) {
      return new MountState(file, {}, `${file}: unreadable mount state, starting empty: ${(err as Error).message}`);
    }
  }

  /** Records one more mount of `volume` under `id`; returns the volume's total. */
  mount(volume: string, id: string): number {
    const ids = (this.counts[volume] ??= {});
    ids[id] = (ids[id] ?? 0) + 1;
    return this.total(volume);
  }

  /** Releases one mount under `id` (an unknown id changes nothing); returns the volume's total. */
  unmount(volume: string, id: string): number {
    const ids = this.counts[volume];
    if (ids?.[id] !== undefined) {
      if (ids[id] > 1) ids[id] -= 1;
      else delete ids[id];
      if (Object.keys(ids).length === 0) delete this.counts[volume];
    }
    return this.total(volume);
  }

  total(volume: string): number {
    return Object.values(this.counts[volume] ?? {}).reduce((a, b) => a + b, 0);
  }

  /** Volumes with at least one mount. */
  volumes(): string[] {
    return Object.keys(this.counts);
  }

  ids(volume: string): string[] {
    return Object.keys(this.counts[volume] ?? {});
  }

  /** Persists the counts; resolves once a write that includes every change so far is on disk. */
  save(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const write = (): Promise<void> => {
      const text = `${JSON.stringify({ format: 1, mounts: this.counts })}\n`;
      this.writing = writeFileAtomic(this.file, text, 0o600).finally(() => {
        this.writing = null;
      });
      return this.writing;
    };
    if (this.writing === null) return write();
    this.queued = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return write();
      });
    return this.queued;
  }
}

/** Mount totals per Docker volume name across every plugin's state file in `realDir`. */
export async function mountedVolumes(realDir: string): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  let names: string[];
  try {
    names = await readdir(realDir);
  } catch {
    return totals;
  }
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
    const pluginName = name.slice(PREFIX.length, -SUFFIX.length);
    if (!PLUGIN_NAME_PATTERN.test(pluginName)) continue;
    const state = await MountState.load(realDir, pluginName);
    if (state.loadWarning !== null) throw new Error(state.loadWarning);
    for (const volume of state.volumes()) totals.set(volume, (totals.get(volume) ?? 0) + state.total(volume));
  }
  return totals;
}
