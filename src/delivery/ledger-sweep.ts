/**
 * The counters' ledger (counter-writes.ts) loses a key LEDGER_KEEP_MS after its delivery's outbox
 * was cleared, from the memory of the worker that cleared it: a worker killed meanwhile forgets
 * those keys, and they would stay in the counters document for good (hundreds per webhook after
 * a chaos run), rewritten with every counter update. This sweep removes the keys applied more than
 * LEDGER_SWEEP_AGE_MS ago whose delivery owes nothing any more (no outbox, or swept): no record can
 * still apply their change (a change read longer ago than READ_FRESH_MS is never written).
 */
import type { Logger } from 'pino';
import type { Models } from '../models';
import { sweepLedgerKeys, type LedgerEntry } from './counter-writes';

/** How often each worker sweeps the ledgers. */
export const LEDGER_SWEEP_EVERY_MS = 600_000;

/** How long after its change a key may go: far beyond any record's read (READ_FRESH_MS). */
export const LEDGER_SWEEP_AGE_MS = 600_000;

const isEntry = (value: unknown): value is LedgerEntry =>
  typeof value === 'object' && value !== null && typeof (value as LedgerEntry).at === 'number' && typeof (value as LedgerEntry).d === 'string';

/** Removes the old keys of every ledger whose delivery owes nothing; returns how many went. */
export async function sweepLedgers(models: Models, now = Date.now()): Promise<number> {
  const docs = await models.WebhookCounter.collection
    .find<{ _id: string; tenantId: string; ledger?: Record<string, unknown> }>({ ledger: { $exists: true } }, { projection: { tenantId: 1, ledger: 1 } })
    .toArray();
  let removed = 0;
  for (const doc of docs) {
    const unknownAge: string[] = [];
    const old: [key: string, deliveryId: string][] = [];
    for (const [key, value] of Object.entries(doc.ledger ?? {})) {
      if (!isEntry(value)) unknownAge.push(key);
      else if (value.at < now - LEDGER_SWEEP_AGE_MS) old.push([key, value.d]);
    }
    const gone: string[] = [];
    for (const [key, deliveryId] of old) if (!deliveryId || !(await owesEffects(models, deliveryId))) gone.push(key);
    // Entries without a time (value 1, written by older builds) are dated now, and go a sweep later.
    await sweepLedgerKeys(models, doc.tenantId, doc._id, gone, unknownAge, now);
    removed += gone.length;
  }
  return removed;
}

/** Whether the delivery's outbox is still set (one equality on `_id`: FerretDB pushes it down). */
async function owesEffects(models: Models, deliveryId: string): Promise<boolean> {
  const doc = await models.Delivery.collection.findOne<{ effectsKey?: string | null }>({ _id: deliveryId as never }, { projection: { effectsKey: 1 } });
  return Boolean(doc?.effectsKey);
}

/** Sweeps now and every `everyMs`, in the background; clear the timer it returns to stop. */
export function startLedgerSweep(models: Models, logger: Logger, everyMs = LEDGER_SWEEP_EVERY_MS): NodeJS.Timeout {
  const sweep = () =>
    sweepLedgers(models).then(
      (removed) => removed && logger.info({ removed }, 'counter ledger keys of finished deliveries swept'),
      (err: unknown) => logger.warn({ err }, 'ledger sweep failed; will try again'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), everyMs);
  timer.unref();
  return timer;
}
