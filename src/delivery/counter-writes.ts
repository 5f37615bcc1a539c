/**
 * The webhook counter writes of this process (delivery counts, failure streaks, last trigger
 * time), one webhook at a time and many webhooks at once. They go to the webhook's counters
 * document (models/webhook-counter.ts), never to the webhook document, so they cannot put back an
 * API edit of the webhook (FerretDB rewrites a whole document per update). FerretDB 1.x applies an
 * update as read-modify-write of the whole document (in a test, five concurrent increments of one
 * webhook left it at 3), so two writes to one webhook must never overlap; but writes to different
 * webhooks may, and a process-wide queue made every delivery wait for every other one (it was the
 * bottleneck of the benchmark: seconds of waiting per page). So each webhook has its own queue,
 * and the changes that arrive while its write lingers or is in flight are merged into one update
 * (a group commit): a busy webhook costs one write per linger, whatever its delivery rate. On MongoDB,
 * whose updates are atomic, this only saves round trips. Several workers on FerretDB can still
 * lose an increment (docs/database.md).
 */
import { isDuplicateKey } from '../models/duplicate-key';
import type { Models } from '../models';
import { countersOf, type WebhookCounterDoc, type WebhookCounters } from '../models/webhook-counter';

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

/** Changes of one webhook merged in arrival order, and who waits for them to be written. */
interface Batch {
  successes: number;
  failures: number;
  /** Whether a success came in: then the streak is what followed the last one, and is set, not added. */
  sawSuccess: boolean;
  failuresSinceSuccess: number;
  failingSince: Date | null;
  triggeredAt: Date | null;
  /** The counters after the write that included this batch: auto-disable decides on them. */
  written: Promise<WebhookCounters | null>;
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
 * The one update of a merged batch to the webhook's counters document, right whatever that document
 * held before it (or whether it existed): a streak of failures adds to the streak and keeps the
 * earliest start (`$min` sets a missing `failingSince`), a success sets the streak to what followed it.
 */
function batchUpdate(batch: Omit<Batch, 'written'>): Record<string, unknown> | null {
  const update: Record<string, Record<string, unknown>> = {};
  const inc: Record<string, number> = {};
  if (batch.successes) inc.deliverySuccessCount = batch.successes;
  if (batch.failures) inc.deliveryFailureCount = batch.failures;
  if (batch.sawSuccess) {
    update.$set = { consecutiveFailureCount: batch.failuresSinceSuccess };
    if (batch.failingSince) update.$set.failingSince = batch.failingSince;
    else update.$unset = { failingSince: '' };
  } else if (batch.failures) {
    inc.consecutiveFailureCount = batch.failures;
    update.$min = { failingSince: batch.failingSince };
  }
  if (Object.keys(inc).length) update.$inc = inc;
  if (batch.triggeredAt) update.$max = { lastTriggeredAt: batch.triggeredAt };
  return Object.keys(update).length ? update : null;
}

/** At most this many webhook writes of this process at once: the database's pool is shared with everything else. */
const MAX_PARALLEL_WRITES = 16;

/**
 * How long a webhook's first change waits for others before its write: on FerretDB one update
 * costs about 4 ms of the machine (a read, then a write in a transaction), and a webhook that
 * receives many events gets one write per linger, whatever its rate. The counters trail the
 * deliveries by this much.
 */
export const COUNTER_LINGER_MS = 200;

class WebhookWriteQueues {
  /** Per webhook: the end of its queue, and the batch still collecting changes (not yet started). */
  private readonly queues = new Map<string, { tail: Promise<unknown>; open: Batch | null }>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  private queue(key: string): { tail: Promise<unknown>; open: Batch | null } {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { tail: Promise.resolve(), open: null }));
    return queue;
  }

  /** Runs `op` when no other write to this webhook (of this process) is in flight. */
  private exclusive<T>(key: string, op: () => Promise<T>): Promise<T> {
    const queue = this.queue(key);
    const run = queue.tail.then(() => this.limited(op));
    const tail = run.catch(() => undefined);
    queue.tail = tail;
    void tail.then(() => {
      if (queue.tail === tail && !queue.open && this.queues.get(key) === queue) this.queues.delete(key);
    });
    return run;
  }

  /** Adds a change to its webhook's open batch, or opens one; resolves with the counters once that batch is written. */
  change(models: Models, change: CounterChange): Promise<WebhookCounters | null> {
    const key = `${change.tenantId}/${change.webhookId}`;
    const queue = this.queue(key);
    if (queue.open) {
      merge(queue.open, change);
      return queue.open.written;
    }
    const batch: Batch = { successes: 0, failures: 0, sawSuccess: false, failuresSinceSuccess: 0, failingSince: null, triggeredAt: null, written: Promise.resolve(null) };
    merge(batch, change);
    queue.open = batch;
    batch.written = new Promise((resolve) => setTimeout(resolve, COUNTER_LINGER_MS)).then(() =>
      this.exclusive(key, async () => {
        if (queue.open === batch) queue.open = null; // from now on, changes go to the next batch
        const update = batchUpdate(batch);
        // Only failures feed auto-disable; without one the counters after the write are not needed.
        return update && writeBatch(models, change.tenantId, change.webhookId, update, batch.failures > 0);
      }),
    );
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

/**
 * One round trip: the update, upserting the counters document (a new webhook has none until its
 * first delivery), returning the counters after it when auto-disable needs them (a
 * `findOneAndUpdate` costs FerretDB a quarter more than an `updateOne`). Two processes upserting
 * a webhook's first counters at once: one insert wins, and the other's update, retried, applies
 * to it.
 */
async function writeBatch(models: Models, tenantId: string, webhookId: string, update: Record<string, unknown>, returnCounters: boolean): Promise<WebhookCounters | null> {
  const filter = { _id: webhookId, tenantId };
  const write = async () =>
    returnCounters
      ? countersOf(await models.WebhookCounter.findOneAndUpdate(filter, update, { upsert: true, returnDocument: 'after' }).lean<WebhookCounterDoc>())
      : (await models.WebhookCounter.updateOne(filter, update, { upsert: true }), null);
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return await write();
  }
}

const queues = new WebhookWriteQueues();

/**
 * Writes the changes, each merged with others of its webhook that arrive meanwhile; resolves when
 * all are written, with each change's webhook counters after its write (null: nothing to write,
 * or no failure in its batch, so nothing for auto-disable to decide).
 */
export function writeCounters(models: Models, changes: readonly CounterChange[]): Promise<(WebhookCounters | null)[]> {
  return Promise.all(changes.map((change) => queues.change(models, change)));
}
