/**
 * Accepts a provider's request to an ingest URL as an event of the source's tenant: the URL's
 * token checked, then the signature over the raw bytes (nothing is stored before both pass), then
 * the body read as JSON and handed to the same EventIngestion as POST /v1/events, with an id
 * derived from the provider's delivery id so a retry is the same event and never a second fan-out.
 */
import type { SecretBox } from '../crypto/secret-box';
import type { AcceptedEvent, EventIngestion } from '../events/event-ingestion';
import { IdempotencyConflictError } from '../events/event-ingestion';
import { sourceRequests } from '../metrics/metrics';
import type { Models } from '../models';
import type { SourceDoc } from '../models/source';
import { bodyShapeProblem, MAX_JSON_DEPTH } from '../api/json-body';
import { sourceEventId, sourceEventType } from './event-naming';
import { ingestTokenAccepted, INGEST_TOKEN_PATTERN } from './ingest-token';
import { isSourceType, VERIFIERS } from './registry';
import { UnreadableDeliveryError, type HmacSettings, type RequestHeaders } from './verifier';

/** Thrown when an ingest URL names no source, or a token that is not (or no longer) the source's. */
export class UnknownIngestUrlError extends Error {
  override readonly name = 'UnknownIngestUrlError';
  constructor() {
    super('no source has this ingest URL (deleted, or rotated out more than 24 hours ago)');
  }
}

/** Thrown when a request to a valid ingest URL has no valid signature: nothing was stored. */
export class SignatureRejectedError extends Error {
  override readonly name = 'SignatureRejectedError';
  constructor(readonly sourceType: string) {
    super(`the request has no valid ${sourceType} signature`);
  }
}

/** Thrown when a correctly signed body is not UTF-8 JSON (or not JSON we can store). */
export class NotJsonError extends Error {
  override readonly name = 'NotJsonError';
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export interface IncomingDelivery {
  sourceId: string;
  token: string;
  raw: Buffer;
  headers: RequestHeaders;
}

export interface SourceIngestDeps {
  models: Models;
  secretBox: SecretBox;
  ingestion: EventIngestion;
  /** @default () => new Date() */
  now?: () => Date;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(raw: Buffer): unknown {
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(raw));
  } catch {
    throw new NotJsonError('request body is not UTF-8 JSON: set the provider\'s content type to application/json');
  }
  const problem = bodyShapeProblem(body, MAX_JSON_DEPTH);
  if (problem) throw new NotJsonError(problem.message, problem.path);
  return body;
}

/** The metric's result label of a failure. */
function resultOf(err: unknown): string {
  if (err instanceof UnknownIngestUrlError) return 'not_found';
  if (err instanceof SignatureRejectedError) return 'unauthorized';
  if (err instanceof NotJsonError || err instanceof UnreadableDeliveryError) return 'invalid';
  if (err instanceof IdempotencyConflictError) return 'conflict';
  return 'error';
}

export class SourceIngest {
  constructor(private readonly deps: SourceIngestDeps) {}

  /** The source an ingest URL opens; else UnknownIngestUrlError (404, counted). */
  async open(sourceId: string, token: string): Promise<SourceDoc> {
    const source = INGEST_TOKEN_PATTERN.test(token) ? await this.deps.models.Source.findById(sourceId).lean<SourceDoc>() : null;
    if (!source || !ingestTokenAccepted(source, token, (this.deps.now ?? (() => new Date()))())) {
      sourceRequests.inc({ type: 'unknown', result: 'not_found' });
      throw new UnknownIngestUrlError();
    }
    return source;
  }

  /** Verifies and accepts one request to an opened source; counted by result. */
  async receive(source: SourceDoc, raw: Buffer, headers: RequestHeaders): Promise<AcceptedEvent & { type: string }> {
    const type = isSourceType(source.type) ? source.type : 'unknown';
    try {
      if (!isSourceType(source.type)) throw new Error(`source ${source._id} has unknown type ${source.type}`);
      const verifier = VERIFIERS[source.type];
      const request = { raw, headers, settings: (source.hmac ?? null) as HmacSettings | null };
      const valid = await verifier.verify(request, this.deps.secretBox.decrypt(source.secret));
      if (!valid) throw new SignatureRejectedError(source.type);
      const data = parseJson(raw);
      const { providerEvent, deliveryId, metadata } = verifier.describe(request, data);
      const eventType = sourceEventType(verifier.typePrefix, providerEvent);
      const accepted = await this.deps.ingestion.accept(source.tenantId, {
        id: sourceEventId(source._id, deliveryId),
        type: eventType,
        data,
        metadata: { 'source-id': source._id, 'source-type': source.type, ...metadata },
      });
      sourceRequests.inc({ type, result: accepted.duplicate ? 'duplicate' : 'accepted' });
      return { ...accepted, type: eventType };
    } catch (err) {
      sourceRequests.inc({ type, result: resultOf(err) });
      throw err;
    }
  }
}
