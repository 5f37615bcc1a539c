/**
 * The webhook counter writes of this process (delivery counts, failure streaks, auto-disable):
 * one at a time, and a bulk write at most `CHUNK` updates at a time. FerretDB 1.x applies `$inc`
 * as read-modify-write (in a test, five concurrent increments of one webhook left it at 3), and a
 * single bulk update of 60 or more webhook updates never answered, where 40 did. One writer at a
 * time and small chunks avoid both within a process (the embedded default runs one worker); on
 * MongoDB, whose updates are atomic, this costs a few round trips per page. Several workers on
 * FerretDB can still lose an increment (docs/database.md).
 */
import type { Models } from '../models';
import type { WebhookUpdate } from './webhook-health';

const CHUNK = 20;

let tail: Promise<unknown> = Promise.resolve();

export function serializedCounterWrite<T>(write: () => Promise<T>): Promise<T> {
  const run = tail.then(write, write);
  tail = run.catch(() => undefined);
  return run;
}

/** Applies `updates` in order, serialized with every other counter write of this process. */
export function writeCounters(models: Models, updates: WebhookUpdate[]): Promise<void> {
  return serializedCounterWrite(async () => {
    for (let i = 0; i < updates.length; i += CHUNK) await models.Webhook.bulkWrite(updates.slice(i, i + CHUNK), { ordered: true });
  });
}
