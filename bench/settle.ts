/**
 * Between phases: waits for the workflows of the previous phases to close, and terminates the
 * ones still running after the wait, so no phase measures the backlog another one left (the
 * bench's own stack is thrown away at the end; nothing here runs against a real deployment).
 */
import type { Client } from '@temporalio/client';
import { sleep } from './stats';

/** Terminations of one settle are capped in time like everything else. */
const TERMINATE_CAP_MS = 30_000;

export interface SettleResult {
  /** Workflows still running after the wait, terminated. */
  terminated: number;
}

export async function settle(client: Client, waitMs: number): Promise<SettleResult> {
  const running = `ExecutionStatus = 'Running'`;
  const deadline = performance.now() + waitMs;
  for (;;) {
    if ((await client.workflow.count(running)).count === 0) return { terminated: 0 };
    if (performance.now() > deadline) break;
    await sleep(250);
  }
  const stopAt = performance.now() + TERMINATE_CAP_MS;
  const ids: { workflowId: string; runId: string }[] = [];
  for await (const run of client.workflow.list({ query: running })) ids.push({ workflowId: run.workflowId, runId: run.runId });
  let terminated = 0;
  let next = 0;
  const terminator = async () => {
    for (let i = next++; i < ids.length && performance.now() < stopAt; i = next++) {
      try {
        await client.workflow.getHandle(ids[i].workflowId, ids[i].runId).terminate('benchmark phase over');
        terminated++;
      } catch {
        // It closed on its own in the meantime.
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, terminator));
  return { terminated };
}
