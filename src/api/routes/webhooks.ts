import { Router } from 'express';
import type { SecretBox } from '../../crypto/secret-box';
import { isSensitiveHeader, sealHeaders, sealPlaintext, type StoredHeader } from '../../crypto/sealed-headers';
import type { WebhookHttpClient } from '../../delivery/http-client';
import { eventPassesFilter } from '../../delivery/event-filter';
import { sendTestEvent } from '../../delivery/test-event';
import { formatOf } from '../../connectors/render';
import { UrlRefusedError } from '../../delivery/url-guard';
import { unstoredEventEnvelope } from '../../events/event-envelope';
import { matchesEventType, patternsMatching } from '../../events/event-type';
import { deliveryId, newId } from '../../ids';
import type { Models } from '../../models';
import type { WebhookDoc } from '../../models/webhook';
import { circuitView } from '../../delivery/circuit-breaker';
import type { WebhookCircuitDoc } from '../../models/webhook-circuit';
import { countersOf, type WebhookCounterDoc, type WebhookCounters } from '../../models/webhook-counter';
import { generateWebhookSecret } from '../../signing/webhook-secret';
import { ApiError, notFound } from '../errors';
import { encodeCursor } from '../list-cursor';
import { CUSTOM_HEADER_LIMITS } from '../schemas/custom-headers';
import {
  emptyBodySchema,
  transformationCodeSchema,
  webhookIdParamsSchema,
  webhookInputSchema,
  webhookListQuerySchema,
  webhookPatchSchema,
  type WebhookInput,
  type WebhookPatch,
  type WebhookView,
} from '../schemas/webhook';
import { route } from '../validate';
import { z } from 'zod';
import { outgoingRequest, type OutgoingWebhook } from '../../delivery/outgoing-request';
import { SandboxError } from '../../transformations/sandbox';
import { codeVersion } from '../../transformations/transformation';
import { Transformations } from '../../transformations/transformations';
import { newEventSchema } from './events';

export interface WebhooksRouterDeps {
  models: Models;
  secretBox: SecretBox;
  /** The one outbound HTTP client: its SSRF guard checks URLs, and it sends test events. */
  http: WebhookHttpClient;
  defaultTimeoutSeconds: number;
  /** How long a rotated-out secret keeps signing. */
  secretRotationOverlapSeconds: number;
}

type Pairs = readonly { name?: string | null; value?: string | null }[];
const toPairs = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).map(([name, value]) => ({ name, value }));
const fromPairs = (pairs: Pairs) => Object.fromEntries(pairs.map((p) => [p.name ?? '', p.value ?? '']));

/**
 * The public shape of a webhook (its document and its counters document): never a secret, never
 * a sensitive header's value.
 */
export function webhookView(doc: WebhookDoc, counters: WebhookCounters, circuit: WebhookCircuitDoc | null = null): WebhookView {
  const headers = (doc.headers as StoredHeader[]).map((h) => ({ name: h.name ?? '', value: h.value ?? '', hidden: Boolean(h.sealed) || isSensitiveHeader(h.name ?? '') }));
  return {
    id: doc._id,
    url: doc.url,
    events: [...doc.events],
    description: doc.description ?? null,
    active: doc.active,
    headers: fromPairs(headers.filter((h) => !h.hidden)),
    sensitiveHeaders: headers.filter((h) => h.hidden).map((h) => h.name),
    retrySchedule: doc.retrySchedule?.length ? [...doc.retrySchedule] : null,
    timeoutSeconds: doc.timeoutSeconds,
    metadata: fromPairs(doc.metadata),
    filter: doc.filter ? (JSON.parse(doc.filter) as Record<string, unknown>) : null,
    // Absent on webhooks created before the field: no limit.
    rateLimitPerSecond: doc.rateLimitPerSecond ?? null,
    // Absent on webhooks created before the field: unordered, as they always were.
    ordering: doc.ordering === 'fifo' ? 'fifo' : 'unordered',
    // Absent on webhooks created before the field: the envelope, as they always got.
    format: formatOf(doc),
    // Absent on webhooks created before the field: they keep the header they always had.
    legacySignature: doc.legacySignature ?? true,
    transformation: doc.transformation ? { code: doc.transformation.code, enabled: doc.transformation.enabled, version: codeVersion(doc.transformation.code) } : null,
    circuit: circuitView(circuit, doc.createdAt),
    deliverySuccessCount: counters.deliverySuccessCount,
    deliveryFailureCount: counters.deliveryFailureCount,
    lastTriggeredAt: counters.lastTriggeredAt?.toISOString() ?? null,
    disabledReason: doc.disabledReason ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

const headerError = (name: string, message: string) => new ApiError(400, 'validation_failed', 'request is invalid', [{ path: name ? `headers.${name}` : 'headers', message }]);
/** A well-formed `null` (keep) for a header this webhook does not have: a conflict with its state, not bad input. */
const nothingToKeep = (name: string) =>
  new ApiError(409, 'header_not_stored', `${name} has no stored value to keep: give its value`, [{ path: `headers.${name}`, message: 'no stored value to keep' }]);

/**
 * The headers to store: sensitive values sealed; a null value keeps the stored value of that
 * header (the name compared case-insensitively), sealed if an older version left it in the clear.
 */
function storedHeaders(input: Record<string, string | null>, current: readonly StoredHeader[], box: SecretBox): StoredHeader[] {
  const stored: StoredHeader[] = [];
  let bytes = 0;
  for (const [name, value] of Object.entries(input)) {
    if (value !== null) {
      stored.push(...sealHeaders([{ name, value }], box));
      bytes += name.length + value.length;
      continue;
    }
    const kept = current.find((h) => (h.name ?? '').toLowerCase() === name.toLowerCase());
    if (!kept) throw nothingToKeep(name);
    const [resealed] = sealPlaintext([kept], box);
    stored.push({ ...resealed, name });
    // AES-GCM ciphertext is as long as the plaintext.
    bytes += name.length + (kept.sealed ? Buffer.from(kept.sealed.ciphertext, 'base64').length : (kept.value ?? '').length);
  }
  if (bytes > CUSTOM_HEADER_LIMITS.totalBytes) throw headerError('', `custom headers may total at most ${CUSTOM_HEADER_LIMITS.totalBytes} bytes`);
  return stored;
}

/** MongoDB `$set`/`$unset` of the user-settable fields present in `input` (`current`: the stored webhook, on an update). */
function userFieldUpdate(input: WebhookPatch, box: SecretBox, current?: WebhookDoc): { $set: Record<string, unknown>; $unset: Record<string, 1> } {
  const $set: Record<string, unknown> = {};
  const $unset: Record<string, 1> = {};
  if (input.url !== undefined) $set.url = input.url;
  if (input.events !== undefined) $set.events = input.events;
  if (input.description !== undefined) $set.description = input.description;
  if (input.active !== undefined) $set.active = input.active;
  if (input.legacySignature !== undefined) $set.legacySignature = input.legacySignature;
  if (input.headers !== undefined) $set.headers = storedHeaders(input.headers, (current?.headers ?? []) as StoredHeader[], box);
  if (input.metadata !== undefined) $set.metadata = toPairs(input.metadata);
  if (input.timeoutSeconds !== undefined) $set.timeoutSeconds = input.timeoutSeconds;
  // Stored as JSON text: a filter's keys (`data.amount`, `$gte`) are not valid field names everywhere.
  if (input.filter !== undefined) $set.filter = input.filter === null ? null : JSON.stringify(input.filter);
  if (input.rateLimitPerSecond !== undefined) $set.rateLimitPerSecond = input.rateLimitPerSecond;
  if (input.ordering !== undefined) $set.ordering = input.ordering;
  if (input.transformation !== undefined) $set.transformation = input.transformation;
  if (input.format !== undefined) $set.format = input.format;
  if (input.retrySchedule === null) $unset.retrySchedule = 1;
  else if (input.retrySchedule !== undefined) $set.retrySchedule = input.retrySchedule;
  return { $set, $unset };
}

export function webhooksRouter({ models, secretBox, http, defaultTimeoutSeconds, secretRotationOverlapSeconds }: WebhooksRouterDeps): Router {
  const router = Router();
  const transformations = new Transformations();
  const { Webhook, WebhookCounter, WebhookCircuit } = models;
  const circuitOf = (id: string) => WebhookCircuit.findById(id).lean<WebhookCircuitDoc>();

  /** The counters of one webhook (none yet: zeros). */
  async function countersOfWebhook(tenantId: string, id: string): Promise<WebhookCounters> {
    return countersOf(await WebhookCounter.findOne({ _id: id, tenantId }).lean<WebhookCounterDoc>());
  }

  async function checkUrl(url: string): Promise<void> {
    try {
      await http.urlGuard.checkUrlResolved(url);
    } catch (err) {
      if (err instanceof UrlRefusedError) throw new ApiError(400, 'validation_failed', 'request is invalid', [{ path: 'url', message: err.reason }]);
      throw err;
    }
  }

  /** Code that does not compile, or defines no handler, is never saved: 400 with its line. */
  async function checkCode(code: string, path: string): Promise<void> {
    try {
      await transformations.check(code);
    } catch (err) {
      if (!(err instanceof SandboxError)) throw err;
      throw new ApiError(400, 'validation_failed', 'request is invalid', [{ path, message: err.line ? `${err.message} (line ${err.line})` : err.message }]);
    }
  }

  /** A webhook of the calling tenant; another tenant's is 404, never 403. */
  async function findOwn(tenantId: string, id: string): Promise<WebhookDoc> {
    const doc = await Webhook.findOne({ _id: id, tenantId }).lean();
    if (!doc) throw notFound('webhook');
    return doc as WebhookDoc;
  }

  /**
   * PATCH and PUT: a webhook made active again starts with a clean failure record (its streak
   * reset in its counters document, the only API write there).
   */
  async function update(tenantId: string, id: string, input: WebhookPatch): Promise<WebhookView> {
    const current = await findOwn(tenantId, id);
    if (input.url !== undefined) await checkUrl(input.url);
    if (input.transformation) await checkCode(input.transformation.code, 'transformation.code');
    const { $set, $unset } = userFieldUpdate(input, secretBox, current);
    const enabled = input.active === true && !current.active;
    if (enabled) Object.assign($set, { disabledReason: null, disabledAt: null });
    const [doc, counters, circuit] = await Promise.all([
      Webhook.findOneAndUpdate({ _id: id, tenantId }, { $set, ...(Object.keys($unset).length ? { $unset } : {}) }, { returnDocument: 'after' }).lean(),
      enabled
        ? WebhookCounter.findOneAndUpdate({ _id: id, tenantId }, { $set: { consecutiveFailureCount: 0 }, $unset: { failingSince: '' } }, { returnDocument: 'after' })
            .lean<WebhookCounterDoc>()
            .then(countersOf)
        : countersOfWebhook(tenantId, id),
      circuitOf(id),
    ]);
    if (!doc) throw notFound('webhook');
    return webhookView(doc as WebhookDoc, counters, circuit);
  }

  router.post(
    '/',
    route({ body: webhookInputSchema }, async ({ body }, _req, res) => {
      await checkUrl(body.url);
      if (body.transformation) await checkCode(body.transformation.code, 'transformation.code');
      const secret = generateWebhookSecret();
      const { $set } = userFieldUpdate({ active: true, timeoutSeconds: defaultTimeoutSeconds, legacySignature: false, ...body }, secretBox);
      const doc = await Webhook.create({ ...$set, _id: newId('wh'), tenantId: res.locals.tenantId as string, secret: secretBox.encrypt(secret) });
      res.status(201).json({ webhook: { ...webhookView(doc.toObject() as WebhookDoc, countersOf(null)), secret } });
    }),
  );

  router.get(
    '/',
    route({ query: webhookListQuerySchema }, async ({ query }, _req, res) => {
      const filter: Record<string, unknown> = { tenantId: res.locals.tenantId };
      if (query.active !== undefined) filter.active = query.active;
      if (query.event) filter.events = query.event.endsWith('*') ? query.event : { $in: patternsMatching(query.event) };
      const after = query.cursor;
      const page = { ...filter };
      if (after) page.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
      const [docs, count] = await Promise.all([
        Webhook.find(page).sort({ createdAt: -1, _id: -1 }).limit(query.limit + 1).lean(),
        Webhook.countDocuments(filter),
      ]);
      const webhooks = (docs as WebhookDoc[]).slice(0, query.limit);
      const last = webhooks[webhooks.length - 1];
      // The page's counters in one read.
      const ids = webhooks.map((w) => w._id);
      const [counters, circuits] = webhooks.length
        ? await Promise.all([
            WebhookCounter.find({ _id: { $in: ids }, tenantId: res.locals.tenantId }).lean<WebhookCounterDoc[]>(),
            WebhookCircuit.find({ _id: { $in: ids }, tenantId: res.locals.tenantId }).lean<WebhookCircuitDoc[]>(),
          ])
        : [[], []];
      const countersBy = new Map(counters.map((c) => [c._id, c]));
      const circuitsBy = new Map(circuits.map((c) => [c._id, c]));
      res.json({
        webhooks: webhooks.map((w) => webhookView(w, countersOf(countersBy.get(w._id)), circuitsBy.get(w._id))),
        count,
        nextCursor: docs.length > query.limit ? encodeCursor({ createdAt: last.createdAt, id: last._id }) : null,
      });
    }),
  );

  router.get(
    '/:id',
    route({ params: webhookIdParamsSchema }, async ({ params }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const [doc, counters, circuit] = await Promise.all([findOwn(tenantId, params.id), countersOfWebhook(tenantId, params.id), circuitOf(params.id)]);
      res.json({ webhook: webhookView(doc, counters, circuit) });
    }),
  );

  router.patch(
    '/:id',
    route({ params: webhookIdParamsSchema, body: webhookPatchSchema }, async ({ params, body }, _req, res) => {
      res.json({ webhook: await update(res.locals.tenantId as string, params.id, body) });
    }),
  );

  router.put(
    '/:id',
    route({ params: webhookIdParamsSchema, body: webhookInputSchema }, async ({ params, body }, _req, res) => {
      // Whole replacement: what is left out goes back to its default, but for legacySignature,
      // which a client written before the field would otherwise turn off for its receiver.
      const whole: WebhookInput = {
        description: null,
        active: true,
        headers: {},
        retrySchedule: null,
        timeoutSeconds: defaultTimeoutSeconds,
        metadata: {},
        filter: null,
        rateLimitPerSecond: null,
        ordering: 'unordered',
        transformation: null,
        format: 'standard',
        ...body,
      };
      res.json({ webhook: await update(res.locals.tenantId as string, params.id, whole) });
    }),
  );

  router.delete(
    '/:id',
    route({ params: webhookIdParamsSchema }, async ({ params }, _req, res) => {
      // Deliveries still retrying find it gone at their next attempt and end canceled.
      const result = await Webhook.deleteOne({ _id: params.id, tenantId: res.locals.tenantId });
      if (result.deletedCount === 0) throw notFound('webhook');
      // A counter write racing the deletion may upsert it again: such a document is never read (ids are never reused).
      await WebhookCounter.deleteOne({ _id: params.id, tenantId: res.locals.tenantId });
      await WebhookCircuit.deleteOne({ _id: params.id, tenantId: res.locals.tenantId });
      res.status(204).end();
    }),
  );

  router.post(
    '/:id/rotate-secret',
    route({ params: webhookIdParamsSchema, body: emptyBodySchema }, async ({ params }, _req, res) => {
      const current = await findOwn(res.locals.tenantId as string, params.id);
      const secret = generateWebhookSecret();
      const expiresAt = secretRotationOverlapSeconds > 0 ? new Date(Date.now() + secretRotationOverlapSeconds * 1000) : null;
      // Conditional on the secret read above: of two concurrent rotations, one wins and the other is told.
      const result = await Webhook.updateOne(
        { _id: current._id, tenantId: current.tenantId, 'secret.ciphertext': current.secret.ciphertext },
        {
          $set: {
            secret: secretBox.encrypt(secret),
            previousSecret: expiresAt ? current.secret : null,
            previousSecretExpiresAt: expiresAt,
          },
        },
      );
      if (result.matchedCount === 0) throw new ApiError(409, 'conflict', 'the secret was rotated concurrently; retry');
      res.json({ secret, previousSecretExpiresAt: expiresAt?.toISOString() ?? null });
    }),
  );

  router.post(
    '/:id/test',
    route({ params: webhookIdParamsSchema, body: emptyBodySchema }, async ({ params }, _req, res) => {
      const webhook = await findOwn(res.locals.tenantId as string, params.id);
      res.json(await sendTestEvent({ http, secretBox, transformations }, webhook));
    }),
  );

  router.post(
    '/:id/filter-test',
    route({ params: webhookIdParamsSchema, body: newEventSchema }, async ({ params, body }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const webhook = await findOwn(tenantId, params.id);
      // What the fan-out would decide: a type the webhook subscribes to, and an event its filter passes.
      const envelope = unstoredEventEnvelope(tenantId, body);
      res.json({ matches: matchesEventType(webhook.events, envelope.type) && eventPassesFilter(webhook.filter, envelope) });
    }),
  );

  router.post(
    '/:id/transformation-test',
    route({ params: webhookIdParamsSchema, body: transformationTestInputSchema }, async ({ params, body }, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const webhook = await findOwn(tenantId, params.id);
      if (body.code !== undefined) await checkCode(body.code, 'code');
      const code = body.code ?? webhook.transformation?.code;
      const envelope = unstoredEventEnvelope(tenantId, body.event);
      const tried = { ...webhook, transformation: code === undefined ? null : { code, enabled: true } } as OutgoingWebhook;
      const request = await outgoingRequest({ secretBox, transformations }, tried, { deliveryId: deliveryId(tenantId, envelope.id, webhook._id), envelope, now: new Date() });
      if (request.kind !== 'send') {
        res.json({ outcome: request.kind === 'canceled' ? 'cancel' : 'failed', request: null, error: request.kind === 'failed' ? request.error : null, transformation: request.transformation });
        return;
      }
      // The values of the webhook's sensitive custom headers are sent, never shown.
      const sensitive = new Set((webhook.headers as StoredHeader[]).filter((h) => h.sealed || isSensitiveHeader(h.name ?? '')).map((h) => (h.name ?? '').toLowerCase()));
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, sensitive.has(name) ? '[sensitive]' : value]));
      res.json({ outcome: 'send', request: { method: request.method, url: request.url, headers, body: request.body }, error: null, transformation: request.transformation });
    }),
  );

  return router;
}

/** `POST /v1/webhooks/{id}/transformation-test`: an event, and code not yet saved (else the webhook's own, enabled or not). */
export const transformationTestInputSchema = z.strictObject({
  event: newEventSchema.meta({ description: 'The event, as POST /v1/events takes it.' }),
  code: transformationCodeSchema.optional().meta({ description: "Code to try instead of the webhook's (not saved)." }),
});
