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

/** Per mount ID: how many mounts it holds, and of which generation (the directory it was given). */
export interface HeldMount {
  count: number;
  generation: string;
}
/** Volume name → mount ID → mounts. Maps throughout: IDs are client strings (`__proto__` too). */
type Counts = Map<string, Map<string, HeldMount>>;

const STATE_FORMAT = 2;

/** The first generation's directory is the version itself (what format 1 files knew). */
const firstGeneration = (volume: string): string => volume.slice(volume.lastIndexOf('_') + 1);

function parseCounts(text: string): Counts {
  const value = JSON.parse(text) as { format?: unknown; mounts?: unknown };
  const counts: Counts = new Map();
  if (typeof value !== 'object' || value === null || typeof value.mounts !== 'object' || value.mounts === null) return counts;
  // JSON.parse makes own properties of every key (`__proto__` included): Object.entries sees them all.
  for (const [volume, ids] of Object.entries(value.mounts as Record<string, unknown>)) {
    if (typeof ids !== 'object' || ids === null) continue;
    const held = new Map<string, HeldMount>();
    for (const [id, entry] of Object.entries(ids as Record<string, unknown>)) {
      // Format 1: a count; format 2: { count, generation }.
      const count = typeof entry === 'number' ? entry : (entry as { count?: unknown } | null)?.count;
      const generation = typeof entry === 'number' ? firstGeneration(volume) : (entry as { generation?: unknown } | null)?.generation;
      if (typeof count === 'number' && Number.isInteger(count) && count > 0 && typeof generation === 'string' && generation !== '') {
        held.set(id, { count, generation });
      }
    }
    if (held.size > 0) counts.set(volume, held);
  }
  return counts;
}

/** The state file's text: objects made with Object.fromEntries, so every ID is an own key. */
function countsText(counts: Counts): string {
  const mounts = Object.fromEntries(
    [...counts].map(([volume, ids]) => [volume, Object.fromEntries([...ids].map(([id, held]) => [id, { count: held.count, generation: held.generation }]))]),
  );
  return `${JSON.stringify({ format: STATE_FORMAT, mounts })}\n`;
}

export class MountState {
  private readonly counts: Counts;
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
      return new MountState(file, text === null ? new Map() : parseCounts(text), null);
    } catch (err) {
      return new MountState(file, new Map(), `${file}: unreadable mount state, starting empty: ${(err as Error).message}`);
    }
  }

  /** The generation `id` holds of `volume`, if it holds one. */
  held(volume: string, id: string): string | null {
    return this.counts.get(volume)?.get(id)?.generation ?? null;
  }

  /**
   * Records one more mount of `volume` under `id`, of `generation` (an ID that already holds
   * one keeps its generation); returns the volume's total.
   */
  mount(volume: string, id: string, generation: string = firstGeneration(volume)): number {
    let ids = this.counts.get(volume);
    if (ids === undefined) this.counts.set(volume, (ids = new Map()));
    const held = ids.get(id);
    if (held === undefined) ids.set(id, { count: 1, generation });
    else held.count += 1;
    return this.total(volume);
  }

  /** Releases one mount under `id` (an unknown id changes nothing); returns the volume's total. */
  unmount(volume: string, id: string): number {
    const ids = this.counts.get(volume);
    const held = ids?.get(id);
    if (ids !== undefined && held !== undefined) {
      if (held.count > 1) held.count -= 1;
      else ids.delete(id);
      if (ids.size === 0) this.counts.delete(volume);
    }
    return this.total(volume);
  }

  total(volume: string): number {
    let sum = 0;
    for (const held of this.counts.get(volume)?.values() ?? []) sum += held.count;
    return sum;
  }

  /** Volumes with at least one mount. */
  volumes(): string[] {
    return [...this.counts.keys()];
  }

  ids(volume: string): string[] {
    return [...(this.counts.get(volume)?.keys() ?? [])];
  }

  /** Mounts per generation directory name, over every volume. */
  generations(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const ids of this.counts.values()) {
      for (const held of ids.values()) totals.set(held.generation, (totals.get(held.generation) ?? 0) + held.count);
    }
    return totals;
  }

  /** Persists the counts; resolves once a write that includes every change so far is on disk. */
  save(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const write = (): Promise<void> => {
      this.writing = writeFileAtomic(this.file, countsText(this.counts), 0o600).finally(() => {
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

/** Every plugin's mount state in `realDir` (unreadable files throw: better refuse than guess). */
async function allStates(realDir: string): Promise<MountState[]> {
  let names: string[];
  try {
    names = await readdir(realDir);
  } catch {
    return [];
  }
  const states: MountState[] = [];
  for (const name of names) {
    if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
    const pluginName = name.slice(PREFIX.length, -SUFFIX.length);
    if (!PLUGIN_NAME_PATTERN.test(pluginName)) continue;
    const state = await MountState.load(realDir, pluginName);
    if (state.loadWarning !== null) throw new Error(state.loadWarning);
    states.push(state);
  }
  return states;
}

/** Mount totals per generation directory name across every plugin's state file in `realDir`. */
export async function mountedGenerations(realDir: string): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const state of await allStates(realDir)) {
    for (const [generation, n] of state.generations()) totals.set(generation, (totals.get(generation) ?? 0) + n);
  }
  return totals;
}

/** Mount totals per Docker volume name across every plugin's state file in `realDir`. */
export async function mountedVolumes(realDir: string): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  for (const state of await allStates(realDir)) {
    for (const volume of state.volumes()) totals.set(volume, (totals.get(volume) ?? 0) + state.total(volume));
  }
  return totals;
}
