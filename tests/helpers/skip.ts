// Skipping a test the machine cannot run, through the runner: the test counts as
// skipped (never as passed), its reason is kept as the skip's note (shown by
// `vitest --reporter=verbose`) and printed once in the default output.
import type { TestContext } from 'vitest';

/** skips the running test when `reason` is not null */
export function skipWhen(ctx: TestContext, reason: string | null | undefined): void {
  if (!reason) return;
  console.warn(`[skipped] ${ctx.task.name}: ${reason}`);
  ctx.skip(reason);
}
