/**
 * Noisy neighbours (issue 24): a tenant's ten webhooks at fan-out 10, first all healthy, then with
 * one whose receiver never answers (every attempt runs into its timeout) and one limited to 5
 * requests/s. The figure is the other eight webhooks' deliveries/s in each, measured the same
 * way: producers send an event's next once those eight deliveries of the previous one arrived.
 */
import type { BenchApiClient, Tenant } from './api-client';
import { closedLoop } from './load';
import { EVENT_TYPE } from './product';
import type { BenchReceiver, PhaseArrivals } from './receiver';
import type { DeliveryPhase } from './settings';
import { perSecond, sleep } from './stats';

/** Webhooks whose deliveries the figure counts (of the tenant's ten). */
export const QUIET_WEBHOOKS = 8;
/** The limited neighbour's rate. */
export const NEIGHBOUR_RATE_PER_SECOND = 5;

export interface NeighboursRound {
  /** Whether two of the ten were noisy (one never answering, one rate-limited). */
  noisy: boolean;
  events: number;
  /** Deliveries of the eight quiet webhooks that arrived (2xx), each once. */
  delivered: number;
  expected: number;
  /** Of the eight quiet webhooks, from the first send to the last arrival. */
  deliveriesPerSecond: number;
  /** Requests the never-answering receiver got, and the rate-limited one's deliveries, during the round. */
  hungRequests: number;
  limitedDelivered: number;
  firstError?: string;
}

/** One round: a new tenant, ten webhooks (two noisy if `noisy`), closed-loop producers on the quiet eight's arrivals. */
export async function neighboursRound(
  api: BenchApiClient,
  receiver: BenchReceiver,
  silentReceiver: BenchReceiver,
  name: string,
  noisy: boolean,
  phase: DeliveryPhase,
): Promise<NeighboursRound> {
  const tenant: Tenant = await api.createTenant(`bench ${name}`);
  const quiet = receiver.phase(name);
  const hung = silentReceiver.phase(`${name}-hung`, 0, noisy);
  const limited = receiver.phase(`${name}-limited`);
  // The two neighbours: healthy and unlimited in the quiet round, so only their behaviour differs.
  await api.createWebhook(tenant, { url: silentReceiver.url(`${name}-hung`), events: [EVENT_TYPE] });
  await api.createWebhook(tenant, { url: receiver.url(`${name}-limited`), events: [EVENT_TYPE], ...(noisy ? { rateLimitPerSecond: NEIGHBOUR_RATE_PER_SECOND } : {}) });
  for (let i = 0; i < QUIET_WEBHOOKS; i++) await api.createWebhook(tenant, { url: receiver.url(name, i), events: [EVENT_TYPE] });

  const { events, deliveriesPerSecond, firstError } = await eventsUntilArrived(api, tenant, quiet, QUIET_WEBHOOKS, phase, 'noisy neighbours');
  return {
    noisy,
    events,
    delivered: quiet.delivered,
    expected: events * QUIET_WEBHOOKS,
    deliveriesPerSecond,
    hungRequests: hung.requests,
    limitedDelivered: limited.delivered,
    ...(firstError ? { firstError } : {}),
  };
}

/**
 * Closed-loop producers of a tenant's events, each sending its next once `perEvent` deliveries of
 * the previous one arrived in `arrivals` (or the phase's time is up): deliveries/s from the first
 * send to the last arrival.
 */
export async function eventsUntilArrived(
  api: BenchApiClient,
  tenant: Tenant,
  arrivals: PhaseArrivals,
  perEvent: number,
  phase: DeliveryPhase,
  note: string,
): Promise<{ events: number; deliveriesPerSecond: number; firstError?: string }> {
  const deadline = performance.now() + phase.capMs + phase.drainMs;
  const startedAt = performance.now();
  let events = 0;
  const load = await closedLoop(phase, async (i) => {
    const id = await api.sendEvent(tenant, EVENT_TYPE, { n: i, note });
    events++;
    while ((arrivals.deliveredByEvent.get(id) ?? 0) < perEvent && performance.now() < deadline) await sleep(10);
  });
  let last = startedAt;
  for (const arrival of arrivals.deliveries.values()) if (arrival.deliveredAt !== undefined) last = Math.max(last, arrival.deliveredAt);
  return { events, deliveriesPerSecond: perSecond(arrivals.delivered, last - startedAt), ...(load.firstError ? { firstError: load.firstError } : {}) };
}
