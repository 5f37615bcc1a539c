import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { installQuietRuntime } from './harness';
import { uniqueName } from './stack';

/** `temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD`. */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

export type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/**
 * The time-skipping test server (provisioned by `npm test`, path in TEMPORAL_TEST_SERVER) with
 * the product's search attributes registered, as the dev server has them.
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const path = process.env.TEMPORAL_TEST_SERVER;
  if (!path) throw new Error('time-skipping tests need TEMPORAL_TEST_SERVER: run them with `npm test`');
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

/** Milliseconds since the epoch of a history event (server time: virtual on the time-skipping server). */
export function eventTimeMs(event: HistoryEvent): number {
  const { seconds, nanos } = event.eventTime!;
  return Number(seconds) * 1000 + Math.floor((nanos ?? 0) / 1e6);
}

/** What `useStubbedWorkflows` gives a suite: its server (set in `beforeAll`) and the worker's task queue. */
export interface StubbedWorkflows {
  env: TestWorkflowEnvironment;
  taskQueue: string;
}

/**
 * A suite's time-skipping server and a worker of the product's workflows on a task queue of its
 * own, its activities `stubs`; stopped after the suite.
 */
export function useStubbedWorkflows(stubs: Partial<Activities>): StubbedWorkflows {
  const ctx = { taskQueue: uniqueName('tq') } as StubbedWorkflows;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    ctx.env = await startTimeSkipping();
    worker = await Worker.create({ connection: ctx.env.nativeConnection, taskQueue: ctx.taskQueue, workflowsPath: require.resolve('../../src/workflows'), activities: stubs });
    running = worker.run();
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await ctx.env?.teardown();
  });
  return ctx;
}
