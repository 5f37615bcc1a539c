/**
 * Worker Versioning (docs/operations.md, "Deploys and rollbacks"): a worker polls as one version
 * of a Worker Deployment (its name and a build id), and every workflow is pinned to the version
 * whose worker ran its first task: during a deploy or a rollback no build ever replays another
 * build's history, whatever version its input names, so an older build may be made current again
 * while the newer one finishes its runs. Where one build runs at a time (`npm start`), the build
 * made current adopts the runs pinned to the others (they move to it, as unversioned runs did:
 * its changes to a workflow go behind `patched()`).
 */
import { createHash } from 'node:crypto';
import type { Client, ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { WorkerVersioningSettings } from '../config/config';

const Status = temporal.api.enums.v1.WorkerDeploymentVersionStatus;
const RoutingUpdate = temporal.api.enums.v1.RoutingConfigUpdateState;

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/** A build's id from its workflow code: the same code is the same build, on every host. */
export function buildIdOf(workflowCode: string): string {
  return createHash('sha256').update(workflowCode).digest('hex').slice(0, 16);
}

/** The version a worker with these settings polls as; `codeBuildId` (buildIdOf its workflow code) unless the settings name one. */
export function deploymentVersionOf(settings: WorkerVersioningSettings, codeBuildId: string): DeploymentVersion {
  return { deploymentName: settings.deploymentName, buildId: settings.buildId ?? codeBuildId };
}

export type PromoteOutcome = 'promoted' | 'already current' | 'kept (not a new build)' | 'kept (WORKER_PROMOTE=never)';

/** This version's status in its deployment; null while the server has not seen a poll of it. */
export async function versionStatus(connection: ConnectionLike, namespace: string, version: DeploymentVersion): Promise<number | null> {
  try {
    const { workerDeploymentInfo } = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName: version.deploymentName });
    const summary = workerDeploymentInfo?.versionSummaries?.find((s) => s.deploymentVersion?.buildId === version.buildId);
    return summary?.status ?? null;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return null; // NOT_FOUND: the deployment's first poll is still to come
    throw err;
  }
}

/**
 * Makes `version` current: new executions (and retried deliveries at their next task) go to it once
 * the server has carried the new routing to the deployment's task queues, which this waits for (at
 * most `propagateWithinMs`): until then a run started may still go to the version current before
 * (a rolling-deploy test saw one). Servers before 1.30 do not report it.
 */
export async function setCurrentVersion(
  connection: ConnectionLike,
  namespace: string,
  version: DeploymentVersion,
  identity: string,
  { propagateWithinMs = 30_000, pollEveryMs = 200 } = {},
): Promise<void> {
  const { deploymentName } = version;
  await connection.workflowService.setWorkerDeploymentCurrentVersion({ namespace, deploymentName, buildId: version.buildId, identity });
  const deadline = Date.now() + propagateWithinMs;
  while (Date.now() < deadline) {
    const { workerDeploymentInfo } = await connection.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    if (workerDeploymentInfo?.routingConfigUpdateState !== RoutingUpdate.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS) return;
    await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
  }
}

/**
 * Makes this worker's version current as `promote` says, once the server has seen it poll:
 * `always`; `new`, only a version never current before (INACTIVE), so a deploy's new build takes
 * over by itself and a superseded build that restarts (or a rollback's) waits for an operator.
 */
export async function promoteVersion(
  connection: ConnectionLike,
  namespace: string,
  version: DeploymentVersion,
  promote: WorkerVersioningSettings['promote'],
  identity: string,
  { seenWithinMs = 120_000, pollEveryMs = 500 } = {},
): Promise<PromoteOutcome> {
  if (promote === 'never') return 'kept (WORKER_PROMOTE=never)';
  const deadline = Date.now() + seenWithinMs;
  for (;;) {
    const status = await versionStatus(connection, namespace, version);
    if (status === Status.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT) return 'already current';
    if (status !== null) {
      if (promote === 'new' && status !== Status.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE && status !== Status.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED) {
        return 'kept (not a new build)';
      }
      try {
        await setCurrentVersion(connection, namespace, version, identity);
        return 'promoted';
      } catch (err) {
        // FAILED_PRECONDITION: one of its task queues has not polled yet (both must, or it would go unversioned).
        if ((err as { code?: number }).code !== 9 || Date.now() > deadline) throw err;
      }
    }
    if (Date.now() > deadline) throw new Error(`the server did not see version ${version.deploymentName}.${version.buildId} poll within ${seenWithinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
  }
}

/**
 * Moves the open runs pinned to other versions of the deployment onto the current version (an
 * auto-upgrade override): for one build at a time, whose predecessors have no worker left.
 * Returns how many it moved.
 */
export async function adoptPinnedRuns(client: Client, version: DeploymentVersion): Promise<number> {
  const { deploymentName, buildId } = version;
  const query = [
    `TemporalWorkerDeployment = ${JSON.stringify(deploymentName)}`,
    `TemporalWorkerDeploymentVersion != ${JSON.stringify(`${deploymentName}:${buildId}`)}`,
    `TemporalWorkflowVersioningBehavior = "Pinned"`,
    `ExecutionStatus = "Running"`,
  ].join(' AND ');
  let moved = 0;
  for await (const run of client.workflow.list({ query })) {
    await client.workflowService.updateWorkflowExecutionOptions({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowExecutionOptions: { versioningOverride: { autoUpgrade: true } },
      updateMask: { paths: ['versioning_override'] },
    });
    moved++;
  }
  return moved;
}
