// `ldcache-dump [FILE]`: prints an ld.so.cache exactly as glibc's `ldconfig -p -C FILE` does,
// or as JSON. Startup is most of its cost, so the default path loads only the reader and the
// formatter; JSON output and filters are loaded on demand.
import { DEFAULT_CACHE_PATH, readLdCache, readLdCacheFd } from '../node/read-cache.js';
import { formatLdconfigChunks } from '../core/format-ldconfig.js';
import { LdCacheError } from '../core/errors.js';
import type { LdCache } from '../core/types.js';
import type { GlibcVersion } from '../core/abi.js';
import type { LdCacheEntry } from '../core/types.js';
import { CliError, parseCliArgs, runCli, UsageError, writeOut } from './run-cli.js';

const PROG = 'ldcache-dump';
const DEFAULT_CACHE = DEFAULT_CACHE_PATH;

const HELP = `Usage: ${PROG} [OPTIONS] [FILE]

Print the glibc dynamic linker cache FILE (default ${DEFAULT_CACHE}) byte for byte as
\`ldconfig -p -C FILE\` does, for caches of any layout (old, compat, new) and byte order.

Options:
  -r, --root DIR        read DIR/etc/ld.so.cache (or DIR/FILE), as \`ldconfig -r DIR -p\`
      --image ARCHIVE   read the /etc/ld.so.cache of a saved image: a docker save or podman
                        save archive (also gzip-compressed, or a pipe) or an OCI layout directory
      --image-ref NAME  which image of a multi-image archive (without it, the names are listed)
      --glibc VERSION   print as that glibc's ldconfig (default 2.36, Debian 12): any 2.N
                        follows glibc's changes (2.33 hwcaps names, 2.36 no OS ABI, 2.37 types,
                        2.38/2.39 ABI names), e.g. 2.35 (Ubuntu 22.04) prints as 2.33-2.35 did;
                        tested against 2.31, 2.36 and 2.41; before 2.31 prints as 2.31
      --json            one JSON document: the header facts, then one entry object per line
      --ndjson          one JSON object per entry, one per line
      --arch ARCH       only entries of this ABI (x86-64, i386, x32, aarch64, armhf, s390x, ...;
                        also x86_64, amd64, arm64, i686, ppc64el, ... as uname -m or Debian say)
      --grep PATTERN    only entries whose name or path matches the regular expression PATTERN
  -h, --help            show this help
  -V, --version         show the version

FILE - reads standard input. With --arch or --grep the header line counts the entries shown,
and a filter that matches nothing exits 1 (as grep). With --json/--ndjson an error is also a
JSON object on standard output: {"error":{"code","message","file","offset"}}.
Exit status: 0 ok, 1 unreadable or invalid cache (or no match), 2 usage error.
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
  if (!/^2\.\d{1,3}$/.test(values.glibc)) throw new UsageError(`--glibc: expected a glibc version such as 2.36 (got '${values.glibc}')`);
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
  // chroot would, ldconfig -r chroots) and must be a regular file there. `-` is standard input.
  const shown = file ?? DEFAULT_CACHE;
  if (root === undefined && shown === '-') return { cache: readLdCacheFd(0, '<stdin>'), shown };
  return { cache: readLdCache(root === undefined ? shown : { root, path: shown }), shown };
}

async function run(argv: string[]): Promise<number> {
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
  const filtering = options.arch !== undefined || options.grep !== undefined;
  // Usage errors in the filter come before any reading.
  const include = filtering ? (await import('./ldcache-dump-filter.js')).entryFilter({ arch: options.arch, grep: options.grep }) : undefined;
  const { cache, shown } = options.image === undefined
    ? await load(file, options.root)
    : { cache: await (await import('./ldcache-dump-image.js')).loadImageCache(options.image, file ?? DEFAULT_CACHE, options.imageRef), shown: file ?? DEFAULT_CACHE };
  // Counts what is shown, to exit 1 when a filter matched nothing (as grep does).
  let matched = 0;
  const counted = include && ((entry: LdCacheEntry) => include(entry) && ++matched > 0);
  if (options.json || options.ndjson) {
    const { cacheJSONChunks } = await import('../core/json.js');
    // Written as made, in chunks of about 1 MiB: the document is never held whole.
    for (const chunk of cacheJSONChunks(cache, { file: shown, root: options.root, glibc: options.glibc, include: counted, ndjson: options.ndjson })) await writeChunk(chunk);
  } else {
    for (const chunk of formatLdconfigChunks(cache, shown, { glibc: options.glibc, include: counted })) await writeChunk(chunk);
  }
  return include && matched === 0 ? 1 : 0;
}

/**
 * Writes a chunk (a view of wasm memory, reused for the next one) to stdout before returning:
 * fs.writeSync on fd 1, no copy. A non-blocking stdout (EAGAIN) gets a copy through the stream.
 */
async function writeChunk(chunk: Uint8Array): Promise<void> {
  const { writeSync } = await import('node:fs');
  let at = 0;
  while (at < chunk.length) {
    try {
      at += writeSync(1, chunk, at, chunk.length - at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // `| head` closed the pipe: end quietly, as the classic tools do.
      if (code === 'EPIPE') process.exit(0);
      if (code !== 'EAGAIN') throw err;
      await writeOut(chunk.slice(at));
      return;
    }
  }
}

/** The JSON form of an error, for --json/--ndjson consumers. */
function errorJson(err: unknown): string {
  const message = err instanceof LdCacheError ? err.message : err instanceof Error ? err.message.split('\n')[0]! : String(err);
  const code = err instanceof LdCacheError ? err.code : err instanceof UsageError ? 'USAGE' : 'ERROR';
  const fields: Record<string, unknown> = { code, message };
  if (err instanceof LdCacheError) {
    if (err.file !== undefined) fields.file = err.file;
    fields.offset = err.offset;
  }
  return `${JSON.stringify({ error: fields })}\n`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (argv.includes('--json') || argv.includes('--ndjson')) await writeOut(errorJson(err));
    if (err instanceof LdCacheError) throw new CliError(err.describe());
    throw err;
  }
}

runCli(PROG, () => main(process.argv.slice(2)));
