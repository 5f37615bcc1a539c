/**
 * The workflow code a new fan-out or delivery execution is started with, carried in its input
 * (`version`). For every change made before it, a workflow branches on the version instead of
 * `patched()`: the input is in the history, so the branch replays the same, and a new execution
 * records no patch markers and no `TemporalChangeVersion` search-attribute upserts (a fan-out
 * made four of each, every upsert a visibility write on the server). Executions started without
 * a version (before it, or by an older API) still take their `patched()` paths, and a worker
 * that predates it ignores the field and calls `patched()`, which is true for a new execution:
 * either way a new execution runs the same code. A later change bumps this and branches on
 * `version >= N`, or calls `patched()` as before.
 *
 * - 1: every change before it, with no `patched()` call.
 * - 2: the batches of first attempts of a fan-out's last page record the outcomes that end there
 *   in their own local activity (`deliverAndRecordFirstAttempts`); runs started at 1 keep a
 *   record activity for every page.
 */
export const WORKFLOW_VERSION = 2;

/** True when the execution was started with version `at` or later: the changes before it need no `patched()`. */
export function startedAtVersion(input: { version?: number }, at: number): boolean {
  return (input.version ?? 0) >= at;
}
