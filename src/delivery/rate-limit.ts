import type { Models } from '../models';
import { isDuplicateKey } from '../models/duplicate-key';

/**
 * A webhook's rate limit (`rateLimitPerSecond`), held across every worker process by slot
 * reservations in the database. Time is cut into slots of `1000 / rate` ms; each request to a
 * limited webhook first reserves a slot of its own, the first free one from now (or from where the
 * webhook's reservations have got to), by inserting it under a unique key: of any number of
 * processes trying the same slot exactly one succeeds, and the others try the next. The request
 * then waits for its slot. Deliveries over the limit thus go out at the limit, in the order they
 * reserved: none dropped, none counted as an attempt, and no storm of retries (a window counter
 * such as rate-limiter-flexible's has every refused caller come back at each window's start). A
 * unique insert, not `$inc` on a counter: FerretDB 1.x updates are read-modify-write, and two
 * concurrent increments hand out the same slot. A reserved slot left unused (its worker died) is
 * lost: the pace can only get slower for it, never faster. The workers' clocks are assumed to agree
 * (NTP); a skew between them is a skew of the pace.
 */

/** The highest `rateLimitPerSecond` a webhook may have. */
export const RATE_LIMIT_MAX_PER_SECOND = 1000;

/** Longest wait for a slot the deliver activity spends asleep; a longer one is a retry of the activity, shortly before its slot. */
export const RATE_WAIT_IN_ACTIVITY_MS = 2000;

/** Longest wait for a slot an inline first attempt spends asleep (its batch is one local activity, kept short); a longer one hands the delivery to its workflow. */
export const RATE_WAIT_INLINE_MS = 250;

/** How much before its slot a delivery's retry comes back, to sleep the rest exactly: a retry's timer and dispatch are late by up to a few hundred ms. */
export const RATE_RETRY_EARLY_MS = 1000;

/** Shortest delay of a retry waiting for its slot. */
const RATE_RETRY_MIN_DELAY_MS = 500;

/**
 * A reserved slot already this far in the past when its delivery comes back is given up and a new
 * one reserved: sent now, the late request would crowd the ones sent in their own slots.
 */
export const RATE_SLOT_LATE_MS = 250;

/** What a delivery waiting for its slot shows as its reason (the Web UI's Last Failure, the API's `reason`). */
export const RATE_LIMITED_REASON = "waiting for the webhook's rate limit (not an attempt)";

/** A slot's document is kept this long after its slot: only slots from now on are ever reserved, and a delivery comes back for its own before then. */
const SLOT_KEPT_MS = 600_000;

/** Most slots one reservation tries before it gives up (a failure of the service's own: retried). */
const MOST_PROBES = 10_000;

/** Per webhook and rate, the slot number after this process's last reservation: where its next one starts looking. */
const lastReserved = new Map<string, number>();

/** The id of the slot at `at` (epoch ms) of a webhook limited to `perSecond`. */
export function slotKey(webhookId: string, perSecond: number, at: number): string {
  return `${webhookId}:${perSecond}:${Math.round(at / slotIntervalMs(perSecond))}`;
}

/**
 * Claims the send of the slot's request just before it leaves, and marks the slot sent (a worker
 * settling it elsewhere, of either build, counts the attempt). False: the request was claimed by
 * another holder of the same slot, and must not leave from here too.
 */
export async function claimSlotSend(models: Models, key: string, at: number): Promise<boolean> {
  const sentAt = new Date();
  try {
    await models.WebhookRateSend.collection.insertOne({ _id: key as never, sentAt, expiresAt: new Date(at + SLOT_KEPT_MS) });
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
  await models.WebhookRateSlot.updateOne({ _id: key }, { $set: { sentAt } });
  return true;
}

/** When the slot's request was sent, if it was marked so. */
export async function slotSentAt(models: Models, key: string): Promise<Date | null> {
  return (await models.WebhookRateSlot.findById(key).select({ sentAt: 1 }).lean())?.sentAt ?? null;
}

/** Milliseconds between two requests to a webhook limited to `perSecond`. */
export function slotIntervalMs(perSecond: number): number {
  return 1000 / perSecond;
}

/**
 * Reserves the webhook's first free slot from now for `deliveryId` and returns when it is (epoch
 * ms). Starts from the furthest of now, the webhook's shared hint and this process's last
 * reservation, then inserts slot after slot until one is its own.
 */
export async function reserveSlot(models: Models, { deliveryId, webhookId, perSecond }: SlotOwner, now = Date.now()): Promise<number> {
  const interval = slotIntervalMs(perSecond);
  // The slot grid is the rate's: after a change of rate, the hint (a time) starts the new grid after the old one's reservations.
  const grid = `${webhookId}:${perSecond}`;
  const hint = await models.WebhookRatePace.findById(webhookId).lean();
  let next = Math.max(Math.ceil(now / interval), Math.ceil((hint?.nextAt ?? 0) / interval));
  for (let probes = 0; probes < MOST_PROBES; probes++) {
    // Claimed in this process before the insert: its concurrent reservations try distinct slots,
    // and only another process's reservations make an insert fail.
    const slot = Math.max(next, lastReserved.get(grid) ?? 0);
    lastReserved.set(grid, slot + 1);
    const at = slot * interval;
    try {
      await models.WebhookRateSlot.collection.insertOne({ _id: `${grid}:${slot}` as never, webhookId, deliveryId, at, expiresAt: new Date(at + SLOT_KEPT_MS) });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      next = slot + 1;
      continue;
    }
    // Only a hint: lost to a concurrent write (FerretDB), it costs the next reservation a few inserts.
    await models.WebhookRatePace.updateOne({ _id: webhookId }, { $max: { nextAt: at + interval } }, { upsert: true }).catch((err: unknown) =>
      isDuplicateKey(err) ? undefined : Promise.reject(err),
    );
    return at;
  }
  throw new Error(`no free rate-limit slot of ${webhookId} found in ${MOST_PROBES} tries`);
}

export interface SlotOwner {
  deliveryId: string;
  webhookId: string;
  perSecond: number;
}

/** A delivery's slot: the one it reserved earlier and came back for in time, else a new one. */
export async function deliverySlot(models: Models, owner: SlotOwner, now = Date.now()): Promise<number> {
  const held = await models.WebhookRateSlot.findOne({ deliveryId: owner.deliveryId }).sort({ at: -1 }).lean();
  if (held && held.webhookId === owner.webhookId && held.at >= now - RATE_SLOT_LATE_MS) return held.at;
  return await reserveSlot(models, owner, now);
}

/** Most times one request looks for a slot it can still make, when its process keeps stalling past them. */
const MOST_LATE_SLOTS = 5;

/**
 * Waits for the delivery's slot when it is at most `maxWaitMs` away, with `sleep` (which may
 * throw: a cancellation). Returns 0 when the request may leave now, else the wait left: too long
 * to spend here, the caller comes back for the slot, which stays reserved for the delivery. A slot
 * missed by more than `RATE_SLOT_LATE_MS` while sleeping (a stalled process: its timers fire
 * together) is given up for a new one, so stalled requests never leave in a bunch.
 */
export async function waitForSlot(
  models: Models,
  owner: SlotOwner,
  maxWaitMs: number,
  sleep: (ms: number) => Promise<void>,
  /** Told each slot the delivery holds (epoch ms). */
  onSlot?: (at: number) => void,
): Promise<number> {
  for (let tries = 0; tries < MOST_LATE_SLOTS; tries++) {
    const at = await deliverySlot(models, owner);
    onSlot?.(at);
    const waitMs = at - Date.now();
    if (waitMs > maxWaitMs) return waitMs;
    if (waitMs > 0) await sleep(waitMs);
    if (Date.now() - at <= RATE_SLOT_LATE_MS) return 0;
  }
  // Stalled time and again: the request is not sent in a bunch, but later, as a wait.
  return maxWaitMs + 1;
}

/** The delay of a retry waiting `waitMs` for its slot: it comes back a little early and sleeps the rest. */
export function rateRetryDelayMs(waitMs: number): number {
  return Math.max(RATE_RETRY_MIN_DELAY_MS, waitMs - RATE_RETRY_EARLY_MS);
}
