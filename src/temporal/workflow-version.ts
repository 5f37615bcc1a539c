/**
 * The workflow code a new fan-out or delivery execution is started with, carried in its input
 * (`version`). For every change made before it, a workflow branches on the version instead of
 * `patched()`: the input is in the history, so the branch replays the same, and a new execution
 * records no patch markers and no `TemporalChangeVersion` search-attribute upserts (a fan-out
 * made four of each, every upsert a visibility write on the server). Executions started without
 * a version (before it, or by an older API) still take their `patched()` paths, and a worker
 * that predates it ignores the field and calls `patched()`, which is true for a new execution:
 * either way a new execution runs the same code.
 *
 * The field records what the starter asked for, not what the executing worker did: an older
 * build running a newer execution takes the older path, and a newer build replaying that history
 * would take the newer one (a non-determinism error). Worker Versioning closes that
 * (temporal/worker-deployment.ts): every run is pinned to the build of its first task, so the
 * same build always replays it. With WORKER_VERSIONING=false the field is safe only where one
 * build runs at a time. Do not add versions here: a new change to a workflow goes behind
 * `patched()`, which runs where a single-build upgrade adopts pinned runs (npm start).
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
