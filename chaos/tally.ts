/**
 * The books of a chaos run: every delivery the accepted events owe (each accepted event times
 * each of its tenant's webhooks that match its type), against what the receiver got (a 2xx, by
 * `webhook-id`) and what the product recorded as failed (its deliveries API). An owed delivery
 * in neither is lost.
 */
import type { Client } from '@temporalio/client';
import type { BenchApiClient, Tenant } from '../bench/api-client';
import { EventId, WebhookId } from '../src/temporal/search-attributes';
import { matchesEventType } from '../src/events/event-type';
import type { FaultReceiver } from './fault-receiver';
import type { PlannedEvent } from './producers';

export interface ChaosWebhook {
  tenantIndex: number;
  /** The receiver's key for it (its path). */
  key: string;
  id: string;
  events: string[];
}

export interface Tally {
  /** Deliveries the accepted events owe. */
  expected: number;
  /** Of those, received with a 2xx. */
  delivered: number;
  /** Of those, not received and recorded failed by the product. */
  failed: number;
  /** Neither received nor recorded failed, and still on its way: a fan-out or delivery workflow still running. */
  inFlight: number;
  /** Neither received nor recorded failed, and no workflow left that could still deliver it. */
  lost: number;
  /** Neither received nor recorded failed, and not looked up in Temporal before time ran out. */
  unchecked: number;
  /** Deliveries (by webhook-id) the receiver answered 2xx more than once, and the extra 2xx in all. */
  duplicateDeliveries: number;
  duplicateRequests: number;
  /** Deliveries received for events the producers never saw accepted (a 202 lost on the way). */
  receivedUnaccepted: number;
  /** A few lost deliveries, to start looking from. */
  lostSample: string[];
}

/** The receiver key of the warm-up webhook, whose delivery nobody owes. */
export const WARMUP_KEY = 'warmup';

const pairKey = (webhookKey: string, eventId: string) => `${webhookKey} ${eventId}`;

/** The deliveries owed: `webhookKey eventId` of every accepted event and matching webhook. */
export function owedDeliveries(events: readonly PlannedEvent[], accepted: ReadonlySet<string>, webhooks: readonly ChaosWebhook[]): Set<string> {
  const owed = new Set<string>();
  for (const event of events) {
    if (!accepted.has(event.id)) continue;
    for (const webhook of webhooks) {
      if (webhook.tenantIndex === event.tenantIndex && matchesEventType(webhook.events, event.type)) owed.add(pairKey(webhook.key, event.id));
    }
  }
  return owed;
}

/** Owed deliveries the receiver got a 2xx for. */
export function receivedDeliveries(receiver: FaultReceiver): Set<string> {
  const received = new Set<string>();
  for (const d of receiver.deliveries.values()) if (d.successes > 0) received.add(pairKey(d.webhookKey, d.eventId));
  return received;
}

/** HTTP requests the receiver got per `webhookKey eventId` (every webhook-id of that pair). */
export function requestsByPair(receiver: FaultReceiver): Map<string, number> {
  const requests = new Map<string, number>();
  for (const d of receiver.deliveries.values()) {
    const key = pairKey(d.webhookKey, d.eventId);
    requests.set(key, (requests.get(key) ?? 0) + d.requests);
  }
  return requests;
}

/** Deliveries the product lists as failed, through GET /v1/webhooks/{id}/deliveries?status=failed. */
export async function failedDeliveries(api: BenchApiClient, tenants: readonly Tenant[], webhooks: readonly ChaosWebhook[]): Promise<Set<string>> {
  const failed = new Set<string>();
  for (const webhook of webhooks) {
    let cursor: string | null = null;
    do {
      const page = await api.client(tenants[webhook.tenantIndex].apiKey).listWebhookDeliveries(webhook.id, { status: 'failed', limit: 100, ...(cursor ? { cursor } : {}) });
      for (const d of page.deliveries) failed.add(pairKey(webhook.key, d.eventId));
      cursor = page.nextCursor;
    } while (cursor);
  }
  return failed;
}

/** What is still on its way when the run ends: events whose fan-out runs, and deliveries whose workflow runs. */
export interface InFlight {
  events: Set<string>;
  deliveries: Set<string>;
  /** False when the listing ran out of time: what it did not reach is unchecked, not lost. */
  complete: boolean;
}

/**
 * The running workflows (visibility), by their EventId and WebhookId search attributes. Then
 * the events of `candidates` (owed, neither received nor failed, not seen running) are looked at
 * one by one, in every status: a fan-out can close, and its delivery's workflow start, while
 * the first listing pages through thousands of runs on a loaded dev server.
 */
export async function inFlightDeliveries(client: Client, webhooks: readonly ChaosWebhook[], candidates: () => string[], deadline: number): Promise<InFlight> {
  const keyOf = new Map(webhooks.map((w) => [w.id, w.key]));
  const inFlight: InFlight = { events: new Set(), deliveries: new Set(), complete: true };
  const add = async (query: string) => {
    for await (const run of client.workflow.list({ query })) {
      if (performance.now() > deadline) {
        inFlight.complete = false;
        return;
      }
      if (run.status.name !== 'RUNNING') continue;
      const eventId = run.typedSearchAttributes.get(EventId);
      const webhookId = run.typedSearchAttributes.get(WebhookId);
      if (!eventId) continue;
      if (webhookId && keyOf.has(webhookId)) inFlight.deliveries.add(pairKey(keyOf.get(webhookId)!, eventId));
      else if (!webhookId) inFlight.events.add(eventId);
    }
  };
  await add(`ExecutionStatus = 'Running'`);
  const isOpen = (key: string) => inFlight.deliveries.has(key) || inFlight.events.has(key.split(' ')[1]);
  const events = new Set(candidates().filter((key) => !isOpen(key)).map((key) => key.split(' ')[1]));
  for (const eventId of events) if (inFlight.complete) await add(`EventId = '${eventId}'`);
  return inFlight;
}

export function tally(owed: ReadonlySet<string>, received: ReadonlySet<string>, failed: ReadonlySet<string>, receiver: FaultReceiver, inFlight: InFlight): Tally {
  let delivered = 0;
  let failedCount = 0;
  let inFlightCount = 0;
  let unchecked = 0;
  const lost: string[] = [];
  for (const key of owed) {
    if (received.has(key)) delivered++;
    else if (failed.has(key)) failedCount++;
    else if (inFlight.deliveries.has(key) || inFlight.events.has(key.split(' ')[1])) inFlightCount++;
    else if (!inFlight.complete) unchecked++;
    else lost.push(key);
  }
  let duplicateDeliveries = 0;
  let duplicateRequests = 0;
  for (const d of receiver.deliveries.values()) {
    if (d.successes > 1) {
      duplicateDeliveries++;
      duplicateRequests += d.successes - 1;
    }
  }
  let receivedUnaccepted = 0;
  for (const key of received) if (!owed.has(key) && !key.startsWith(`${WARMUP_KEY} `)) receivedUnaccepted++;
  return {
    expected: owed.size,
    delivered,
    failed: failedCount,
    inFlight: inFlightCount,
    lost: lost.length,
    unchecked,
    duplicateDeliveries,
    duplicateRequests,
    receivedUnaccepted,
    lostSample: lost.slice(0, 10),
  };
}
