/**
 * The namespace of a self-hosted cluster: a cluster creates none but its system namespace, so the
 * embedded cluster registers the service's (with the service's retention) as production's
 * operator does with `temporal operator namespace create --retention`.
 */
import { isGrpcServiceError, type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';

/** gRPC's status code for a namespace registered already. */
const ALREADY_EXISTS = 6;

/** Registers `namespace` keeping closed workflows' histories `retentionDays`, or sets that retention on one that exists. */
export async function ensureNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  const workflowExecutionRetentionPeriod = msToTs(retentionDays * 24 * 3600 * 1000);
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod });
  } catch (err) {
    if (!isGrpcServiceError(err) || err.code !== ALREADY_EXISTS) throw err;
    await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: workflowExecutionRetentionPeriod } });
  }
}
