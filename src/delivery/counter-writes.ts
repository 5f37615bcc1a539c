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
 *
 * Counts are of deliveries by their current final status: a change moves a delivery from what
 * the counters counted it as (`from`) to its outcome's count. Each change carries a key, and the
 * counters document keeps a ledger of the keys applied, set in the same conditional update as the
 * counts: a record redone after a partial success (its outbox still set) applies nothing twice.
 * A key leaves the ledger LEDGER_KEEP_MS after its outbox was cleared, so a change read from an
 * outbox longer ago than READ_FRESH_MS is not written (StaleOutboxRead: its record reads again);
 * keys whose release a killed worker forgot go with the ledger sweep (ledger-sweep.ts).
 */
import { isDuplicateKey } from '../models/duplicate-key';
import type { Models } from '../models';
import type { Counted } from '../models/delivery';
import { countersOf, type WebhookCounterDoc, type WebhookCounters } from '../models/webhook-counter';

/** What one delivery, or one first attempt, changes on its webhook. */
export interface CounterChange {
  tenantId: string;
  webhookId: string;
  /** How the delivery ended: delivered ends a failing streak, failed adds to it, canceled leaves it. */
  outcome?: 'delivered' | 'failed' | 'canceled';
  /** What the counters counted the delivery as before: the count moves from there to the outcome's. */
  from?: Counted | null;
  /** Applied at most once per key (the ledger); required with an outcome. */
  key?: string;
  /** The delivery of the key: kept with it in the ledger, so the sweep can tell when it may go. */
  deliveryId?: string;
  /** When the outbox this change comes from was read (Date.now() before the read was sent). */
  readAt?: number;
  /** Start of the failed delivery's first attempt: where a failing streak begins. */
  failedSince?: Date;
  /** Start of an attempt: the webhook's `lastTriggeredAt` moves up to it. */
  triggeredAt?: Date;
}

/** What a merged batch of one webhook's changes moves, and the changes in it. */
interface Tally {
  changes: CounterChange[];
  successes: number;
  failures: number;
  /** Failed outcomes: each adds to the failing streak (a delivery failing again after a requeue too). */
  failedOutcomes: number;
  /** Whether a success came in: then the streak is what followed the last one, and is set, not added. */
  sawSuccess: boolean;
  failuresSinceSuccess: number;
  failingSince: Date | null;
  triggeredAt: Date | null;
}

/** The changes of one webhook that arrive while its write lingers, and who waits for them to be written. */
interface Batch {
  changes: CounterChange[];
  /** The counters after the write that included this batch: auto-disable decides on them. */
  written: Promise<WebhookCounters | null>;
  /** Changes left out of the write: their outbox was read too long ago (see READ_FRESH_MS). */
  stale: Set<CounterChange>;
}

const emptyTally = (): Tally => ({ changes: [], successes: 0, failures: 0, failedOutcomes: 0, sawSuccess: false, failuresSinceSuccess: 0, failingSince: null, triggeredAt: null });

/**
 * The changes merged in arrival order, each key once: two records of one delivery (its own
 * workflow's and a page record that found its outbox) can land in one batch, whose conditional
 * write would otherwise apply the change twice under one key (the chaos run's over-count).
 */
function tallyOf(changes: readonly CounterChange[]): Tally {
  const tally = emptyTally();
  const keys = new Set<string>();
  for (const change of changes) {
    if (change.key && keys.has(change.key)) continue;
    if (change.key) keys.add(change.key);
    merge(tally, change);
  }
  return tally;
}

function merge(batch: Tally, change: CounterChange): void {
  batch.changes.push(change);
  if (change.outcome) {
    if (change.from === 'delivered') batch.successes--;
    else if (change.from === 'failed') batch.failures--;
  }
  if (change.outcome === 'delivered') {
    batch.successes++;
    batch.sawSuccess = true;
    batch.failuresSinceSuccess = 0;
    batch.failingSince = null;
  } else if (change.outcome === 'failed') {
    batch.failures++;
    batch.failedOutcomes++;
    batch.failuresSinceSuccess++;
    batch.failingSince ??= change.failedSince ?? new Date();
  }
  if (change.triggeredAt && (!batch.triggeredAt || change.triggeredAt > batch.triggeredAt)) batch.triggeredAt = change.triggeredAt;
}

const ledgerPath = (key: string) => `ledger.${key}`;

/** A ledger entry: the delivery whose change the key applied, and when (ms). */
export interface LedgerEntry {
  d: string;
  at: number;
}

/**
 * The one update of a merged batch to the webhook's counters document, right whatever that document
 * held before it (or whether it existed): a streak of failures adds to the streak and keeps the
 * earliest start (`$min` sets a missing `failingSince`), a success sets the streak to what followed
 * it; the batch's keys go into the ledger, and `released` keys (their outbox cleared) leave it.
 */
function batchUpdate(batch: Tally, released: readonly string[] = []): Record<string, Record<string, unknown>> | null {
  const update: Record<string, Record<string, unknown>> = {};
  const inc: Record<string, number> = {};
  const set: Record<string, unknown> = {};
  if (batch.successes) inc.deliverySuccessCount = batch.successes;
  if (batch.failures) inc.deliveryFailureCount = batch.failures;
  if (batch.sawSuccess) {
    set.consecutiveFailureCount = batch.failuresSinceSuccess;
    if (batch.failingSince) set.failingSince = batch.failingSince;
    else update.$unset = { failingSince: '' };
  } else if (batch.failedOutcomes) {
    inc.consecutiveFailureCount = batch.failedOutcomes;
    update.$min = { failingSince: batch.failingSince };
  }
  const at = Date.now();
  for (const change of batch.changes) if (change.key) set[ledgerPath(change.key)] = { d: change.deliveryId ?? '', at } satisfies LedgerEntry;
  if (released.length) update.$unset = { ...update.$unset, ...Object.fromEntries(released.map((key) => [ledgerPath(key), ''])) };
  if (Object.keys(inc).length) update.$inc = inc;
  if (Object.keys(set).length) update.$set = set;
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

/**
 * How long a key stays in the ledger after its delivery's outbox was cleared: a duplicate record
 * that read the outbox before the clear (a local activity's attempt that outlived its timeout
 * while its retry ran) still finds it. Released keys leave with the webhook's next write.
 */
export const LEDGER_KEEP_MS = 10_000;

/**
 * How old an outbox read may be when its change is written: the rest of LEDGER_KEEP_MS covers
 * the write's own round trip. An older read (a record stalled in an outage while another did its
 * work) may be of an outbox cleared since, whose key may have left the ledger: it is read again.
 */
export const READ_FRESH_MS = 5_000;

/** A change's outbox was read more than READ_FRESH_MS ago: its record must read it again (retryable). */
export class StaleOutboxRead extends Error {
  override readonly name = 'StaleOutboxRead';
  constructor(readonly deliveryId: string | undefined) {
    super(`the outbox of delivery ${deliveryId ?? '(none)'} was read too long ago to be written; read it again`);
  }
}

class WebhookWriteQueues {
  /** Per webhook: the end of its queue, and the batch still collecting changes (not yet started). */
  private readonly queues = new Map<string, { tail: Promise<unknown>; open: Batch | null }>();
  /** Per webhook: ledger keys whose outbox was cleared, and when. */
  private readonly released = new Map<string, { key: string; at: number }[]>();
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

  release(tenantId: string, webhookId: string, keys: readonly string[]): void {
    if (!keys.length) return;
    const key = `${tenantId}/${webhookId}`;
    const list = this.released.get(key) ?? [];
    const at = Date.now();
    for (const k of keys) list.push({ key: k, at });
    this.released.set(key, list);
  }

  /** An update of the webhook's ledger alone, in turn with this process's other writes to its counters. */
  ledgerUpdate(models: Models, tenantId: string, webhookId: string, update: Record<string, Record<string, unknown>>): Promise<void> {
    return this.exclusive(`${tenantId}/${webhookId}`, async () => {
      await countersCollection(models).updateOne({ _id: webhookId as never, tenantId }, update);
    });
  }

  /** Released keys old enough to leave the ledger with the next write (not any of `inBatch`). */
  private takeReleased(key: string, inBatch: ReadonlySet<string>): { keys: string[]; putBack: () => void } {
    const list = this.released.get(key);
    if (!list) return { keys: [], putBack: () => undefined };
    const before = Date.now() - LEDGER_KEEP_MS;
    const taken = list.filter((r) => r.at <= before && !inBatch.has(r.key));
    const kept = list.filter((r) => !taken.includes(r));
    if (kept.length) this.released.set(key, kept);
    else this.released.delete(key);
    return {
      keys: taken.map((r) => r.key),
      putBack: () => this.released.set(key, [...taken, ...(this.released.get(key) ?? [])]),
    };
  }

  /** Adds a change to its webhook's open batch, or opens one; resolves with the counters once that batch is written. */
  change(models: Models, change: CounterChange): Promise<WebhookCounters | null> {
    const key = `${change.tenantId}/${change.webhookId}`;
    const queue = this.queue(key);
    const batch = queue.open ?? this.open(models, key, change, queue);
    batch.changes.push(change);
    return batch.written.then((counters) => {
      if (batch.stale.has(change)) throw new StaleOutboxRead(change.deliveryId);
      return counters;
    });
  }

  /** A new batch for the webhook, written after COUNTER_LINGER_MS with the changes merged into it by then. */
  private open(models: Models, key: string, first: CounterChange, queue: { open: Batch | null }): Batch {
    const batch: Batch = { changes: [], written: Promise.resolve(null), stale: new Set() };
    queue.open = batch;
    batch.written = new Promise((resolve) => setTimeout(resolve, COUNTER_LINGER_MS)).then(() =>
      this.exclusive(key, async () => {
        if (queue.open === batch) queue.open = null; // from now on, changes go to the next batch
        const fresh = freshPart(batch);
        const released = this.takeReleased(key, new Set(fresh.changes.flatMap((c) => (c.key ? [c.key] : []))));
        try {
          // Only failures feed auto-disable; without one the counters after the write are not needed.
          return await writeBatch(models, first.tenantId, first.webhookId, fresh, released.keys, fresh.failedOutcomes > 0);
        } catch (err) {
          released.putBack();
          throw err;
        }
      }),
    );
    return batch;
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

/** The batch's tally without its changes read from an outbox too long ago (they go to `batch.stale`); taken as the write starts. */
function freshPart(batch: Batch): Tally {
  const oldest = Date.now() - READ_FRESH_MS;
  for (const change of batch.changes) if (change.readAt !== undefined && change.readAt < oldest) batch.stale.add(change);
  return tallyOf(batch.changes.filter((change) => !batch.stale.has(change)));
}

type CountersCollection = ReturnType<typeof countersCollection>;
const countersCollection = (models: Models) => models.WebhookCounter.collection;
/** What auto-disable and the API read of a counters document: never the ledger. */
const COUNTER_FIELDS = { ledger: 0 } as const;

/**
 * One update of a webhook's counters document, upserting it (a new webhook has none until its
 * first delivery), conditional on none of its keys being in the ledger yet, and returning the
 * counters after it when auto-disable needs them (a `findOneAndUpdate` costs FerretDB a quarter
 * more than an `updateOne`). False when it did not apply: a key was applied before (the upsert
 * then meets the existing document: duplicate key), or two processes upserted the first counters
 * at once.
 */
async function conditionalWrite(
  counters: CountersCollection,
  tenantId: string,
  webhookId: string,
  keys: readonly string[],
  update: Record<string, unknown>,
  returnCounters: boolean,
): Promise<{ applied: boolean; counters: WebhookCounters | null }> {
  const filter = { _id: webhookId as never, tenantId, ...Object.fromEntries(keys.map((k) => [ledgerPath(k), { $exists: false }])) };
  try {
    if (!returnCounters) {
      await counters.updateOne(filter, update, { upsert: true });
      return { applied: true, counters: null };
    }
    // No projection: FerretDB v1's findAndModify has none (countersOf reads only the counters).
    const doc = await counters.findOneAndUpdate(filter, update, { upsert: true, returnDocument: 'after' });
    return { applied: true, counters: countersOf(doc as Partial<WebhookCounterDoc> | null) };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { applied: false, counters: null };
  }
}

/** Whether the ledger of a webhook's counters holds `key`. */
async function inLedger(counters: CountersCollection, webhookId: string, key: string): Promise<boolean> {
  return (await counters.countDocuments({ _id: webhookId as never, [ledgerPath(key)]: { $exists: true } }, { limit: 1 })) > 0;
}

/**
 * Writes a merged batch: one round trip when none of its keys was applied before (every first
 * record). When one was (a record redone after a partial success), each change is written on its
 * own, and those in the ledger are skipped.
 */
async function writeBatch(
  models: Models,
  tenantId: string,
  webhookId: string,
  batch: Tally,
  released: readonly string[],
  returnCounters: boolean,
): Promise<WebhookCounters | null> {
  const counters = countersCollection(models);
  const update = batchUpdate(batch, released);
  if (!update) return null;
  const keys = batch.changes.flatMap((c) => (c.key ? [c.key] : []));
  for (let tries = 0; tries < 2; tries++) {
    const first = await conditionalWrite(counters, tenantId, webhookId, keys, update, returnCounters);
    if (first.applied) return first.counters;
  }
  // A key is in the ledger: the changes one by one, each applied unless its key is there.
  for (const change of batch.changes) {
    const one = emptyTally();
    merge(one, change);
    const single = batchUpdate(one);
    if (!single) continue;
    const own = change.key ? [change.key] : [];
    for (let tries = 0; tries < 3; tries++) {
      if ((await conditionalWrite(counters, tenantId, webhookId, own, single, false)).applied) break;
      if (change.key && (await inLedger(counters, webhookId, change.key))) break;
    }
  }
  if (released.length) await counters.updateOne({ _id: webhookId as never, tenantId }, { $unset: Object.fromEntries(released.map((k) => [ledgerPath(k), ''])) });
  if (!returnCounters) return null;
  return countersOf((await counters.findOne({ _id: webhookId as never, tenantId }, { projection: COUNTER_FIELDS })) as Partial<WebhookCounterDoc> | null);
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

/** The outboxes of these changes are cleared: their keys may leave the webhook's ledger (after LEDGER_KEEP_MS). */
export function releaseCounterKeys(tenantId: string, webhookId: string, keys: readonly string[]): void {
  queues.release(tenantId, webhookId, keys);
}

/**
 * For the ledger sweep: removes keys, and dates entries (`{d: '', at}`) that had no time; in turn
 * with this process's counter writes to the document (never two writes of one process at once).
 */
export async function sweepLedgerKeys(models: Models, tenantId: string, webhookId: string, remove: readonly string[], date: readonly string[], at: number): Promise<void> {
  const update: Record<string, Record<string, unknown>> = {};
  if (remove.length) update.$unset = Object.fromEntries(remove.map((k) => [ledgerPath(k), '']));
  if (date.length) update.$set = Object.fromEntries(date.map((k) => [ledgerPath(k), { d: '', at } satisfies LedgerEntry]));
  if (Object.keys(update).length) await queues.ledgerUpdate(models, tenantId, webhookId, update);
}
