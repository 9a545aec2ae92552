// What a test needs from the machine, and what happens when it is missing.
//
// Locally a test that cannot run is a real vitest skip, with the reason as its note (shown in the
// report). On CI (CI=true: Debian 12 as root, where every component can be installed by
// scripts/ensure-test-deps.mjs) it FAILS with the reason instead, unless the test is on the one
// short list in test/helpers/allowed-skips.ts. Never `return` early from a test that could not
// check anything: call `need()`.
//
//   it('runs a container', (ctx) => { need(ctx, dockerMissing); ... });
//   describeNeeding('with a real Docker engine', await dockerdSkipReason(), () => { ... });
import { describe, it, type TestContext } from 'vitest';
import { isAllowedSkip, onCI } from './allowed-skips.js';

export { onCI };

/** A reason the test cannot run, or nothing (undefined, null, false, '') when it can. */
export type Missing = string | undefined | null | false;

function fullName(ctx: TestContext): string {
  const names: string[] = [];
  for (let t: { name: string; suite?: unknown } | undefined = ctx.task; t; t = (t as { suite?: { name: string; suite?: unknown } }).suite as typeof t) {
    if (t.name) names.unshift(t.name);
  }
  return names.join(' > ');
}

/**
 * Stops the test when `missing` gives a reason: a skip with that reason locally (or on CI for a
 * listed test), a failure naming the reason on CI. Returns normally when nothing is missing.
 */
export function need(ctx: TestContext, missing: Missing): void {
  if (!missing) return;
  const file = ctx.task.file?.filepath ?? ctx.task.file?.name ?? '';
  if (onCI && !isAllowedSkip(file, fullName(ctx))) {
    throw new Error(`cannot run on CI: ${missing} (a test may skip on CI only when listed in test/helpers/allowed-skips.ts)`);
  }
  ctx.skip(missing);
}

/**
 * A describe block whose every test needs the same component. When it is missing, the block is
 * one test named after the reason (`needs: REASON`), which skips locally and fails on CI; the
 * body (with its hooks, which would start the missing component) is not run at all.
 */
export function describeNeeding(name: string, missing: Missing, body: () => void): void {
  if (!missing) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    it(`needs: ${missing}`, (ctx) => need(ctx, missing));
  });
}
