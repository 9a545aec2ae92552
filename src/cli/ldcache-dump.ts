// `ldcache-dump [FILE]`: prints an ld.so.cache exactly as glibc's `ldconfig -p -C FILE` does,
// or as JSON. Startup is most of its cost, so the default path loads only the reader and the
// formatter; JSON output and filters are loaded on demand.
import { readLdCache } from '../node/read-cache.js';
import { formatLdconfigBytes } from '../core/format-ldconfig.js';
import { LdCacheError } from '../core/errors.js';
import type { LdCache } from '../core/types.js';
import { CliError, parseCliArgs, runCli, UsageError } from './run-cli.js';

const PROG = 'ldcache-dump';
const DEFAULT_CACHE = '/etc/ld.so.cache';
const GLIBC_VERSIONS = ['2.31', '2.36', '2.41'] as const;
type GlibcVersion = (typeof GLIBC_VERSIONS)[number];

const HELP = `Usage: ${PROG} [OPTIONS] [FILE]

Print the glibc dynamic linker cache FILE (default ${DEFAULT_CACHE}) byte for byte as
\`ldconfig -p -C FILE\` does, for caches of any layout (old, compat, new) and byte order.

Options:
  -r, --root DIR        read DIR/etc/ld.so.cache (or DIR/FILE), as \`ldconfig -r DIR -p\`
      --glibc VERSION   print as that glibc's ldconfig: ${GLIBC_VERSIONS.join(', ')} (default 2.36)
      --json            one JSON document: the header facts and every entry
      --ndjson          one JSON object per entry, one per line
      --arch ARCH       only entries of this ABI (x86-64, i386, x32, aarch64, armhf, s390x, ...)
      --grep PATTERN    only entries whose name or path matches the regular expression PATTERN
  -h, --help            show this help
  -V, --version         show the version

With --arch or --grep the header line counts the entries shown, not the entries in the file.
Exit status: 0 ok, 1 unreadable or invalid cache, 2 usage error.
`;

export interface DumpOptions {
  root?: string;
  image?: string;
  imageRef?: string;
  glibc: GlibcVersion;
  json: boolean;
  ndjson: boolean;
  arch?: string;
  grep?: string;
}

function parse(argv: string[]): { file: string | undefined; options: DumpOptions } | 'help' | 'version' {
  const { values, positionals } = parseCliArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: 'string', short: 'r' },
      image: { type: 'string' },
      'image-ref': { type: 'string' },
      glibc: { type: 'string', default: '2.36' },
      json: { type: 'boolean', default: false },
      ndjson: { type: 'boolean', default: false },
      arch: { type: 'string' },
      grep: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'V', default: false },
    },
  });
  if (values.help) return 'help';
  if (values.version) return 'version';
  if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}`);
  if (!(GLIBC_VERSIONS as readonly string[]).includes(values.glibc)) {
    throw new UsageError(`--glibc must be one of ${GLIBC_VERSIONS.join(', ')} (got '${values.glibc}')`);
  }
  if (values.json && values.ndjson) throw new UsageError('--json and --ndjson exclude each other');
  if (values.root === '') throw new UsageError('--root needs a directory');
  if (values.image !== undefined && values.root !== undefined) throw new UsageError('--image and --root exclude each other');
  if (values.image === '') throw new UsageError('--image needs a file');
  if (values['image-ref'] !== undefined && values.image === undefined) throw new UsageError('--image-ref needs --image');
  if (positionals[0] === '') throw new UsageError('FILE must not be empty');
  return {
    file: positionals[0],
    options: {
      root: values.root,
      image: values.image,
      imageRef: values['image-ref'],
      glibc: values.glibc as GlibcVersion,
      json: values.json,
      ndjson: values.ndjson,
      arch: values.arch,
      grep: values.grep,
    },
  };
}

async function printVersion(): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  process.stdout.write(`${PROG} ${pkg.version}\n`);
}

async function load(file: string | undefined, root: string | undefined): Promise<{ cache: LdCache; shown: string }> {
  // As ldconfig: the header names FILE as given; with a root, FILE is resolved inside it (as
  // chroot would, ldconfig -r chroots) and must be a regular file there.
  const shown = file ?? DEFAULT_CACHE;
  try {
    return { cache: readLdCache(root === undefined ? shown : { root, path: shown }), shown };
  } catch (err) {
    if (err instanceof LdCacheError) throw new CliError(err.describe());
    throw err;
  }
}

export async function main(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed === 'version') {
    await printVersion();
    return 0;
  }
  const { file, options } = parsed;
  const { cache, shown } = options.image === undefined
    ? await load(file, options.root)
    : { cache: await (await import('./ldcache-dump-image.js')).loadImageCache(options.image, file ?? DEFAULT_CACHE, options.imageRef), shown: file ?? DEFAULT_CACHE };
  const filtering = options.arch !== undefined || options.grep !== undefined;
  const include = filtering ? (await import('./ldcache-dump-filter.js')).entryFilter({ arch: options.arch, grep: options.grep }) : undefined;
  if (options.json || options.ndjson) {
    const { renderJson } = await import('./ldcache-dump-json.js');
    const view = include ? (await import('./ldcache-dump-filter.js')).filterCache(cache, include) : cache;
    process.stdout.write(renderJson(view, shown, options.ndjson ? 'ndjson' : 'json'));
    return 0;
  }
  // One write of the whole text: the formatter produces the exact bytes (names are raw bytes).
  process.stdout.write(formatLdconfigBytes(cache, shown, { glibc: options.glibc, include }));
  return 0;
}

runCli(PROG, () => main(process.argv.slice(2)));
