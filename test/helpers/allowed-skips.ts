// The one list of tests that may skip on CI (`CI=true`: Debian 12, root, apt and npm reachable).
// Everything else that cannot run there FAILS with its reason (test/helpers/requirements.ts), and
// test/helpers/skip-reporter.ts fails a CI run in which any test outside this list was skipped.
// Keep it short: an entry is a test that cannot apply on Debian 12 as root, never a test whose
// component merely failed to install. The README's "Tests" section repeats this list.
//
// Each entry names the test file and the test's full name (describe blocks joined by ' > ');
// the reason is part of the test's own name, so a skip report always says why.

export interface AllowedSkip {
  /** Test file, relative to the repository root. */
  file: string;
  /** Full test name (`describe > … > test`). */
  test: string;
}

export const ALLOWED_SKIPS: readonly AllowedSkip[] = [];

/** True when the test `fullName` of `file` is on the list. */
export function isAllowedSkip(file: string, fullName: string): boolean {
  const normalized = file.replace(/\\/g, '/');
  return ALLOWED_SKIPS.some((s) => (normalized === s.file || normalized.endsWith(`/${s.file}`)) && s.test === fullName);
}

/** Whether this run is a CI run (CI=true or CI=1, as CI services set it). */
export const onCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
