/**
 * The product's figures, through its public API against the stack the bench started: ingest,
 * end-to-end deliveries (202 to arrival at the receiver), latency by offered load, a single
 * producer, a retry storm and one event to thousands of webhooks. A delivery counts only once
 * the receiver has seen its webhook-id answered 2xx.
 */
import type { BenchApiClient, Tenant } from './api-client';
import { closedLoop, openLoop, type LoadResult } from './load';
import type { BenchReceiver, PhaseArrivals } from './receiver';
import type { ClosedLoopPhase } from './settings';
import { perSecond, sleep, summarize, type LatencySummary } from './stats';

export const EVENT_TYPE = 'bench.event';

/** A tenant with `fanOut` webhooks, each its own path on the receiver under `phase`. */
export async function tenantWithWebhooks(api: BenchApiClient, receiver: BenchReceiver, phase: string, fanOut: number, retrySchedule?: string[]): Promise<Tenant> {
  const tenant = await api.createTenant(`bench ${phase}`);
  for (let i = 0; i < fanOut; i++) await api.createWebhook(tenant, { url: receiver.url(phase, i), events: [EVENT_TYPE], retrySchedule });
  return tenant;
}

/** The 202 of each accepted event, by event id, and the time each POST took. */
interface Accepted {
  events: Map<string, { sentAt: number; acceptedAt: number }>;
  ingestMs: number[];
}

const newAccepted = (): Accepted => ({ events: new Map(), ingestMs: [] });

async function send(api: BenchApiClient, tenant: Tenant, accepted: Accepted, i: number): Promise<string> {
  const sentAt = performance.now();
  const id = await api.sendEvent(tenant, EVENT_TYPE, { n: i, note: 'benchmark event' });
  const acceptedAt = performance.now();
  accepted.events.set(id, { sentAt, acceptedAt });
  accepted.ingestMs.push(acceptedAt - sentAt);
  return id;
}

/** Waits until `expected` deliveries of the phase are delivered, or until `deadline`. */
async function awaitDelivered(arrivals: PhaseArrivals, expected: number, deadline: number): Promise<void> {
  while (arrivals.delivered < expected && performance.now() < deadline) await sleep(20);
}

/** Waits until `count` deliveries of one event are in `byEvent` (delivered, or first attempts), or until `deadline`. */
async function awaitEvent(byEvent: Map<string, number>, eventId: string, count: number, deadline: number): Promise<void> {
  while ((byEvent.get(eventId) ?? 0) < count && performance.now() < deadline) await sleep(10);
}

export interface IngestResult {
  accepted: number;
  failed: number;
  eventsPerSecond: number;
  /** Time to the 202, from the send (closed loop) or from the scheduled send (open loop). */
  latencyMs: LatencySummary;
  offeredPerSecond?: number;
  skipped?: number;
  firstError?: string;
}

export function ingestResult(load: LoadResult, offeredPerSecond?: number): IngestResult {
  return {
    accepted: load.ok,
    failed: load.failed,
    eventsPerSecond: perSecond(load.ok, load.elapsedMs),
    latencyMs: summarize(load.latenciesMs),
    ...(offeredPerSecond === undefined ? {} : { offeredPerSecond, skipped: load.skipped }),
    ...(load.firstError ? { firstError: load.firstError } : {}),
  };
}

/** One round of POST /v1/events to a tenant without webhooks: closed loop at saturation. */
export function ingestSaturationRound(api: BenchApiClient, tenant: Tenant, phase: ClosedLoopPhase): Promise<LoadResult> {
  return closedLoop(phase, (i) => api.sendEvent(tenant, EVENT_TYPE, { n: i }).then(() => undefined));
}

/** POST /v1/events open-loop at a fixed rate. */
export async function ingestFixedRate(api: BenchApiClient, tenant: Tenant, ratePerSecond: number, durationMs: number): Promise<IngestResult> {
  const load = await openLoop({ ratePerSecond, durationMs, maxInFlight: 256, answerCapMs: 30_000 }, (i) =>
    api.sendEvent(tenant, EVENT_TYPE, { n: i }).then(() => undefined),
  );
  return ingestResult(load, ratePerSecond);
}

export interface DeliveryResult {
  fanOut: number;
  events: number;
  expected: number;
  /** Distinct deliveries answered 2xx at the receiver: lost ones never count. */
  delivered: number;
  complete: boolean;
  /** Requests beyond one per delivery that were not retries of a failed answer (at-least-once). */
  duplicates: number;
  /** Delivered per second, from the first send to the last arrival. */
  deliveriesPerSecond: number;
  eventsPerSecond: number;
  /** From the 202 to the delivered arrival (0 when the arrival was seen before the 202). */
  acceptedToArrivalMs: LatencySummary;
  ingestLatencyMs: LatencySummary;
  offeredPerSecond?: number;
  skipped?: number;
  /** Rounds measured, when the phase took turns with its baseline. */
  rounds?: number;
  firstError?: string;
}

/** What one phase (or one round of it) delivered: the parts a DeliveryResult is made of. */
export interface DeliveryRound {
  fanOut: number;
  events: number;
  delivered: number;
  duplicates: number;
  /** From the first send to the last arrival. */
  elapsedMs: number;
  acceptedToArrivalMs: number[];
  ingestMs: number[];
  firstError?: string;
  /** The round's tenant: its workflows are the round's (the capacity model reads their histories). */
  tenantId?: string;
}

function deliveryRound(arrivals: PhaseArrivals, accepted: Accepted, fanOut: number, startedAt: number, firstError?: string): DeliveryRound {
  const latencies: number[] = [];
  let lastDelivered = startedAt;
  let duplicates = 0;
  for (const arrival of arrivals.deliveries.values()) {
    const event = accepted.events.get(arrival.eventId);
    if (!event || arrival.deliveredAt === undefined) continue;
    latencies.push(Math.max(0, arrival.deliveredAt - event.acceptedAt));
    lastDelivered = Math.max(lastDelivered, arrival.deliveredAt);
    if (arrivals.failShare === 0) duplicates += arrival.requests - 1;
  }
  return {
    fanOut,
    events: accepted.events.size,
    delivered: latencies.length,
    duplicates,
    elapsedMs: lastDelivered - startedAt,
    acceptedToArrivalMs: latencies,
    ingestMs: accepted.ingestMs,
    ...(firstError ? { firstError } : {}),
  };
}

/** The figures of a phase from its rounds: deliveries over their time added up, every latency. */
export function deliveryResult(rounds: readonly DeliveryRound[]): DeliveryResult {
  const sum = (of: (r: DeliveryRound) => number) => rounds.reduce((n, r) => n + of(r), 0);
  const fanOut = rounds[0].fanOut;
  const expected = sum((r) => r.events) * fanOut;
  const delivered = sum((r) => r.delivered);
  const elapsedMs = sum((r) => r.elapsedMs);
  const firstError = rounds.find((r) => r.firstError)?.firstError;
  return {
    fanOut,
    events: sum((r) => r.events),
    expected,
    delivered,
    complete: delivered === expected,
    duplicates: sum((r) => r.duplicates),
    deliveriesPerSecond: perSecond(delivered, elapsedMs),
    eventsPerSecond: perSecond(delivered / fanOut, elapsedMs),
    acceptedToArrivalMs: summarize(rounds.flatMap((r) => r.acceptedToArrivalMs)),
    ingestLatencyMs: summarize(rounds.flatMap((r) => r.ingestMs)),
    ...(rounds.length > 1 ? { rounds: rounds.length } : {}),
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * Closed-loop producers: each sends an event, waits until all `fanOut` deliveries of it arrived
 * (or, with `untilFirstAttempts`, until each had its first attempt), then sends the next. The
 * queue stays bounded by the producers, so a slow phase does not leave a backlog to the next.
 */
async function producers(
  api: BenchApiClient,
  tenant: Tenant,
  arrivals: PhaseArrivals,
  accepted: Accepted,
  fanOut: number,
  phase: ClosedLoopPhase & { drainMs: number },
  untilFirstAttempts = false,
): Promise<LoadResult> {
  const deadline = performance.now() + phase.capMs + phase.drainMs;
  const load = await closedLoop(phase, async (i) => {
    const id = await send(api, tenant, accepted, i);
    await awaitEvent(untilFirstAttempts ? arrivals.firstAttemptsByEvent : arrivals.deliveredByEvent, id, fanOut, deadline);
  });
  await awaitDelivered(arrivals, accepted.events.size * fanOut, deadline);
  return load;
}

/** One round of `phase.concurrency` producers, closed loop on arrival, to a new tenant with `fanOut` webhooks. */
export async function endToEndRound(
  api: BenchApiClient,
  receiver: BenchReceiver,
  name: string,
  fanOut: number,
  phase: ClosedLoopPhase & { drainMs: number },
): Promise<DeliveryRound> {
  const tenant = await tenantWithWebhooks(api, receiver, name, fanOut);
  const arrivals = receiver.phase(name);
  const accepted = newAccepted();
  const startedAt = performance.now();
  const load = await producers(api, tenant, arrivals, accepted, fanOut, phase);
  return { ...deliveryRound(arrivals, accepted, fanOut, startedAt, load.firstError), tenantId: tenant.tenantId };
}

/** Open-loop events at `ratePerSecond` to a tenant with one webhook: one point of the latency chart. */
export async function endToEndAtRate(
  api: BenchApiClient,
  receiver: BenchReceiver,
  name: string,
  ratePerSecond: number,
  durationMs: number,
  drainMs: number,
): Promise<DeliveryResult> {
  const tenant = await tenantWithWebhooks(api, receiver, name, 1);
  const arrivals = receiver.phase(name);
  const accepted = newAccepted();
  const startedAt = performance.now();
  const load = await openLoop({ ratePerSecond, durationMs, maxInFlight: 256, answerCapMs: drainMs }, (i) => send(api, tenant, accepted, i).then(() => undefined));
  await awaitDelivered(arrivals, accepted.events.size, performance.now() + drainMs);
  return {
    ...deliveryResult([deliveryRound(arrivals, accepted, 1, startedAt, load.firstError)]),
    // Open loop: the ingest latency counts from each request's scheduled time.
    ingestLatencyMs: summarize(load.latenciesMs),
    offeredPerSecond: ratePerSecond,
    skipped: load.skipped,
  };
}

/** One producer, one event at a time, each waiting for its delivery before the next: unloaded latency. */
export async function oneProducer(api: BenchApiClient, receiver: BenchReceiver, count: number, capMs: number): Promise<DeliveryResult> {
  const tenant = await tenantWithWebhooks(api, receiver, 'one', 1);
  const arrivals = receiver.phase('one');
  const accepted = newAccepted();
  const startedAt = performance.now();
  const deadline = startedAt + capMs;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    const id = await send(api, tenant, accepted, i);
    await awaitEvent(arrivals.deliveredByEvent, id, 1, deadline);
  }
  return deliveryResult([deliveryRound(arrivals, accepted, 1, startedAt)]);
}

export interface RetryStormResult extends DeliveryResult {
  /** First attempts (any answer) per second, from the first send to the last first attempt. */
  firstAttemptsPerSecond: number;
  firstAttempts: number;
  /** First attempts answered 500, and how many of those were delivered by a retry. */
  failedFirst: number;
  deliveredByRetry: number;
  /** From the first send until every delivery was delivered (null if some never were). */
  allDeliveredMs: number | null;
  tenantId: string;
}

/**
 * Fan-out-10 events while a share of first attempts answers 500 (then 200, on a 1 s retry):
 * producers wait only for the first attempts of their event, so first attempts must keep
 * flowing while the retries are pending.
 */
export async function retryStorm(
  api: BenchApiClient,
  receiver: BenchReceiver,
  phase: ClosedLoopPhase & { drainMs: number; failShare: number },
  fanOut: number,
): Promise<RetryStormResult> {
  const tenant = await tenantWithWebhooks(api, receiver, 'storm', fanOut, ['1s', '1s', '1s']);
  const arrivals = receiver.phase('storm', phase.failShare);
  const accepted = newAccepted();
  const startedAt = performance.now();
  const load = await producers(api, tenant, arrivals, accepted, fanOut, phase, true);
  const base = deliveryResult([deliveryRound(arrivals, accepted, fanOut, startedAt, load.firstError)]);
  let deliveredByRetry = 0;
  let lastDelivered = startedAt;
  for (const a of arrivals.deliveries.values()) {
    if (a.deliveredAt !== undefined && a.deliveredAt > a.firstAt) deliveredByRetry++;
    if (a.deliveredAt !== undefined) lastDelivered = Math.max(lastDelivered, a.deliveredAt);
  }
  return {
    ...base,
    firstAttempts: arrivals.deliveries.size,
    firstAttemptsPerSecond: perSecond(arrivals.deliveries.size, arrivals.lastFirstAt - startedAt),
    failedFirst: arrivals.failedFirst,
    deliveredByRetry,
    allDeliveredMs: base.complete ? Math.round(lastDelivered - startedAt) : null,
    tenantId: tenant.tenantId,
  };
}

export interface BigFanoutResult {
  webhooks: number;
  delivered: number;
  complete: boolean;
  /** From the 202 to the last arrival; null when not every delivery arrived within the cap. */
  lastArrivalMs: number | null;
  deliveriesPerSecond: number;
}

/** One event to a tenant with `webhooks` webhooks (seeded by `seed`); time until the last arrival. */
export async function bigFanout(
  api: BenchApiClient,
  receiver: BenchReceiver,
  webhooks: number,
  capMs: number,
  seed: (tenant: Tenant, urlOf: (i: number) => string) => Promise<void>,
): Promise<BigFanoutResult> {
  const tenant = await api.createTenant('bench big fan-out');
  await seed(tenant, (i) => receiver.url('big', i));
  const arrivals = receiver.phase('big');
  const accepted = newAccepted();
  const eventId = await send(api, tenant, accepted, 0);
  const acceptedAt = accepted.events.get(eventId)!.acceptedAt;
  await awaitDelivered(arrivals, webhooks, acceptedAt + capMs);
  let last = acceptedAt;
  for (const a of arrivals.deliveries.values()) if (a.deliveredAt !== undefined) last = Math.max(last, a.deliveredAt);
  const complete = arrivals.delivered === webhooks;
  return {
    webhooks,
    delivered: arrivals.delivered,
    complete,
    lastArrivalMs: complete ? Math.round(last - acceptedAt) : null,
    deliveriesPerSecond: perSecond(arrivals.delivered, last - acceptedAt),
  };
}
