/**
 * The webhook counter writes of this process (delivery counts, failure streaks, last trigger
 * time, auto-disable), one webhook at a time and many webhooks at once. FerretDB 1.x applies an
 * update as read-modify-write of the whole document (in a test, five concurrent increments of one
 * webhook left it at 3), so two writes to one webhook must never overlap; but writes to different
 * webhooks may, and a process-wide queue made every delivery wait for every other one (it was the
 * bottleneck of the benchmark: seconds of waiting per page). So each webhook has its own queue,
 * and the changes that arrive while its write is in flight are merged into one update (a group
 * commit): a busy webhook costs one write per round trip, whatever its delivery rate. On MongoDB,
 * whose updates are atomic, this only saves round trips. Several workers on FerretDB can still
 * lose an increment (docs/database.md).
 */
import type { Models } from '../models';

/** What one delivery, or one first attempt, changes on its webhook. */
export interface CounterChange {
  tenantId: string;
  webhookId: string;
  /** A finished delivery counts as delivered or failed; a first attempt handed to a retry does not count yet. */
  outcome?: 'delivered' | 'failed';
  /** Start of the failed delivery's first attempt: where a failing streak begins. */
  failedSince?: Date;
  /** Start of an attempt: the webhook's `lastTriggeredAt` moves up to it. */
  triggeredAt?: Date;
}

type WebhookUpdate = { updateOne: { filter: Record<string, unknown>; update: Record<string, unknown> } };

/** Changes of one webhook merged in arrival order, and who waits for them to be written. */
interface Batch {
  successes: number;
  failures: number;
  /** Whether a success came in: then the streak is what followed the last one, and is set, not added. */
  sawSuccess: boolean;
  failuresSinceSuccess: number;
  failingSince: Date | null;
  triggeredAt: Date | null;
  written: Promise<void>;
}

function merge(batch: Batch, change: CounterChange): void {
  if (change.outcome === 'delivered') {
    batch.successes++;
    batch.sawSuccess = true;
    batch.failuresSinceSuccess = 0;
    batch.failingSince = null;
  } else if (change.outcome === 'failed') {
    batch.failures++;
    batch.failuresSinceSuccess++;
    batch.failingSince ??= change.failedSince ?? new Date();
  }
  if (change.triggeredAt && (!batch.triggeredAt || change.triggeredAt > batch.triggeredAt)) batch.triggeredAt = change.triggeredAt;
}

/**
 * The updates of a merged batch, in order. Each is a single-document update, conditional in its
 * filter where it must be, so it is right whatever the document held before it.
 */
function batchUpdates(tenantId: string, webhookId: string, batch: Omit<Batch, 'written'>): WebhookUpdate[] {
  const filter = { _id: webhookId, tenantId };
  const max = batch.triggeredAt ? { $max: { lastTriggeredAt: batch.triggeredAt } } : {};
  const inc: Record<string, number> = {};
  if (batch.successes) inc.deliverySuccessCount = batch.successes;
  if (batch.failures) inc.deliveryFailureCount = batch.failures;
  if (batch.sawSuccess) {
    const set = { consecutiveFailureCount: batch.failuresSinceSuccess, failingSince: batch.failingSince };
    return [{ updateOne: { filter, update: { $inc: inc, $set: set, ...max } } }];
  }
  if (!batch.failures) return batch.triggeredAt ? [{ updateOne: { filter, update: max } }] : [];
  return [
    { updateOne: { filter: { ...filter, failingSince: null }, update: { $set: { failingSince: batch.failingSince } } } },
    { updateOne: { filter, update: { $inc: { ...inc, consecutiveFailureCount: batch.failures }, ...max } } },
  ];
}

/** At most this many webhook writes of this process at once: the database's pool is shared with everything else. */
const MAX_PARALLEL_WRITES = 16;

class WebhookWriteQueues {
  /** Per webhook: the end of its queue, and the batch still collecting changes (not yet started). */
  private readonly queues = new Map<string, { tail: Promise<unknown>; open: Batch | null }>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** Runs `op` when no other write to this webhook (of this process) is in flight. */
  exclusive<T>(tenantId: string, webhookId: string, op: () => Promise<T>): Promise<T> {
    const key = `${tenantId}/${webhookId}`;
    const queue = this.queues.get(key) ?? { tail: Promise.resolve(), open: null };
    const run = queue.tail.then(() => this.limited(op));
    const tail = run.catch(() => undefined);
    queue.tail = tail;
    this.queues.set(key, queue);
    void tail.then(() => {
      if (this.queues.get(key)?.tail === tail) this.queues.delete(key);
    });
    return run;
  }

  /** Adds a change to its webhook's open batch, or opens one; resolves once that batch is written. */
  change(models: Models, change: CounterChange): Promise<void> {
    const key = `${change.tenantId}/${change.webhookId}`;
    const open = this.queues.get(key)?.open;
    if (open) {
      merge(open, change);
      return open.written;
    }
    const batch: Batch = { successes: 0, failures: 0, sawSuccess: false, failuresSinceSuccess: 0, failingSince: null, triggeredAt: null, written: Promise.resolve() };
    merge(batch, change);
    batch.written = this.exclusive(change.tenantId, change.webhookId, async () => {
      const queue = this.queues.get(key);
      if (queue?.open === batch) queue.open = null; // from now on, changes go to the next batch
      const updates = batchUpdates(change.tenantId, change.webhookId, batch);
      if (updates.length) await models.Webhook.bulkWrite(updates, { ordered: true });
    });
    (this.queues.get(key) as { open: Batch | null }).open = batch;
    return batch.written;
  }

  private async limited<T>(op: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_PARALLEL_WRITES) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await op();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

const queues = new WebhookWriteQueues();

/** Writes the changes, each merged with others of its webhook that arrive meanwhile; resolves when all are written. */
export async function writeCounters(models: Models, changes: readonly CounterChange[]): Promise<void> {
  await Promise.all(changes.map((change) => queues.change(models, change)));
}

/** Runs a conditional update of one webhook (auto-disable) in that webhook's queue, after its pending counter writes. */
export function exclusiveWebhookWrite<T>(tenantId: string, webhookId: string, op: () => Promise<T>): Promise<T> {
  return queues.exclusive(tenantId, webhookId, op);
}
