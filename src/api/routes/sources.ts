/**
 * `/v1/sources`: a tenant's inbound sources. The provider's secret is sealed at rest and never
 * returned. The ingest URL is in every read (its token is stored hashed, for lookup, and sealed,
 * for reads; never in clear): a credential, readable by whoever holds the tenant's API key. A
 * source stored before sealed tokens reads `ingestUrl: null` until rotate-url. Another tenant's
 * source is 404.
 */
import { Router, type Request } from 'express';
import type { EncryptedSecret, SecretBox } from '../../crypto/secret-box';
import { newId } from '../../ids';
import type { Models } from '../../models';
import type { SourceDoc } from '../../models/source';
import { HMAC_DEFAULTS } from '../../sources/hmac';
import { INGEST_URL_OVERLAP_MS, issueIngestToken } from '../../sources/ingest-token';
import { VERIFIERS, type SourceType } from '../../sources/registry';
import { ApiError, notFound } from '../errors';
import { encodeCursor } from '../list-cursor';
import { emptyBodySchema } from '../schemas/webhook';
import { SECRET_SCHEMAS, sourceIdParamsSchema, sourceInputSchema, sourceListQuerySchema, sourcePatchSchema, type SourceView } from '../schemas/source';
import { route } from '../validate';
import { publicBaseUrl } from './portal-sessions';

export interface SourcesRouterDeps {
  models: Models;
  secretBox: SecretBox;
  /** PUBLIC_URL: the address providers reach the service at. @default the address a request came to */
  publicUrl?: string;
  /** @default () => new Date() */
  now?: () => Date;
}

/** Builds a source's ingest URL from its id and token. */
export type IngestUrlOf = (sourceId: string, token: string) => string;

/**
 * A sealed token's URL; null without one (a source stored before sealed tokens) or when it cannot
 * be unsealed (sealed under a key this service does not have): a read never fails over it, and
 * rotate-url issues a URL that can be shown.
 */
function unsealedUrl(secretBox: SecretBox, urlOf: IngestUrlOf, sourceId: string, sealed: EncryptedSecret | null | undefined): string | null {
  if (!sealed) return null;
  try {
    return urlOf(sourceId, secretBox.decrypt(sealed));
  } catch {
    return null;
  }
}

export function sourceView(doc: SourceDoc, secretBox: SecretBox, urlOf: IngestUrlOf, now: Date): SourceView {
  const hmac = doc.hmac
    ? {
        header: doc.hmac.header,
        algorithm: doc.hmac.algorithm as 'sha256' | 'sha512',
        encoding: doc.hmac.encoding as 'hex' | 'base64',
        prefix: doc.hmac.prefix ?? '',
        eventType: doc.hmac.eventType,
        eventTypeHeader: doc.hmac.eventTypeHeader ?? null,
        idHeader: doc.hmac.idHeader ?? null,
      }
    : null;
  // The previous URL only while it still works.
  const expires = doc.previousTokenHash && doc.previousTokenExpiresAt && doc.previousTokenExpiresAt.getTime() > now.getTime() ? doc.previousTokenExpiresAt : null;
  return {
    id: doc._id,
    name: doc.name,
    type: doc.type as SourceType,
    hmac,
    eventTypePrefix: `${VERIFIERS[doc.type as SourceType].typePrefix}.`,
    ingestUrl: unsealedUrl(secretBox, urlOf, doc._id, doc.sealedToken),
    previousIngestUrl: expires ? unsealedUrl(secretBox, urlOf, doc._id, doc.previousSealedToken) : null,
    previousIngestUrlExpiresAt: expires ? expires.toISOString() : null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

export function sourcesRouter({ models, secretBox, publicUrl, now = () => new Date() }: SourcesRouterDeps): Router {
  const router = Router();
  const { Source } = models;
  const urlOf =
    (req: Request): IngestUrlOf =>
    (id, token) =>
      `${publicBaseUrl(req, publicUrl)}/v1/ingest/${id}/${token}`;
  const view = (req: Request, doc: SourceDoc) => sourceView(doc, secretBox, urlOf(req), now());

  async function findOwn(tenantId: string, id: string): Promise<SourceDoc> {
    const doc = await Source.findOne({ _id: id, tenantId }).lean<SourceDoc>();
    if (!doc) throw notFound('source');
    return doc;
  }

  router.post(
    '/',
    route({ body: sourceInputSchema }, async ({ body }, req, res) => {
      const { token, hash } = issueIngestToken();
      const doc = await Source.create({
        _id: newId('src'),
        tenantId: res.locals.tenantId as string,
        name: body.name,
        type: body.type,
        secret: secretBox.encrypt(body.secret),
        hmac: body.type === 'hmac' ? { ...HMAC_DEFAULTS, ...body.hmac } : null,
        tokenHash: hash,
        sealedToken: secretBox.encrypt(token),
      });
      const source = view(req, doc.toObject() as SourceDoc);
      // Built from the token just issued, not unsealed: create always answers with the URL.
      res.status(201).json({ source: { ...source, ingestUrl: urlOf(req)(source.id, token) } });
    }),
  );

  router.get(
    '/',
    route({ query: sourceListQuerySchema }, async ({ query }, req, res) => {
      const page: Record<string, unknown> = { tenantId: res.locals.tenantId };
      const after = query.cursor;
      if (after) page.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
      const docs = await Source.find(page).sort({ createdAt: -1, _id: -1 }).limit(query.limit + 1).lean<SourceDoc[]>();
      const sources = docs.slice(0, query.limit);
      const last = sources[sources.length - 1];
      res.json({
        sources: sources.map((doc) => view(req, doc)),
        nextCursor: docs.length > query.limit ? encodeCursor({ createdAt: last.createdAt, id: last._id }) : null,
      });
    }),
  );

  router.get(
    '/:id',
    route({ params: sourceIdParamsSchema }, async ({ params }, req, res) => {
      res.json({ source: view(req, await findOwn(res.locals.tenantId as string, params.id)) });
    }),
  );

  router.patch(
    '/:id',
    route({ params: sourceIdParamsSchema, body: sourcePatchSchema }, async ({ params, body }, req, res) => {
      const tenantId = res.locals.tenantId as string;
      const current = await findOwn(tenantId, params.id);
      const invalid = (path: string, message: string) => new ApiError(400, 'validation_failed', 'request is invalid', [{ path, message }]);
      const $set: Record<string, unknown> = {};
      if (body.name !== undefined) $set.name = body.name;
      if (body.secret !== undefined) {
        const checked = SECRET_SCHEMAS[current.type].safeParse(body.secret);
        if (!checked.success) throw invalid('secret', checked.error.issues[0].message);
        $set.secret = secretBox.encrypt(body.secret);
      }
      if (body.hmac !== undefined) {
        if (current.type !== 'hmac') throw invalid('hmac', `a ${current.type} source takes no hmac settings`);
        $set.hmac = { ...HMAC_DEFAULTS, ...body.hmac };
      }
      const doc = await Source.findOneAndUpdate({ _id: params.id, tenantId }, { $set }, { returnDocument: 'after' }).lean<SourceDoc>();
      if (!doc) throw notFound('source');
      res.json({ source: view(req, doc) });
    }),
  );

  router.delete(
    '/:id',
    route({ params: sourceIdParamsSchema }, async ({ params }, _req, res) => {
      const { deletedCount } = await Source.deleteOne({ _id: params.id, tenantId: res.locals.tenantId as string });
      if (!deletedCount) throw notFound('source');
      res.status(204).end();
    }),
  );

  router.post(
    '/:id/rotate-url',
    route({ params: sourceIdParamsSchema, body: emptyBodySchema }, async ({ params }, req, res) => {
      const tenantId = res.locals.tenantId as string;
      const { token, hash } = issueIngestToken();
      const expiresAt = new Date(now().getTime() + INGEST_URL_OVERLAP_MS);
      // The current token becomes the previous one; conditional on it, so two rotations at once
      // cannot both demote the same token (the loser reads the winner's and demotes that).
      // The sealed token moves with its hash (null for a source stored before sealed tokens).
      const sealedToken = secretBox.encrypt(token);
      let updated: SourceDoc | null = null;
      while (!updated) {
        const current = await findOwn(tenantId, params.id);
        updated = await Source.findOneAndUpdate(
          { _id: params.id, tenantId, tokenHash: current.tokenHash },
          { $set: { tokenHash: hash, sealedToken, previousTokenHash: current.tokenHash, previousSealedToken: current.sealedToken ?? null, previousTokenExpiresAt: expiresAt } },
          { returnDocument: 'after' },
        ).lean<SourceDoc>();
      }
      const source = { ...view(req, updated), ingestUrl: urlOf(req)(params.id, token) };
      res.json({ ingestUrl: source.ingestUrl, previousIngestUrl: source.previousIngestUrl, previousIngestUrlExpiresAt: expiresAt.toISOString(), source });
    }),
  );

  return router;
}
