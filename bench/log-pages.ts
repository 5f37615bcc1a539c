/**
 * The tenant's logs with 100,000 deliveries: page loads of `GET /v1/events` and `GET /v1/deliveries`
 * (first page, a deep page by cursor, the failed ones, one webhook's) for a big tenant, each as a
 * ratio to the same page of a small tenant (a few hundred deliveries) loaded in turn in the same
 * run. Both tenants' events and deliveries are a SEED of the index written straight into the
 * database through the product's models (events with `acceptedHour`, deliveries with
 * `createdHour`, as the product writes them), not sends: 100,000 deliveries through the stack
 * would take this machine many minutes and measure the fan-out, not the lists.
 */
import { request } from 'undici';
import { encodeCursor } from '../src/api/list-cursor';
import { connectMongo } from '../src/models';
import { createdHourOf } from '../src/models/delivery';
import { acceptedHourOf, eventKey } from '../src/models/event';
import type { BenchApiClient, Tenant } from './api-client';
import type { BenchStack } from './stack';
import { summarize, type LatencySummary } from './stats';

export interface LogPagesSettings {
  /** Deliveries of the big tenant (two per event). */
  deliveries: number;
  /** Deliveries of the baseline tenant, over the same days. */
  baselineDeliveries: number;
  /** Loads of each page per tenant. */
  loads: number;
}

/** The pages measured, named as the report names them. */
export const LOG_PAGES = ['events first page', 'events deep page', 'deliveries first page', 'deliveries deep page', 'failed deliveries', "one webhook's deliveries"] as const;
export type LogPage = (typeof LOG_PAGES)[number];

export interface LogPagesResult {
  deliveries: number;
  baselineDeliveries: number;
  /** How long the seed of both tenants took (not a measure of the product). */
  seedMs: number;
  /** Per page: the big tenant's loads, the baseline tenant's, and the rows the big one's page held. */
  pages: Record<LogPage, { big: LatencySummary; baseline: LatencySummary; rows: number }>;
}

/** Days the seeded deliveries span, newest now: the hour walk meets busy hours, and the deep page is days back. */
const SPAN_DAYS = 7;
const WEBHOOKS = 5;
const FAN_OUT = 2;
const PAGE = 50;
const INSERT_BATCH = 1000;
const HOUR_MS = 3_600_000;

interface Seeded {
  tenant: Tenant;
  webhookIds: string[];
  /** When the deep pages start: half the span back. */
  deepAt: Date;
}

async function seed(api: BenchApiClient, stack: BenchStack, name: string, tag: string, deliveries: number): Promise<Seeded> {
  const tenant = await api.createTenant(name);
  const webhookIds: string[] = [];
  for (let i = 0; i < WEBHOOKS; i++) webhookIds.push(await api.createWebhook(tenant, { url: `http://127.0.0.1:9/bench-logs-${i}`, events: ['bench.logs.*'] }));
  const events = Math.ceil(deliveries / FAN_OUT);
  const now = Date.now();
  const step = (SPAN_DAYS * 24 * HOUR_MS) / events;
  const { conn, models } = await connectMongo(stack.mongodbUri);
  try {
    for (let start = 0; start < events; start += INSERT_BATCH) {
      const eventDocs = [];
      const deliveryDocs = [];
      for (let i = start; i < Math.min(events, start + INSERT_BATCH); i++) {
        const at = new Date(now - Math.round(i * step));
        const eventId = `evt_benchlogs${String(i).padStart(6, '0')}`;
        const type = i % 2 ? 'bench.logs.paid' : 'bench.logs.created';
        eventDocs.push({ _id: eventKey(tenant.tenantId, eventId), tenantId: tenant.tenantId, eventId, type, data: `{"n":${i}}`, metadata: [], bodyHash: 'seed', acceptedAt: at, acceptedHour: acceptedHourOf(at), fanoutRecordedThrough: null });
        for (let k = 0; k < FAN_OUT && i * FAN_OUT + k < deliveries; k++) {
          // 2 % failed, 1 % retrying, the rest delivered: as a healthy tenant's log is.
          const n = i * FAN_OUT + k;
          const status = n % 50 === 7 ? 'failed' : n % 100 === 3 ? 'retrying' : 'delivered';
          deliveryDocs.push({
            // Delivery ids are global: each tenant's seed has its own tag.
            _id: `dlv_benchlogs${tag}${String(n).padStart(7, '0')}`,
            tenantId: tenant.tenantId,
            webhookId: webhookIds[(i + k) % WEBHOOKS],
            eventId,
            eventType: type,
            status,
            attempts: status === 'delivered' ? 1 : 3,
            durationMs: 20,
            createdAt: at,
            createdHour: createdHourOf(at),
            completedAt: status === 'retrying' ? null : at,
          });
        }
      }
      await models.Event.collection.insertMany(eventDocs as never[], { ordered: false });
      await models.Delivery.collection.insertMany(deliveryDocs as never[], { ordered: false });
    }
  } finally {
    await conn.close();
  }
  return { tenant, webhookIds, deepAt: new Date(now - (SPAN_DAYS * 24 * HOUR_MS) / 2) };
}

/** The path of each page for a seeded tenant; the deep pages start from a cursor half the span back. */
function paths(s: Seeded): Record<LogPage, string> {
  // A cursor as a previous page would have returned it (the id sorts after every seeded one).
  const deep = encodeURIComponent(encodeCursor({ createdAt: s.deepAt, id: 'zz' }));
  return {
    'events first page': `/v1/events?limit=${PAGE}`,
    'events deep page': `/v1/events?limit=${PAGE}&cursor=${deep}`,
    'deliveries first page': `/v1/deliveries?limit=${PAGE}`,
    'deliveries deep page': `/v1/deliveries?limit=${PAGE}&cursor=${deep}`,
    'failed deliveries': `/v1/deliveries?limit=${PAGE}&status=failed`,
    "one webhook's deliveries": `/v1/deliveries?limit=${PAGE}&webhookId=${s.webhookIds[0]}`,
  };
}

async function load(stack: BenchStack, tenant: Tenant, path: string): Promise<{ ms: number; rows: number }> {
  const t = performance.now();
  const res = await request(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  const body = (await res.body.json()) as { events?: unknown[]; deliveries?: unknown[] };
  const ms = performance.now() - t;
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
  return { ms, rows: (body.events ?? body.deliveries ?? []).length };
}

export async function logPages(api: BenchApiClient, stack: BenchStack, settings: LogPagesSettings): Promise<LogPagesResult> {
  const t = performance.now();
  const big = await seed(api, stack, 'bench logs, big', 'big', settings.deliveries);
  const small = await seed(api, stack, 'bench logs, baseline', 'base', settings.baselineDeliveries);
  const seedMs = Math.round(performance.now() - t);
  const bigPaths = paths(big);
  const smallPaths = paths(small);
  const samples = Object.fromEntries(LOG_PAGES.map((p) => [p, { big: [] as number[], baseline: [] as number[], rows: 0 }])) as Record<LogPage, { big: number[]; baseline: number[]; rows: number }>;
  // One warm-up load of each (the planner's first look, the API's first route), then in turn, so both meet the same machine load.
  for (const page of LOG_PAGES) {
    await load(stack, big.tenant, bigPaths[page]);
    await load(stack, small.tenant, smallPaths[page]);
  }
  for (let i = 0; i < settings.loads; i++) {
    for (const page of LOG_PAGES) {
      const b = await load(stack, big.tenant, bigPaths[page]);
      samples[page].big.push(b.ms);
      samples[page].rows = b.rows;
      samples[page].baseline.push((await load(stack, small.tenant, smallPaths[page])).ms);
    }
  }
  const pages = Object.fromEntries(LOG_PAGES.map((p) => [p, { big: summarize(samples[p].big), baseline: summarize(samples[p].baseline), rows: samples[p].rows }])) as LogPagesResult['pages'];
  return { deliveries: settings.deliveries, baselineDeliveries: settings.baselineDeliveries, seedMs, pages };
}
