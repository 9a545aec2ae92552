// `nvidia-volume discover [--root DIR] [--json] [--verbose]`: what driver discovery finds in a
// root, as a readable report or as the DriverDiscovery object.
import { discoverDriver } from '../../node/discover.js';
import type { DriverDiscovery } from '../../node/discovery-types.js';
import { hostCpu } from '../../node/host-cpu.js';
import { requireDriver } from '../../node/no-driver.js';
import { parseCliArgs, writeOut } from '../run-cli.js';

const usage = `Usage: nvidia-volume discover [--root DIR] [--json] [--verbose]

Finds the NVIDIA driver in DIR (default /): version, GPUs, libraries, binaries, devices,
firmware, IPC sockets, and what was rejected and why. Paths are those inside DIR.

  --root DIR     driver root (a mounted host filesystem, /run/nvidia/driver, a chroot)
  --json         print the discovery as JSON
  -v, --verbose  list every library and rejected file
`;

const mode = (m: number): string => (m & 0o7777).toString(8).padStart(4, '0');

/**
 * The discovery as printed by --json: device modes as octal strings (`"0666"`, as `stat -c %a`
 * and the report show them), and this machine's CPU (containers run here, whatever the root), which
 * the inspector's image check needs.
 */
export function discoveryJson(d: DriverDiscovery): Omit<DriverDiscovery, 'devices'> & { devices: Array<Omit<DriverDiscovery['devices'][number], 'mode'> & { mode: string }> } {
  return { ...d, devices: d.devices.map((dev) => ({ ...dev, mode: mode(dev.mode) })), cpu: d.cpu ?? hostCpu() };
}

export function formatReport(d: DriverDiscovery, verbose: boolean): string {
  const lines: string[] = [];
  const source = d.versionSource === 'proc' ? '/proc/driver/nvidia/version' : 'library file names';
  lines.push(`NVIDIA driver ${d.driverVersion ?? 'unknown'} (from ${source}) in ${d.root}`);
  lines.push(`GPUs: ${d.gpus.length}`);
  for (const g of d.gpus) lines.push(`  ${g.busId}  ${g.model ?? '?'}  ${g.uuid ?? '?'}  ${g.devicePath ?? `minor ${g.minor ?? '?'} (no node)`}`);
  const from = d.librarySource === 'cache' ? 'ld.so.cache' : 'library directories (no ld.so.cache)';
  lines.push(`Libraries: ${d.libraries.length} (from ${from}; ABIs ${d.abis.join(', ') || 'unknown'})`);
  for (const bits of [64, 32] as const) {
    const set = d.libraries.filter((l) => l.bits === bits);
    if (set.length === 0) continue;
    const counts = new Map<string, number>();
    for (const l of set) counts.set(l.category, (counts.get(l.category) ?? 0) + 1);
    lines.push(`  ${bits}-bit (${set[0]!.arch}): ${[...counts].map(([c, n]) => `${c} ${n}`).join(', ')}`);
    if (verbose) for (const l of set) lines.push(`    ${l.path}${l.soname ? `  [${l.soname}]` : ''}  ${l.category}`);
  }
  lines.push(`Devices: ${d.devices.length}`);
  for (const dev of d.devices) lines.push(`  ${dev.path}  c ${dev.major}:${dev.minor}  ${mode(dev.mode)}  ${dev.kind}`);
  lines.push(`Binaries: ${d.binaries.length}`);
  for (const b of d.binaries) lines.push(`  ${b.name}  ${b.linkPath === b.path ? b.path : `${b.linkPath} -> ${b.path}`}`);
  lines.push(`Firmware: ${d.firmware.length}`);
  for (const f of d.firmware) lines.push(`  ${f.path}`);
  lines.push(`IPC: ${d.ipc.length}`);
  for (const i of d.ipc) lines.push(`  ${i.kind}  ${i.path}`);
  lines.push(`Rejected: ${d.rejected.length}`);
  const shown = verbose ? d.rejected : d.rejected.slice(0, 10);
  for (const r of shown) lines.push(`  ${r.path === r.cachePath ? r.path : `${r.cachePath} -> ${r.path}`}: ${r.reason}`);
  if (shown.length < d.rejected.length) lines.push(`  … ${d.rejected.length - shown.length} more (--verbose lists them)`);
  if (d.warnings.length > 0) {
    lines.push(`Warnings: ${d.warnings.length}`);
    for (const w of d.warnings) lines.push(`  ${w}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseCliArgs({
    args,
    options: {
      root: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  const root = values.root ?? '/';
  // A RootFsError (a HostError with its code) is printed as it is: one line, exit 1.
  const discovery = discoverDriver({ root });
  requireDriver(discovery);
  await writeOut(values.json ? `${JSON.stringify(discoveryJson(discovery), null, 2)}\n` : formatReport(discovery, values.verbose ?? false));
  return 0;
}
