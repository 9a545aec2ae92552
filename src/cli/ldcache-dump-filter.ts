// `--arch` / `--grep` for ldcache-dump: which entries to show. The text and JSON outputs hand
// the test to their formatters, so the lines stay exactly ldconfig's and the count describes
// what is shown.
import type { LdCacheEntry } from '../core/types.js';
import { UsageError } from './run-cli.js';

export interface EntryFilter {
  arch?: string;
  grep?: string;
}

/** The ABI names entries carry (LdCacheEntry.arch). */
const ARCH_NAMES = [
  'x86-64', 'i386', 'x32', 'aarch64', 'armhf', 'armel', 'arm', 's390x', 's390', 'ppc64', 'ppc', 'mips64', 'mipsn32', 'mips',
  'riscv64', 'loongarch64', 'ia64', 'sparc64', 'sparc',
];

/** Other spellings people use: `uname -m`, Debian architectures, common aliases. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'x86-64', amd64: 'x86-64', x64: 'x86-64',
  i686: 'i386', i586: 'i386', i486: 'i386', x86: 'i386', ia32: 'i386',
  arm64: 'aarch64', armv8: 'aarch64',
  armv7l: 'armhf', armv7: 'armhf', armv7hl: 'armhf',
  ppc64el: 'ppc64', ppc64le: 'ppc64',
  mips64el: 'mips64', mipsel: 'mips',
  loong64: 'loongarch64',
};

/** The entry arch name for what the user typed; a UsageError listing the names for anything else. */
export function normalizeArch(given: string): string {
  const lower = given.toLowerCase();
  if (ARCH_NAMES.includes(lower)) return lower;
  const alias = ARCH_ALIASES[lower];
  if (alias) return alias;
  throw new UsageError(`--arch: unknown architecture '${given}' (known: ${ARCH_NAMES.join(', ')}; also ${Object.keys(ARCH_ALIASES).join(', ')})`, false);
}

function compile(pattern: string): RegExp {
  try {
    return new RegExp(pattern);
  } catch (err) {
    // V8's message already says "Invalid regular expression: /(/: ...".
    throw new UsageError(`--grep: ${(err as Error).message}`);
  }
}

/** The test an entry must pass to be shown. */
export function entryFilter(filter: EntryFilter): (entry: LdCacheEntry) => boolean {
  const pattern = filter.grep === undefined ? undefined : compile(filter.grep);
  const arch = filter.arch === undefined ? undefined : normalizeArch(filter.arch);
  return (entry) =>
    (arch === undefined || entry.arch === arch) &&
    (pattern === undefined || pattern.test(entry.name) || pattern.test(entry.path));
}
