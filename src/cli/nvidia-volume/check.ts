// `nvidia-volume check --image FILE [--root DIR] [--json]`: will this image see the driver?
// For each driver soname and each way of injecting the driver, which file the image's dynamic
// linker loads, and every problem with its evidence and fix. Exit 0 when the driver loads with
// every injection checked, 1 when it does not, 2 on usage errors.
import { ImageError } from '../../core/image-types.js';
import type { CheckReport } from '../../core/image-check.js';
import { discoverDriver } from '../../node/discover.js';
import { checkLoadedImage } from '../../node/image-check.js';
import { readImage } from '../../node/image-source.js';
import { RootFsError } from '../../node/rootfs.js';
import { CliError, parseCliArgs, UsageError, writeOut } from '../run-cli.js';
import { noDriverReason } from '../../node/no-driver.js';

const usage = `Usage: nvidia-volume check --image FILE [--image-ref NAME] [--root DIR] [--injection cdi|volume] [-e KEY=VALUE]... [--json]

Predicts, without running anything, which file the image's dynamic linker loads for each
library of the driver under DIR (default /), injected by the CDI spec this project writes and by
the v1 driver volume at /usr/local/nvidia, and reports what stops the driver from loading: a
stub, compat or other driver's library in the image that wins, a musl image, an old glibc, a
mounted directory the linker never searches, missing 32-bit support.

  --image FILE        docker save / podman save archive, or an OCI layout directory
  --image-ref NAME    which image of a multi-image archive
  --root DIR          driver root (default /)
  --injection WAY     check only cdi or volume (default both)
  -e, --env KEY=VALUE an environment entry given at run time, as docker/podman run -e: it
                      replaces the image config's KEY (e.g. -e LD_LIBRARY_PATH=/opt/lib);
                      repeatable; -e KEY takes KEY's value from this environment
  --isa-level N       x86-64 ISA level of the target CPU, 1-4 (default: this machine's)
  --json              print the report as JSON

Exit status: 0 the driver loads, 1 it does not (or the image/driver cannot be read), 2 usage error.
`;

function formatReport(r: CheckReport): string {
  const lines: string[] = [];
  const img = r.image;
  lines.push(`Image ${img.names.join(', ') || '(untagged)'}: ${img.os ?? '?'}/${img.architecture ?? '?'}, ${img.loader ? `glibc ${img.glibc ?? '?'} (${img.loader})` : img.musl ? `musl (${img.musl})` : 'no glibc dynamic linker'}`);
  if (img.loader) lines.push(`  default directories: ${img.defaultDirs.join(' ')}`);
  lines.push(`  LD_LIBRARY_PATH: ${img.ldLibraryPath ?? '(not set)'}${img.ldLibraryPathFrom === 'run' ? ' (from -e at run time)' : ''}`);
  lines.push(`Driver ${r.driverVersion ?? 'unknown'}`);
  for (const inj of r.injections) {
    lines.push('');
    lines.push(`${inj.label}: ${inj.ok ? 'the driver loads' : 'THE DRIVER DOES NOT LOAD'}`);
    for (const p of inj.predictions) {
      const where = p.result.path === null ? 'not found' : `${p.result.path}${p.result.realPath !== p.result.path ? ` -> ${p.result.realPath}` : ''}  (${p.result.via})`;
      const mark = p.outcome === 'driver' ? 'ok   ' : p.outcome === 'missing' ? 'MISS ' : 'WRONG';
      lines.push(`  ${mark} ${p.soname} [${p.arch}]  ${where}`);
    }
  }
  if (r.findings.length > 0) {
    lines.push('');
    lines.push('Findings:');
    for (const f of r.findings) {
      lines.push(`  ${f.severity}${f.injection ? ` (${f.injection})` : ''} [${f.code}]: ${f.message}`);
      for (const e of f.evidence) lines.push(`      evidence: ${e}`);
      lines.push(`      fix: ${f.fix}`);
    }
  }
  lines.push('');
  lines.push(r.ok ? 'Result: the driver will load.' : 'Result: the driver will NOT load.');
  return `${lines.join('\n')}\n`;
}

/** One `-e` value as the engines take it: KEY=VALUE, or KEY alone for KEY's value here. */
function envEntry(value: string): string {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  // The engines refuse an empty name; a name with blanks or NUL is not one a process can read.
  if (key === '' || /[\s\0]/.test(key)) throw new UsageError(`--env needs KEY=VALUE with a non-empty KEY without blanks (got '${value.replace(/[\0-\x1f\x7f]/g, '?')}')`);
  if (eq >= 0) return value;
  const here = process.env[key];
  if (here === undefined) throw new UsageError(`--env ${key}: ${key} is not set in this environment; give ${key}=VALUE`);
  return `${key}=${here}`;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCliArgs({
    args,
    allowPositionals: true,
    options: {
      image: { type: 'string' },
      'image-ref': { type: 'string' },
      root: { type: 'string', default: '/' },
      injection: { type: 'string' },
      'isa-level': { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!values.image) throw new UsageError('--image FILE is required');
  if (values.injection !== undefined && values.injection !== 'cdi' && values.injection !== 'volume') throw new UsageError(`--injection must be cdi or volume (got '${values.injection}')`);
  const isa = values['isa-level'] === undefined ? undefined : Number(values['isa-level']);
  if (isa !== undefined && !(Number.isInteger(isa) && isa >= 1 && isa <= 4)) throw new UsageError(`--isa-level must be 1, 2, 3 or 4 (got '${values['isa-level']}')`);
  const runEnv = (values.env ?? []).map(envEntry);
  let discovery;
  try {
    discovery = discoverDriver({ root: values.root });
  } catch (err) {
    if (err instanceof RootFsError) throw new CliError(err.message);
    throw err;
  }
  const none = noDriverReason(discovery);
  if (none) throw new CliError(`no NVIDIA driver under ${discovery.root}: ${none}`);
  let image;
  try {
    image = await readImage(values.image, { ref: values['image-ref'] });
  } catch (err) {
    if (err instanceof ImageError) throw new CliError(err.message);
    throw err;
  }
  const report = checkLoadedImage(image, discovery, { injections: values.injection ? [values.injection as 'cdi' | 'volume'] : undefined, isaLevel: isa, runEnv });
  await writeOut(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : 1;
}
