import type { Client } from '@temporalio/client';
import type { Models } from '../models';
import type { DeliveryDoc } from '../models/delivery';
import { deliveryFilter } from './delivery-list';
import { indexedAttempts, RunHistories, type AttemptSource } from './delivery-reader';

/**
 * A webhook's recent deliveries at a glance (the portal's chart): per hour in which a delivery
 * was created, how many there were and where they stand now, from the deliveries index (each
 * delivery once, whatever its runs and retries); and the latency of the attempts of the most
 * recent deliveries, from their histories.
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
/** What the counts use, and what says where a delivery's attempts are (indexedAttempts). */
const READ_FIELDS = { status: 1, createdAt: 1, tenantId: 1, eventId: 1, retried: 1, fanoutRunId: 1, firstAttempt: 1 };
type ReadDoc = AttemptSource & Pick<DeliveryDoc, 'status' | 'createdAt'>;
/** History reads in flight at once. */
const CONCURRENCY = 8;

const BUCKET_OF: Record<DeliveryDoc['status'], keyof Omit<HourBucket, 'start'>> = {
  delivered: 'delivered',
  failed: 'failed',
  canceled: 'canceled',
  pending: 'inProgress',
  retrying: 'inProgress',
};

async function inBatches<T, R>(items: T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return results;
}

/** The `count` most recent deliveries, in the lists' order (creation time, then id, newest first). */
function mostRecent(docs: ReadDoc[], count: number): ReadDoc[] {
  const newestFirst = (a: ReadDoc, b: ReadDoc) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : a._id > b._id ? -1 : 0);
  return [...docs].sort(newestFirst).slice(0, count);
}

export async function deliveryHistogram(client: Client, models: Models, tenantId: string, webhookId: string, hours: number, now = new Date()): Promise<DeliveryHistogram> {
  const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({
    start: new Date(end - (hours - i) * HOUR_MS).toISOString(),
    delivered: 0,
    failed: 0,
    canceled: 0,
    inProgress: 0,
  }));
  const from = new Date(end - hours * HOUR_MS);
  // One read serves both halves: the counts, and the most recent deliveries whose attempts are
  // read from their histories (FerretDB's cost is per document read, so a second query for the
  // recent ones, then one more read of each, cost as much again as the counts).
  const docs = await models.Delivery.find(deliveryFilter({ tenantId, webhookId, since: from })).select(READ_FIELDS).lean<ReadDoc[]>();
  for (const doc of docs) {
    const bucket = buckets[Math.floor((new Date(doc.createdAt).getTime() - from.getTime()) / HOUR_MS)];
    if (bucket) bucket[BUCKET_OF[doc.status]]++;
  }
  const recent = mostRecent(docs, LATENCY_SAMPLE);
  // Deliveries of one event share its fan-out run's history: each run is fetched once.
  const histories = new RunHistories(client);
  const logs = await inBatches(recent, CONCURRENCY, async (doc) => ({ deliveryId: doc._id, attempts: (await indexedAttempts(client, doc, histories)).attempts }));
  const attempts = logs.flatMap((d) =>
    d.attempts.flatMap((a) =>
      a.durationMs === null ? [] : [{ deliveryId: d.deliveryId, attempt: a.attempt, startedAt: a.startedAt, durationMs: a.durationMs, statusCode: a.statusCode, error: a.error }],
    ),
  );
  attempts.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return { from: from.toISOString(), to: new Date(end).toISOString(), hours: buckets, attempts };
}
