import type { ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from 'pino';

export interface ErrorDetail {
  path: string;
  message: string;
}

/** Thrown by handlers for any non-2xx answer; rendered in the one error shape of API.md. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** One detail per problem, each naming its field path; an unknown field is named itself. */
export function zodDetails(error: z.ZodError, prefix: string[] = []): ErrorDetail[] {
  const pathOf = (segments: PropertyKey[]) => [...prefix, ...segments.map(String)].join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'unknown field' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** True for errors that mean Temporal or MongoDB cannot be reached right now. */
function isUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: number | string; cause?: unknown };
  if (!e || typeof e !== 'object') return false;
  if (['MongoServerSelectionError', 'MongoNetworkError', 'MongoNotConnectedError', 'MongoTopologyClosedError'].includes(e.name ?? '')) return true;
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), as the Temporal client reports them.
  if (e.name === 'ServiceError' || e.name === 'ConnectionError') return true;
  if (e.code === 14 || e.code === 4) return true;
  return e.cause ? isUnavailable(e.cause) : false;
}

export function errorBody(code: string, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } };
}

/** The one error-handling middleware: every failure leaves in the same shape. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof ApiError) {
      res.set(err.headers).status(err.status).json(errorBody(err.code, err.message, err.details));
      return;
    }
    if (err instanceof z.ZodError) {
      res.status(400).json(errorBody('validation_failed', 'request is invalid', zodDetails(err)));
      return;
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json(errorBody('invalid_json', 'request body is not valid JSON'));
      return;
    }
    if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
      res.status(415).json(errorBody('unsupported_media_type', (err as Error).message));
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json(errorBody('payload_too_large', 'request body exceeds the size limit'));
      return;
    }
    if (isUnavailable(err)) {
      logger.warn({ err }, 'dependency unavailable');
      res.set('Retry-After', '5').status(503).json(errorBody('service_unavailable', 'a backing service is unreachable; retry later'));
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'internal error'));
  };
}
