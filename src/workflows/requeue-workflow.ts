import { continueAsNew, defineQuery, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RequeueInput, RequeueProgress } from '../delivery-records/requeue-types';

export const requeueProgressQuery = defineQuery<RequeueProgress>('progress');

/** Pages listed per run before continuing as new, to keep each run's history small. */
const PAGES_PER_RUN = 20;
const PAGE_SIZE = 100;

const { listFailedDeliveries, requeueDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * A bulk requeue (admin): finds failed deliveries with a visibility query and starts each again,
 * at most `ratePerSecond` per second. Durable and resumable like any workflow; its progress is a
 * query, and its result once done.
 */
export async function RequeueWorkflow(input: RequeueInput): Promise<RequeueProgress> {
  const progress: RequeueProgress = input.progress ?? { matched: 0, requeued: 0, skipped: 0, errors: 0, done: false };
  setHandler(requeueProgressQuery, () => progress);
  let cursor = input.cursor ?? null;
  for (let page = 0; page < PAGES_PER_RUN; page++) {
    const remaining = input.limit - progress.matched;
    if (remaining <= 0) break;
    const found = await listFailedDeliveries({ filter: input.filter, cursor, pageSize: Math.min(PAGE_SIZE, remaining) });
    const ids = found.deliveryIds.slice(0, remaining);
    progress.matched += ids.length;
    if (!input.dryRun) await requeueAtRate(ids, input.ratePerSecond, progress);
    cursor = found.nextCursor;
    if (!cursor) break;
  }
  if (cursor && progress.matched < input.limit) {
    return await continueAsNew<typeof RequeueWorkflow>({ ...input, cursor, progress });
  }
  progress.done = true;
  return progress;
}

async function requeueAtRate(ids: string[], ratePerSecond: number, progress: RequeueProgress): Promise<void> {
  for (let i = 0; i < ids.length; i += ratePerSecond) {
    const outcomes = await Promise.all(ids.slice(i, i + ratePerSecond).map((id) => requeueDelivery(id).catch(() => 'error' as const)));
    for (const outcome of outcomes) {
      if (outcome === 'restarted') progress.requeued++;
      else if (outcome === 'error') progress.errors++;
      else progress.skipped++;
    }
    await sleep('1 second');
  }
}
