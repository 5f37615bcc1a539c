/**
 * A transformation's cost (issue 25): a tenant's ten webhooks at fan-out 10, first plain, then
 * each with a trivial transformation (one header added, the payload left as it is, so the
 * receiver counts it the same way). The figure is deliveries/s in each, measured the same way:
 * producers send an event's next once its ten deliveries arrived.
 */
import type { BenchApiClient, Tenant } from './api-client';
import { eventsUntilArrived } from './noisy-neighbours';
import { EVENT_TYPE } from './product';
import type { BenchReceiver } from './receiver';
import type { DeliveryPhase } from './settings';

const WEBHOOKS = 10;

/** What a trivial transformation looks like: it runs, and changes what is sent a little. */
export const TRIVIAL_TRANSFORMATION = "function handler(webhook) {\n  webhook.headers['X-Bench'] = 'transformed';\n  return webhook;\n}";

export interface TransformedRound {
  transformed: boolean;
  events: number;
  delivered: number;
  expected: number;
  /** From the first send to the last arrival. */
  deliveriesPerSecond: number;
  /** Requests that arrived with the transformation's header: all of them in the transformed round, none in the plain one. */
  transformedRequests: number;
  requests: number;
  firstError?: string;
}

/** One round: a new tenant, ten webhooks (each transformed if `transformed`), closed-loop producers on their arrivals. */
export async function transformedRound(api: BenchApiClient, receiver: BenchReceiver, name: string, transformed: boolean, phase: DeliveryPhase): Promise<TransformedRound> {
  const tenant: Tenant = await api.createTenant(`bench ${name}`);
  const arrivals = receiver.phase(name);
  for (let i = 0; i < WEBHOOKS; i++) {
    await api.createWebhook(tenant, { url: receiver.url(name, i), events: [EVENT_TYPE], ...(transformed ? { transformation: { code: TRIVIAL_TRANSFORMATION } } : {}) });
  }
  const { events, deliveriesPerSecond, firstError } = await eventsUntilArrived(api, tenant, arrivals, WEBHOOKS, phase, 'transformations');
  return {
    transformed,
    events,
    delivered: arrivals.delivered,
    expected: events * WEBHOOKS,
    deliveriesPerSecond,
    transformedRequests: arrivals.marked,
    requests: arrivals.requests,
    ...(firstError ? { firstError } : {}),
  };
}
