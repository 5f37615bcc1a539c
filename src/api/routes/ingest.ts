/**
 * `POST /v1/ingest/{sourceId}/{token}`: a provider's signed request, with no API key (the URL and
 * the provider's signature are the credentials). The source is looked up before the body is read;
 * the body is read raw, as sent, for the signature check, within the same size bound as events.
 * 202 once the event is durably accepted; failures of our parts are 503 with Retry-After, as for
 * POST /v1/events (the one error handler).
 */
import express, { Router } from 'express';
import { IdempotencyConflictError } from '../../events/event-ingestion';
import { NotJsonError, SignatureRejectedError, UnknownIngestUrlError, type SourceIngest } from '../../sources/source-ingest';
import type { SourceDoc } from '../../models/source';
import { UnreadableDeliveryError } from '../../sources/verifier';
import { ApiError } from '../errors';
import { ingestParamsSchema } from '../schemas/source';

/** The path of an ingest URL with its token left out, for logs. */
export function redactIngestToken(path: string): string {
  return path.replace(/^(\/v1\/ingest\/[^/]+\/)[^/]+/, '$1…');
}

function apiError(err: unknown): unknown {
  if (err instanceof UnknownIngestUrlError) return new ApiError(404, 'not_found', err.message);
  if (err instanceof SignatureRejectedError) return new ApiError(401, 'invalid_signature', err.message);
  if (err instanceof NotJsonError) {
    return err.path ? new ApiError(400, 'validation_failed', 'request is invalid', [{ path: err.path, message: err.message }]) : new ApiError(400, 'invalid_json', err.message);
  }
  if (err instanceof UnreadableDeliveryError) return new ApiError(400, 'validation_failed', 'request is invalid', [{ path: err.path, message: err.message }]);
  if (err instanceof IdempotencyConflictError) {
    return new ApiError(409, 'idempotency_conflict', `this delivery id was accepted before with a different body (${err.eventId})`);
  }
  return err;
}

export function ingestRouter(sources: SourceIngest, bodyLimitBytes: number): Router {
  const router = Router();
  router.post(
    '/:sourceId/:token',
    async (req, res, next) => {
      // A path that cannot be an ingest URL is one no source has: 404 like any other.
      const params = ingestParamsSchema.safeParse(req.params);
      const opened = params.success ? sources.open(params.data.sourceId, params.data.token) : Promise.reject(new UnknownIngestUrlError());
      res.locals.source = await opened.catch((err: unknown) => Promise.reject(apiError(err)));
      next();
    },
    (req, _res, next) => {
      // A form-encoded body is a provider set up wrong (GitHub's default content type).
      if (req.is('application/x-www-form-urlencoded')) return next(new ApiError(415, 'unsupported_media_type', 'request body must be application/json: set the provider\'s content type to application/json'));
      next();
    },
    // The bytes as sent: no decoding of any Content-Encoding (415), whatever the Content-Type.
    express.raw({ type: () => true, limit: bodyLimitBytes, inflate: false }),
    async (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const accepted = await sources.receive(res.locals.source as SourceDoc, raw, req.headers).catch((err: unknown) => Promise.reject(apiError(err)));
      res.status(202).json({ id: accepted.id, type: accepted.type, status: accepted.status, duplicate: accepted.duplicate });
    },
  );
  return router;
}
