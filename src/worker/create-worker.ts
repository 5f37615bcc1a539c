import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import type { WorkerConcurrency, WorkerVersioningSettings } from '../config/config';
import { retryTaskQueue } from '../temporal/task-queues';
import { deploymentVersionOf, type DeploymentVersion } from '../temporal/worker-deployment';
import type { Tracing } from '../tracing/tracing';
import { workflowBundle } from './workflow-bundle';

/** The defaults of the WORKER_* settings (config.ts). */
export const DEFAULT_WORKER_CONCURRENCY: WorkerConcurrency = {
  maxConcurrentWorkflowTasks: 100,
  maxConcurrentRetryWorkflowTasks: 6,
  maxConcurrentActivities: 100,
  maxConcurrentLocalActivities: 200,
  maxCachedWorkflows: 1000,
};

/** Workflows the retry queue's worker keeps cached between their tasks, at most. */
const RETRY_CACHED_WORKFLOWS = 100;

export interface CreateWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** The workflows bundled by a supervisor (workflow-bundle.ts); bundled now when absent. */
  workflowBundleFile?: string;
  /** Slots and cache of these workers. @default DEFAULT_WORKER_CONCURRENCY */
  concurrency?: WorkerConcurrency;
  /** Poll as a version of a Worker Deployment (temporal/worker-deployment.ts). @default unversioned */
  versioning?: WorkerVersioningSettings | null;
  /** Spans of workflows, activities and attempts (tracing/tracing.ts); the bundle then includes the workflow interceptors. @default untraced */
  tracing?: Tracing | null;
}

export interface CreatedWorkers {
  workers: [fanouts: Worker, retries: Worker];
  /** The version they poll as; null when unversioned. */
  version: DeploymentVersion | null;
}

/**
 * Builds (does not run) a worker process's two workers, on one connection, one bundle and one
 * set of activities: one polls `taskQueue` (fan-outs and their inline first attempts, requeues),
 * the other its retry queue (retried deliveries) with a small workflow-task budget of its own.
 */
export async function createWorkers(options: CreateWorkersOptions): Promise<CreatedWorkers> {
  const concurrency = options.concurrency ?? DEFAULT_WORKER_CONCURRENCY;
  const tracing = options.tracing ?? undefined;
  const bundle = await workflowBundle(options.workflowBundleFile, Boolean(tracing));
  const version = options.versioning ? deploymentVersionOf(options.versioning, bundle.buildId) : null;
  const shared = {
    connection: options.connection,
    namespace: options.namespace,
    workflowBundle: { code: bundle.code },
    ...tracing?.workerOptions,
    // Every run is pinned to the build that started it (deliveries too: a rollback must not replay a newer patch).
    ...(version ? { workerDeploymentOptions: { useWorkerVersioning: true as const, version, defaultVersioningBehavior: 'PINNED' as const } } : {}),
    activities: createActivities({ ...options.deps, traceAttempt: tracing?.traceAttempt }),
    maxConcurrentActivityTaskExecutions: concurrency.maxConcurrentActivities,
    maxConcurrentLocalActivityExecutions: concurrency.maxConcurrentLocalActivities,
    maxCachedWorkflows: concurrency.maxCachedWorkflows,
  };
  const fanouts = await Worker.create({ ...shared, taskQueue: options.taskQueue, maxConcurrentWorkflowTaskExecutions: concurrency.maxConcurrentWorkflowTasks });
  const retries = await Worker.create({
    ...shared,
    taskQueue: retryTaskQueue(options.taskQueue),
    maxConcurrentWorkflowTaskExecutions: concurrency.maxConcurrentRetryWorkflowTasks,
    // A retried delivery waits seconds to hours between its few tasks: caching it buys little,
    // and replaying its short history is cheap; each cached workflow costs worker memory.
    maxCachedWorkflows: Math.min(concurrency.maxCachedWorkflows, RETRY_CACHED_WORKFLOWS),
  });
  return { workers: [fanouts, retries], version };
}

/**
 * Runs the workers until SIGINT/SIGTERM (or `shutdown()` of each), in-flight tasks finished. One
 * that fails stops the others; its error is thrown once all have stopped.
 */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = await Promise.allSettled(
    workers.map((worker) =>
      worker.run().catch((err: unknown) => {
        shutDownWorkers(workers);
        throw err;
      }),
    ),
  );
  const failed = runs.find((run): run is PromiseRejectedResult => run.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Asks each running worker to stop polling and finish what it has (as SIGTERM does). */
export function shutDownWorkers(workers: Worker[]): void {
  for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
}
