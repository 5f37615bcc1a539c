import { Context } from '@temporalio/activity';
import { listDeliveries } from '../deliveries/delivery-list';
import { restartDelivery, type RestartOutcome } from '../deliveries/delivery-restart';
import type { FailedDeliveryPage, RequeueFilter } from '../deliveries/requeue-types';
import { requeues } from '../metrics/metrics';

/** Activities of the bulk requeue; they use the worker's own Temporal client. */
export const createRequeueActivities = () => ({
  async listFailedDeliveries({ filter, cursor, pageSize }: { filter: RequeueFilter; cursor: string | null; pageSize: number }): Promise<FailedDeliveryPage> {
    const page = await listDeliveries(
      Context.current().client,
      {
        ...filter,
        status: 'failed',
        since: filter.since ? new Date(filter.since) : undefined,
        until: filter.until ? new Date(filter.until) : undefined,
      },
      pageSize,
      cursor ?? undefined,
    );
    return { deliveryIds: page.deliveries.map((d) => d.id), nextCursor: page.nextCursor };
  },

  async requeueDelivery(deliveryId: string): Promise<RestartOutcome> {
    const outcome = await restartDelivery(Context.current().client, deliveryId);
    if (outcome === 'restarted') requeues.inc({ source: 'bulk' });
    return outcome;
  },
});
