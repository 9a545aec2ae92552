// The Docker legacy volume plugin protocol (docker-volume-plugin.md): one handler per method,
// each taking the request body as text and answering an object; nothing a client sends can make
// a handler throw (bad JSON, missing or hostile names all become an `Err`). Volume names are
// `nvidia_driver_<version>`; only the running driver's version can be created, and a Mount
// builds (or repairs) that volume before answering, so Docker never gets an empty directory.
import { join, resolve } from 'node:path';
import { compareVersions } from '../core/nvidia-libraries.js';
import { DEFAULT_PLUGIN_NAME } from './docker-args.js';
import type { DriverDiscovery } from './discovery-types.js';
import { NoDriverError, noDriverReason } from './no-driver.js';
import { MountState } from './plugin-state.js';
import { DEFAULT_VOLUMES_DIR, resolveVolumesDir, volumeBaseDir, VOLUME_NAME } from './volume-fs.js';
import { allGenerations, currentGeneration, parseGeneration, pruneGenerations } from './volume-generations.js';
import { isDriverVersion } from './volume-layout.js';
import { removeGenerations } from './volume-list.js';
import { withVolumesLock } from './volume-lock.js';
import { verifyVolume } from './volume-manifest.js';
import { createDriverVolume, dockerVolumeName } from './volume.js';
import type { PlacementStrategy } from './volume-link.js';

export interface PluginReply {
  status: number;
  body: Record<string, unknown>;
}

export interface PluginOptions {
  /** Plugin name (socket `<name>.sock`, mount-state file); default `nvidia-docker`. */
  name?: string;
  root?: string;
  dir?: string;
  /** Finds the driver; called at start and again when asked for another version. */
  discover: () => Promise<DriverDiscovery>;
  strategy?: PlacementStrategy;
}

const ok = (body: Record<string, unknown> = {}): PluginReply => ({ status: 200, body: { ...body, Err: '' } });
const fail = (message: string, body: Record<string, unknown> = {}): PluginReply => ({ status: 200, body: { ...body, Err: message } });

/** Shows a client-sent name in an error without letting it flood the log. */
function quoteName(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** `nvidia_driver_<version>` → version; null for anything else (`../x`, `/abs`, `…/../..`). */
export function versionOfVolume(name: string): string | null {
  const prefix = `${VOLUME_NAME}_`;
  if (!name.startsWith(prefix)) return null;
  const version = name.slice(prefix.length);
  return isDriverVersion(version) ? version : null;
}

interface Request {
  Name?: unknown;
  ID?: unknown;
  Opts?: unknown;
}

export class DriverVolumePlugin {
  readonly name: string;
  private discovery: DriverDiscovery | null = null;
  private discoveryError: string | null = null;
  private readonly builds = new Map<string, Promise<string>>();

  private constructor(
    private readonly options: PluginOptions,
    readonly volumesDir: string,
    readonly state: MountState,
  ) {
    this.name = options.name ?? DEFAULT_PLUGIN_NAME;
  }

  static async open(options: PluginOptions): Promise<DriverVolumePlugin> {
    const name = options.name ?? DEFAULT_PLUGIN_NAME;
    const realDir = await resolveVolumesDir(options.dir ?? DEFAULT_VOLUMES_DIR);
    await volumeBaseDir(realDir, true);
    const plugin = new DriverVolumePlugin(options, realDir, await MountState.load(realDir, name));
    await plugin.rediscover();
    return plugin;
  }

  /** Lines worth logging at start: the state file and discovery problems. */
  startupNotes(): string[] {
    const notes: string[] = [];
    if (this.state.loadWarning) notes.push(this.state.loadWarning);
    const noDriver = this.noDriver();
    if (noDriver) notes.push(noDriver.message);
    else notes.push(`driver version ${this.runningVersion() ?? 'unknown'}`);
    return notes;
  }

  runningVersion(): string | null {
    return this.discovery?.driverVersion ?? null;
  }

  currentDiscovery(): DriverDiscovery | null {
    return this.discovery;
  }

  /** Why there is no driver to serve (the wording `discover` uses), or null. */
  private noDriver(): NoDriverError | null {
    const root = this.discovery?.root ?? resolve(this.options.root ?? '/');
    const why = this.discovery !== null ? noDriverReason(this.discovery) : (this.discoveryError ?? 'driver discovery has not run');
    return why === null ? null : new NoDriverError(root, why);
  }

  private async rediscover(): Promise<void> {
    try {
      this.discovery = await this.options.discover();
      this.discoveryError = null;
    } catch (err) {
      this.discovery = null;
      this.discoveryError = (err as Error).message.split('\n')[0] ?? 'unknown error';
    }
  }

  private base(): string {
    return join(this.volumesDir, VOLUME_NAME);
  }

  /** The current generation with a readable manifest (cheap: Get and List run often). */
  private async present(version: string): Promise<{ path: string; createdAt: string; files: number } | null> {
    const found = await currentGeneration(this.base(), version, true);
    return found === null ? null : { path: found.generation.path, createdAt: found.manifest.createdAt, files: found.manifest.files.length };
  }

  /** Builds (or verifies and reuses) the running driver's volume; concurrent callers share one build. */
  private ensureBuilt(version: string): Promise<string> {
    let build = this.builds.get(version);
    if (build === undefined) {
      const discovery = this.discovery;
      build = (async () => {
        if (discovery === null || discovery.driverVersion !== version) throw new Error(`no such volume: ${dockerVolumeName(version)}`);
        const created = await createDriverVolume({ discovery, dir: this.volumesDir, strategy: this.options.strategy });
        return created.path;
      })().finally(() => this.builds.delete(version));
      this.builds.set(version, build);
    }
    return build;
  }

  /** Answers one protocol call. `method` is the URL path, e.g. `/VolumeDriver.Mount`. */
  async handle(method: string, bodyText: string): Promise<PluginReply> {
    let request: Request = {};
    if (bodyText.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(bodyText);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('bad request: body is not a JSON object');
        request = parsed as Request;
      } catch {
        return fail('bad request: body is not valid JSON');
      }
    }
    try {
      switch (method) {
        case '/Plugin.Activate':
          return { status: 200, body: { Implements: ['VolumeDriver'] } };
        case '/VolumeDriver.Capabilities':
          return { status: 200, body: { Capabilities: { Scope: 'local' } } };
        case '/VolumeDriver.List':
          return await this.list();
        case '/VolumeDriver.Create':
        case '/VolumeDriver.Remove':
        case '/VolumeDriver.Get':
        case '/VolumeDriver.Path':
        case '/VolumeDriver.Mount':
        case '/VolumeDriver.Unmount':
          return await this.named(method, request);
        default:
          return { status: 404, body: { Err: `unknown method ${quoteName(method)}` } };
      }
    } catch (err) {
      return fail((err as Error).message.split('\n')[0] ?? 'internal error');
    }
  }

  private async named(method: string, request: Request): Promise<PluginReply> {
    if (typeof request.Name !== 'string' || request.Name === '') return fail('bad request: missing Name');
    const name = request.Name;
    const version = versionOfVolume(name);
    if (version === null) return fail(`bad volume format: ${quoteName(name)} (expected ${VOLUME_NAME}_<driver version>)`);
    const id = typeof request.ID === 'string' ? request.ID : '';
    switch (method) {
      case '/VolumeDriver.Create':
        return this.create(name, version);
      case '/VolumeDriver.Remove':
        return this.remove(name, version);
      case '/VolumeDriver.Get': {
        const found = await this.present(version);
        if (found === null) return fail(`no such volume: ${name}`);
        const Status = { DriverVersion: version, Files: found.files, Mounts: this.state.total(name) };
        return ok({ Volume: { Name: name, Mountpoint: found.path, CreatedAt: found.createdAt, Status } });
      }
      case '/VolumeDriver.Path': {
        const found = await this.present(version);
        return found === null ? fail(`no such volume: ${name}`) : ok({ Mountpoint: found.path });
      }
      case '/VolumeDriver.Mount':
        return this.mount(name, version, id);
      default: // Unmount
        return this.unmount(name, version, id);
    }
  }

  private async create(name: string, version: string): Promise<PluginReply> {
    if (this.runningVersion() !== version) await this.rediscover(); // the driver may have changed
    const noDriver = this.noDriver();
    if (noDriver) return fail(`cannot create ${name}: ${noDriver.message}`);
    const running = this.runningVersion()!;
    if (running !== version) return fail(`invalid volume version: ${name} (the running driver is ${running}; use ${dockerVolumeName(running)})`);
    await this.ensureBuilt(version);
    return ok();
  }

  /**
   * Hands out the current generation (built first for the running driver), or the generation
   * this ID already holds. Decided and recorded under the volumes lock, so no pruning run can
   * take the generation away between the two.
   */
  private async mount(name: string, version: string, id: string): Promise<PluginReply> {
    if (version === this.runningVersion()) await this.ensureBuilt(version);
    const path = await withVolumesLock(this.volumesDir, async () => {
      const base = this.base();
      const held = this.state.held(name, id);
      if (held !== null && parseGeneration(held)?.version === version && (await verifyVolume(join(base, held), version)).complete) {
        this.state.mount(name, id, held);
      } else {
        if (held !== null) while (this.state.held(name, id) !== null) this.state.unmount(name, id); // its generation is gone
        const current = await currentGeneration(base, version);
        if (current === null) return null;
        this.state.mount(name, id, current.generation.name);
      }
      await this.state.save();
      return join(base, this.state.held(name, id)!);
    });
    return path === null ? fail(`no such volume: ${name}`) : ok({ Mountpoint: path });
  }

  /** Releases the ID's mount; a generation that is no longer current goes once nothing holds it. */
  private async unmount(name: string, version: string, id: string): Promise<PluginReply> {
    const released = this.state.held(name, id);
    this.state.unmount(name, id);
    await this.state.save();
    if (released !== null && this.state.held(name, id) === null) {
      const current = await currentGeneration(this.base(), version);
      // Without a complete current generation nothing is pruned (never leave a version with none).
      if (current !== null && current.generation.name !== released) {
        await pruneGenerations(this.volumesDir, this.base(), version, current.generation.name);
      }
    }
    return ok();
  }

  private async remove(name: string, version: string): Promise<PluginReply> {
    const mounts = this.state.total(name);
    if (mounts > 0) return fail(`volume ${name} is in use (${mounts} mount${mounts === 1 ? '' : 's'})`);
    await removeGenerations(this.volumesDir, this.base(), version, false);
    return ok();
  }

  private async list(): Promise<PluginReply> {
    const base = await volumeBaseDir(this.volumesDir, false);
    const versions = base === null ? [] : [...(await allGenerations(base)).keys()].sort(compareVersions);
    const volumes: Array<{ Name: string; Mountpoint: string }> = [];
    for (const version of versions) {
      const found = await this.present(version);
      if (found !== null) volumes.push({ Name: dockerVolumeName(version), Mountpoint: found.path });
    }
    return ok({ Volumes: volumes });
  }
}
