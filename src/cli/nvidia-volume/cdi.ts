// `nvidia-volume cdi`: writes a Container Device Interface spec for the driver under --root.
import { resolve } from 'node:path';
import { CdiSpecError, formatCdiSpec, generateCdiSpec, writeSpecFileIfChanged, type CdiFormat } from '../../node/cdi.js';
import { hostErrorFrom } from '../../node/errors.js';
import { NoDriverError } from '../../node/no-driver.js';
import { removeSpecFile } from '../../node/cdi-write.js';
import { CliError, parseCliArgs, UsageError, writeOut } from '../run-cli.js';

const usage = `Usage: nvidia-volume cdi [OPTIONS]
       nvidia-volume cdi list [--spec-dir DIR]...
       nvidia-volume cdi validate FILE...

Write a CDI spec (for Podman, Docker 25+, containerd, CRI-O) for the NVIDIA driver under ROOT:
one device per GPU by index and by UUID, plus 'all'. With --output, a file whose content would
not change is left as it is (same inode and mtime), so running it again is cheap and engines see
no change. 'list' prints the devices the installed specs define; 'validate' checks spec files.

Options:
  --root DIR            driver root (default /)
  --host-root DIR       where the engine sees that root, if elsewhere (e.g. --root /host --host-root /)
  --format json|yaml    output format (default: from --output's extension, else json)
  -o, --output FILE     write FILE atomically (mode 0644) instead of printing
  --kind VENDOR/CLASS   device kind (default nvidia.com/gpu)
  --cdi-version X.Y.Z   declare this cdiVersion (default: the lowest the spec needs, at most 0.5.0)
  --remove-if-no-driver with --output: when ROOT has no driver, remove FILE and exit 0 (the
                        refresh service uses it, so a removed driver leaves no stale spec)
  -h, --help            show this help

Example: nvidia-volume cdi --output /etc/cdi/nvidia.yaml && podman run --device nvidia.com/gpu=all IMAGE
`;

function pickFormat(format: string | undefined, output: string | undefined): CdiFormat {
  const fromName = output && /\.ya?ml$/i.test(output) ? 'yaml' : output && /\.json$/i.test(output) ? 'json' : undefined;
  if (format !== undefined && format !== 'json' && format !== 'yaml') throw new UsageError(`--format must be json or yaml, not '${format}'`);
  // Engines choose the parser by the file's extension: the two must agree.
  if (format !== undefined && fromName !== undefined && format !== fromName) {
    throw new UsageError(`--format ${format} does not match the extension of '${output}'`);
  }
  return (format as CdiFormat | undefined) ?? fromName ?? 'json';
}

const subcommands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  list: () => import('./cdi-list.js'),
  validate: () => import('./cdi-validate.js'),
};

export async function run(args: string[]): Promise<number> {
  const sub = args[0];
  if (sub !== undefined && Object.hasOwn(subcommands, sub)) return (await subcommands[sub]!()).run(args.slice(1));
  const { values } = parseCliArgs({
    args,
    options: {
      root: { type: 'string' },
      'host-root': { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      kind: { type: 'string' },
      'cdi-version': { type: 'string' },
      'remove-if-no-driver': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(usage);
    return 0;
  }
  const format = pickFormat(values.format, values.output);
  const root = resolve(values.root ?? '/');
  let generated;
  try {
    const hostRoot = values['host-root'] === undefined ? undefined : resolve(values['host-root']);
    generated = await generateCdiSpec({ root, hostRoot, kind: values.kind, cdiVersion: values['cdi-version'] });
  } catch (err) {
    if (err instanceof NoDriverError && values['remove-if-no-driver'] && values.output !== undefined) {
      // The driver is gone: so must its spec be, or engines would mount files that no longer exist.
      let removed: boolean;
      try {
        removed = await removeSpecFile(values.output);
      } catch (failure) {
        throw new CliError(`${err.message}; cannot remove ${values.output}: ${hostErrorFrom(failure, values.output).reason}`);
      }
      process.stderr.write(`nvidia-volume cdi: ${err.message}; ${removed ? `removed ${values.output}` : `no ${values.output} to remove`}\n`);
      return 0;
    }
    if (err instanceof CdiSpecError) throw new CliError(err.message);
    throw err;
  }
  for (const warning of generated.warnings) process.stderr.write(`nvidia-volume cdi: warning: ${warning}\n`);
  const text = formatCdiSpec(generated.spec, format);
  if (values.output === undefined) {
    await writeOut(text);
    return 0;
  }
  if (!/\.(json|ya?ml)$/i.test(values.output)) {
    process.stderr.write(`nvidia-volume cdi: warning: engines read only *.json and *.yaml files from their spec directories\n`);
  }
  try {
    await writeSpecFileIfChanged(values.output, text);
  } catch (err) {
    // From the code: Node's message names the temp file, the user knows only the target; a
    // directory on the way that cannot be made is named.
    const cause = hostErrorFrom(err, values.output);
    throw new CliError(`cannot write ${values.output}: ${cause.path === values.output ? cause.reason : cause.message}`);
  }
  return 0;
}
