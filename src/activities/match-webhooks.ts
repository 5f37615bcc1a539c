import { log } from '@temporalio/activity';
import { eventPassesFilter } from '../delivery/event-filter';
import { eventEnvelope } from '../events/event-envelope';
import { patternsMatching } from '../events/event-type';
import { deliveryId } from '../ids';
import type { Models } from '../models';
import { maxAttempts, retryDelayAfter } from '../delivery/retry-schedule';
import type { AttemptRecord, MatchedWebhook, MatchPage } from '../delivery/types';
import { eventKey, type EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import type { MatchList, PageCache } from './page-cache';
import type { RecordedWithOutbox } from './record-delivery-outcome';
import type { DeliveryDoc } from '../models/delivery';

export interface MatchWebhooksInput {
  tenantId: string;
  eventId: string;
  eventType: string;
  /** Last webhook id of the previous page. */
  after: string | null;
  limit: number;
}

/** One page (and one more, to know there is a next) of the tenant's active webhooks subscribed to `eventType`, in id order. */
function findPage(models: Models, { tenantId, eventType, after, limit }: MatchWebhooksInput) {
  return models.Webhook.find({
    tenantId,
    active: true,
    events: { $in: patternsMatching(eventType) },
    ...(after ? { _id: { $gt: after } } : {}),
  })
    .sort({ _id: 1 })
    .limit(limit + 1);
}

function matched(tenantId: string, eventId: string, w: Pick<WebhookDoc, '_id' | 'url' | 'retrySchedule' | 'ordering' | 'rateLimitPerSecond'>): MatchedWebhook {
  return {
    webhookId: w._id,
    deliveryId: deliveryId(tenantId, eventId, w._id),
    maxAttempts: maxAttempts(w.retrySchedule),
    host: new URL(w.url).host,
    // Only when set: an unordered webhook's page entry stays what it was (and its history's payload).
    ...(w.ordering === 'fifo' ? { ordering: 'fifo' as const } : {}),
    ...(w.rateLimitPerSecond ? { rateLimited: true as const } : {}),
  };
}

/**
 * Ids of the webhooks of `page` whose payload filter the event passes (all those without one): an
 * event filtered out makes no delivery, so no attempt and no count. With no event to test, all of
 * them, whose attempts then find it gone as they did before filters; a stored filter that cannot
 * run (never one the API accepted) lets the event through rather than stall the fan-out.
 */
function passingFilters(page: readonly WebhookDoc[], event: EventDoc | null): Set<string> {
  const filtered = page.filter((w) => w.filter);
  if (!event || !filtered.length) return new Set(page.map((w) => w._id));
  const envelope = eventEnvelope(event);
  const passes = (w: WebhookDoc) => {
    try {
      return eventPassesFilter(w.filter, envelope);
    } catch (err) {
      log.warn('payload filter could not run; the event is delivered', { webhookId: w._id, eventId: event.eventId, error: (err as Error).message });
      return true;
    }
  };
  return new Set(page.filter((w) => !w.filter || passes(w)).map((w) => w._id));
}

/**
 * The fan-out's page as fan-outs started before first attempts moved inline read it (their
 * histories schedule this activity, so it stays registered while such runs may exist).
 */
export function matchWebhooksActivity(models: Models) {
  return async function matchWebhooks(input: MatchWebhooksInput): Promise<MatchPage> {
    const webhooks = await findPage(models, input).select({ _id: 1, url: 1, retrySchedule: 1, filter: 1 }).lean<WebhookDoc[]>();
    const page = webhooks.slice(0, input.limit);
    const event = page.some((w) => w.filter) ? await models.Event.findById(eventKey(input.tenantId, input.eventId)).lean<EventDoc>() : null;
    const passing = passingFilters(page, event);
    return {
      webhooks: page.filter((w) => passing.has(w._id)).map((w) => matched(input.tenantId, input.eventId, w)),
      nextCursor: webhooks.length > input.limit ? page[page.length - 1]._id : null,
    };
  };
}

/**
 * How many matching webhooks one query reads for an event's fan-out and keeps for its pages
 * (about 1 KB each): on FerretDB a query costs a read of all the tenant's webhooks whatever its
 * limit, so fewer, larger reads are what make a big fan-out fast.
 */
export const MATCH_READ_LIMIT = 10_000;

/** The event's match list if it serves the page after `after`; otherwise one read of the next `MATCH_READ_LIMIT`. */
async function matchList(models: Models, cache: PageCache, input: MatchWebhooksInput): Promise<MatchList> {
  const key = `${input.tenantId}/${input.eventId}`;
  const cached = cache.matchList(key);
  if (cached && (cached.from ?? '') <= (input.after ?? '')) {
    const last = cached.webhooks[cached.webhooks.length - 1]?._id ?? '';
    if (!cached.more || (input.after ?? '') < last) {
      // Read before the tenant's deletion, the list still names its (now deleted) webhooks: once deleted, no page more.
      const tenant = await models.Tenant.findById(input.tenantId).select({ state: 1 }).lean();
      return tenant?.state === 'deleted' ? { from: input.after, webhooks: [], more: false } : cached;
    }
  }
  const webhooks = await findPage(models, { ...input, limit: MATCH_READ_LIMIT }).lean<WebhookDoc[]>();
  const list = { from: input.after, webhooks: webhooks.slice(0, MATCH_READ_LIMIT), more: webhooks.length > MATCH_READ_LIMIT };
  // A fan-out of one page never asks again.
  if (list.more || list.webhooks.length > input.limit) cache.putMatchList(key, list);
  return list;
}

/**
 * A page of the fan-out (local activity): the matching webhooks (see `matchList`) and the event,
 * kept in the worker for the page's first attempts; and which of the page's deliveries are
 * already recorded (a reset or replayed fan-out), so none of them is sent again. An event that no
 * webhook matches costs the match query alone: its payload is read only for a page to send.
 */
export function loadFanoutPageActivity(models: Models, cache: PageCache, finishOwedEffects: (docs: readonly RecordedWithOutbox[], readAt: number) => Promise<void>) {
  return async function loadFanoutPage(input: MatchWebhooksInput): Promise<MatchPage> {
    const list = await matchList(models, cache, input);
    const after = input.after ?? '';
    const start = list.webhooks.findIndex((w) => w._id > after);
    const rest = start < 0 ? [] : list.webhooks.slice(start);
    const page = rest.slice(0, input.limit);
    if (!page.length) return { webhooks: [], nextCursor: null };
    for (const webhook of page) cache.putWebhook(webhook);
    const found = page.map((w) => matched(input.tenantId, input.eventId, w));
    const eventRead = models.Event.findById(eventKey(input.tenantId, input.eventId)).lean<EventDoc>().exec();
    const [event, recorded] = await Promise.all([eventRead, recordedDeliveries(models, input, eventRead, found)]);
    if (event) cache.putEvent(event);
    await finishOwedEffects(recorded.withOutbox, recorded.readAt);
    // Filtered after the reads, so the page's event read stays beside its deliveries' read; the
    // cursor is the unfiltered page's, and a page the filters empty still leads to the next.
    const passing = passingFilters(page, event);
    return {
      webhooks: found
        .map((m, i) => ({
          ...m,
          firstDelayMs: retryDelayAfter(page[i].retrySchedule, 1, m.deliveryId),
          recorded: recorded.ids.has(m.deliveryId),
          ...(recorded.unsettled.has(m.deliveryId) ? { unsettled: { attempt: recorded.unsettled.get(m.deliveryId) ?? null } } : {}),
        }))
        .filter((m) => passing.has(m.webhookId)),
      nextCursor: rest.length > input.limit || list.more ? page[page.length - 1]._id : null,
    };
  };
}

/**
 * The page's deliveries already in the index (a reset or replayed run). For the first page that
 * is one query, cheap for a new event (it has none yet), made beside the event's read. A later
 * page can have some only if it starts at or before the event's `fanoutRecordedThrough`: a fresh
 * page costs no query, where the query would read every delivery of the event so far (FerretDB
 * cannot push `$in` down).
 */
async function recordedDeliveries(
  models: Models,
  { tenantId, eventId, after }: MatchWebhooksInput,
  event: Promise<EventDoc | null>,
  page: MatchedWebhook[],
): Promise<{ ids: Set<string>; withOutbox: RecordedWithOutbox[]; unsettled: Map<string, AttemptRecord | null>; readAt: number }> {
  if (after !== null) {
    const through = (await event)?.fanoutRecordedThrough;
    if (!through || through < page[0].webhookId) return { ids: new Set(), withOutbox: [], unsettled: new Map(), readAt: Date.now() };
  }
  const readAt = Date.now();
  const docs = await models.Delivery.find({ tenantId, eventId, _id: { $in: page.map((m) => m.deliveryId) } })
    .select({ _id: 1, tenantId: 1, webhookId: 1, eventId: 1, eventType: 1, effects: 1, effectsKey: 1, status: 1, held: 1, firstAttempt: 1 })
    .lean<(RecordedWithOutbox & Pick<DeliveryDoc, 'status' | 'held' | 'firstAttempt'>)[]>();
  // Held and never settled: still pending, with the held mark its settle or hand-over removes.
  const unsettled = new Map(docs.filter((d) => d.status === 'pending' && d.held).map((d) => [d._id, (d.firstAttempt as AttemptRecord | undefined) ?? null]));
  return { ids: new Set(docs.map((d) => d._id)), withOutbox: docs.filter((d) => d.effects && d.effectsKey), unsettled, readAt };
}
