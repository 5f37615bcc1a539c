import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { WorkerConcurrency } from '../config/config';
import { workflowBundle } from './workflow-bundle';

/** The defaults of the WORKER_* settings (config.ts). */
export const DEFAULT_WORKER_CONCURRENCY: WorkerConcurrency = {
  maxConcurrentWorkflowTasks: 40,
  maxConcurrentActivities: 100,
  maxConcurrentLocalActivities: 200,
  maxCachedWorkflows: 1000,
};

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The workflows bundled by a supervisor (workflow-bundle.ts); bundled now when absent. */
  workflowBundleFile?: string;
  /** Slots and cache of this worker. @default DEFAULT_WORKER_CONCURRENCY */
  concurrency?: WorkerConcurrency;
}

/** Builds (does not run) a worker that hosts the workflows and the delivery activities. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(options.workflowBundleFile),
    activities: createActivities(options.deps),
    maxConcurrentWorkflowTaskExecutions: concurrency.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: concurrency.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: concurrency.maxConcurrentLocalActivities,
    maxCachedWorkflows: concurrency.maxCachedWorkflows,
  });
}
