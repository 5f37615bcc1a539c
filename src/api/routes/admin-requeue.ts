import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RequeueInput, RequeueProgress } from '../../delivery-records/requeue-types';
import { newId } from '../../ids';
import { RequeueWorkflow, requeueProgressQuery } from '../../workflows/requeue-workflow';
import { notFound } from '../errors';
import { operationParamsSchema, requeueInputSchema } from '../schemas/operation';
import { route } from '../validate';
import { literal } from '../../temporal/literal';

/** `/v1/admin/requeue` and `/v1/admin/operations/{id}`: bulk requeue as a durable workflow. */
export function adminRequeueRouter(temporal: Client, taskQueue: string): Router {
  const router = Router();

  router.post(
    '/requeue',
    route({ body: requeueInputSchema }, async ({ body }, _req, res) => {
      const { limit, dryRun, ratePerSecond, ...filter } = body;
      const operationId = newId('op');
      const input: RequeueInput = { filter, limit, dryRun, ratePerSecond };
      await temporal.workflow.start(RequeueWorkflow, {
        workflowId: operationId,
        taskQueue,
        args: [input],
        staticSummary: `${dryRun ? 'dry run: ' : ''}requeue failed deliveries ${literal(JSON.stringify(filter))}`,
      });
      res.status(202).json({ operationId });
    }),
  );

  router.get(
    '/operations/:id',
    route({ params: operationParamsSchema }, async ({ params }, _req, res) => {
      const handle = temporal.workflow.getHandle<typeof RequeueWorkflow>(params.id);
      const description = await handle.describe().catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      });
      if (!description || description.type !== 'RequeueWorkflow') throw notFound('operation');
      const running = description.status.name === 'RUNNING';
      let progress: RequeueProgress | undefined;
      if (running) progress = await handle.query(requeueProgressQuery);
      else if (description.status.name === 'COMPLETED') progress = await handle.result();
      const history = await handle.fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const { filter, limit, dryRun } = temporal.workflow.options.loadedDataConverter.payloadConverter.fromPayload<RequeueInput>(input!);
      res.json({
        operation: {
          id: params.id,
          type: 'requeue',
          status: running ? 'running' : description.status.name === 'COMPLETED' ? 'completed' : 'failed',
          filter,
          limit,
          dryRun,
          progress: progress ? { matched: progress.matched, requeued: progress.requeued, skipped: progress.skipped, errors: progress.errors } : null,
          createdAt: description.startTime.toISOString(),
          completedAt: description.closeTime?.toISOString() ?? null,
        },
      });
    }),
  );

  return router;
}
