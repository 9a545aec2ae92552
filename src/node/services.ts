// The systemd units shipped in the package's systemd/ directory (the volume plugin, the CDI
// refresh service and its path unit), written into a unit directory with ExecStart pointing at
// this installation's node and nvidia-volume, then enabled; or disabled and removed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './atomic-write.js';
import { makeDirectories } from './make-dirs.js';

/** Where the package keeps its unit files (dist/node -> ../../systemd). */
export const PACKAGED_UNITS_DIR = fileURLToPath(new URL('../../systemd/', import.meta.url));
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';
/** The command the shipped units name; replaced by this installation's own. */
const SHIPPED_COMMAND = '/usr/local/bin/nvidia-volume';
/** Enabled by install (the refresh service runs at boot; the path unit reruns it on driver changes). */
export const ENABLED_UNITS = ['nvidia-volume-plugin.service', 'nvidia-cdi-refresh.service', 'nvidia-cdi-refresh.path'];

export interface ServiceUnit {
  name: string;
  text: string;
}

/** A path as one systemd command-line word (quoted when it needs to be). */
function unitWord(path: string): string {
  if (/^[A-Za-z0-9/_.@:+-]+$/.test(path)) return path;
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The shipped units with ExecStart set to `node nvidiaVolume ...` (absolute paths, so the
 * services do not depend on PATH or on where node is installed).
 */
export function serviceUnits(options: { node: string; nvidiaVolume: string; unitsDir?: string }): ServiceUnit[] {
  const dir = options.unitsDir ?? PACKAGED_UNITS_DIR;
  const command = `${unitWord(options.node)} ${unitWord(options.nvidiaVolume)}`;
  return readdirSync(dir)
    .filter((name) => /\.(service|path)$/.test(name))
    .sort()
    .map((name) => ({
      name,
      text: readFileSync(join(dir, name), 'utf8').replace(/^(ExecStart=)(\S+)/gm, (line, key: string, cmd: string) => (cmd === SHIPPED_COMMAND ? `${key}${command}` : line)),
    }));
}

export interface ServicesResult {
  /** Unit files written or removed. */
  files: string[];
  /** systemctl commands run, with their outcome, in order. */
  systemctl: { args: string[]; ok: boolean; output: string }[];
  /** Why systemctl was not run, when it was not. */
  skipped?: string;
}

/** Why systemctl cannot manage units here, or undefined when it can. */
export function systemdUnavailable(): string | undefined {
  if (!existsSync('/run/systemd/system')) return 'systemd is not running on this machine';
  if (spawnSync('systemctl', ['--version'], { stdio: 'ignore' }).status !== 0) return 'systemctl is not available';
  return undefined;
}

function systemctl(result: ServicesResult, args: string[]): boolean {
  const run = spawnSync('systemctl', args, { encoding: 'utf8' });
  const ok = run.status === 0;
  result.systemctl.push({ args, ok, output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? run.error.message : ''}`.trim() });
  return ok;
}

export interface InstallServicesOptions {
  node: string;
  nvidiaVolume: string;
  /** Default /etc/systemd/system. */
  unitDir?: string;
  /** Run systemctl daemon-reload and enable --now (default true; skipped where systemd is not running). */
  enable?: boolean;
}

/** Writes the units (atomically, 0644), then reloads systemd and enables and starts them. */
export async function installServices(options: InstallServicesOptions): Promise<ServicesResult> {
  const unitDir = options.unitDir ?? DEFAULT_UNIT_DIR;
  const result: ServicesResult = { files: [], systemctl: [] };
  const units = serviceUnits(options);
  await makeDirectories(unitDir, 0o755);
  for (const unit of units) {
    const file = join(unitDir, unit.name);
    await writeFileAtomic(file, unit.text, 0o644);
    result.files.push(file);
  }
  if (options.enable === false) return { ...result, skipped: 'not asked to enable' };
  const unavailable = systemdUnavailable();
  if (unavailable) return { ...result, skipped: unavailable };
  if (systemctl(result, ['daemon-reload'])) systemctl(result, ['enable', '--now', ...ENABLED_UNITS]);
  return result;
}

/** Stops and disables the units, removes their files and reloads systemd. */
export async function removeServices(options: { unitDir?: string; disable?: boolean } = {}): Promise<ServicesResult> {
  const unitDir = options.unitDir ?? DEFAULT_UNIT_DIR;
  const result: ServicesResult = { files: [], systemctl: [] };
  const unavailable = options.disable === false ? 'not asked to disable' : systemdUnavailable();
  if (unavailable) result.skipped = unavailable;
  else systemctl(result, ['disable', '--now', ...ENABLED_UNITS]);
  for (const name of serviceUnits({ node: 'node', nvidiaVolume: SHIPPED_COMMAND }).map((u) => u.name)) {
    const file = join(unitDir, name);
    if (!existsSync(file)) continue;
    await rm(file, { force: true });
    result.files.push(file);
  }
  if (!unavailable) systemctl(result, ['daemon-reload']);
  return result;
}
