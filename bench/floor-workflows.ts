/**
 * The Temporal floor: what the event-workflow-with-local-activities topology costs on this dev
 * server when the work itself costs nothing (no MongoDB, no HTTP). Registered only on the
 * bench's own worker and task queue, never on the product's.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { floorActivities } from './floor-activities';

const { noop } = proxyLocalActivities<typeof floorActivities>({ startToCloseTimeout: '10 seconds' });

/** One event's workflow: one local activity per webhook, all in parallel. */
export async function floorFanoutWorkflow(fanOut: number): Promise<number> {
  await Promise.all(Array.from({ length: fanOut }, (_, i) => noop(i)));
  return fanOut;
}

/** Does nothing: the raw cost of a workflow start and its first task. */
export async function emptyWorkflow(): Promise<void> {}
