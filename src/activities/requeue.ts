import { Context } from '@temporalio/activity';
import { listDeliveries } from '../delivery-records/delivery-list';
import { restartDelivery, type RestartOutcome } from '../delivery-records/delivery-restart';
import type { FailedDeliveryPage, RequeueFilter } from '../delivery-records/requeue-types';
import { requeues } from '../metrics/metrics';
import type { Models } from '../models';

/** Activities of the bulk requeue: failed deliveries from the deliveries index, restarted with the worker's own client. */
export const createRequeueActivities = (models: Models) => ({
  async listFailedDeliveries({ filter, cursor, pageSize }: { filter: RequeueFilter; cursor: string | null; pageSize: number }): Promise<FailedDeliveryPage> {
    const [time, id] = cursor ? [Number(cursor.slice(0, cursor.indexOf(':'))), cursor.slice(cursor.indexOf(':') + 1)] : [];
    const page = await listDeliveries(
      models,
      {
        ...filter,
        status: 'failed',
        since: filter.since ? new Date(filter.since) : undefined,
        until: filter.until ? new Date(filter.until) : undefined,
      },
      pageSize,
      cursor ? { createdAt: new Date(time as number), id: id as string } : undefined,
    );
    return {
      deliveryIds: page.deliveries.map((d) => d.id),
      nextCursor: page.next ? `${page.next.createdAt.getTime()}:${page.next.id}` : null,
    };
  },

  async requeueDelivery(deliveryId: string): Promise<RestartOutcome> {
    const outcome = await restartDelivery(Context.current().client, models, deliveryId, Context.current().info.taskQueue);
    if (outcome === 'restarted') requeues.inc({ source: 'bulk' });
    return outcome;
  },
});
