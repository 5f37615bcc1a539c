import type { Client } from '@temporalio/client';
import { listDeliveries } from './delivery-list';
import { readDelivery } from './delivery-reader';
import { deliveryQuery } from './visibility-query';

/**
 * A webhook's recent deliveries at a glance (the portal's chart): per hour, how many deliveries
 * started and how they ended, from visibility counts (one `GROUP BY ExecutionStatus` count per
 * hour, never a listing); and the latency of the attempts of the most recent deliveries, from
 * their histories. Counts are of delivery runs: a failed delivery retried later counts in the
 * hour of each run.
 */

export interface HourBucket {
  /** Start of the hour (ISO 8601). */
  start: string;
  delivered: number;
  failed: number;
  canceled: number;
  inProgress: number;
}

export interface AttemptLatency {
  deliveryId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface DeliveryHistogram {
  from: string;
  to: string;
  hours: HourBucket[];
  attempts: AttemptLatency[];
}

const HOUR_MS = 3_600_000;
/** Deliveries whose attempts make the latency series: bounded, each costs a history read. */
export const LATENCY_SAMPLE = 25;
/** Count queries in flight at once. */
const CONCURRENCY = 8;

const OUTCOME_OF: Record<string, keyof Omit<HourBucket, 'start'>> = {
  Completed: 'delivered',
  Failed: 'failed',
  TimedOut: 'failed',
  Canceled: 'canceled',
  Terminated: 'canceled',
  Running: 'inProgress',
  ContinuedAsNew: 'inProgress',
};

async function countHour(client: Client, tenantId: string, webhookId: string, start: Date): Promise<HourBucket> {
  const bucket: HourBucket = { start: start.toISOString(), delivered: 0, failed: 0, canceled: 0, inProgress: 0 };
  const query = deliveryQuery({ tenantId, webhookId, since: start, until: new Date(start.getTime() + HOUR_MS) });
  const { count, groups } = await client.workflow.count(`${query} GROUP BY ExecutionStatus`);
  if (!groups.length && count > 0) bucket.inProgress = count;
  for (const group of groups) {
    const outcome = OUTCOME_OF[String(group.groupValues[0])];
    if (outcome) bucket[outcome] += group.count;
  }
  return bucket;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

export async function deliveryHistogram(client: Client, tenantId: string, webhookId: string, hours: number, now = new Date()): Promise<DeliveryHistogram> {
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const starts = Array.from({ length: hours }, (_, i) => new Date(end - (hours - i) * HOUR_MS));
  const from = starts[0];
  const [buckets, recent] = await Promise.all([
    inBatches(starts, CONCURRENCY, (start) => countHour(client, tenantId, webhookId, start)),
    listDeliveries(client, { tenantId, webhookId, since: from }, LATENCY_SAMPLE),
  ]);
  const details = await inBatches(recent.deliveries, CONCURRENCY, (d) => readDelivery(client, d.id, tenantId));
  const attempts = details.flatMap((d) =>
    (d?.attempts ?? []).flatMap((a) =>
      a.durationMs === null ? [] : [{ deliveryId: d!.id, attempt: a.attempt, startedAt: a.startedAt, durationMs: a.durationMs, statusCode: a.statusCode, error: a.error }],
    ),
  );
  attempts.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return { from: from.toISOString(), to: new Date(end).toISOString(), hours: buckets, attempts };
}
