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

/** gRPC codes of the Temporal client that mean "not now": unavailable, deadline exceeded, resource exhausted, aborted. */
const TRANSIENT_GRPC_CODES = new Set([14, 4, 8, 10]);

/**
 * Node's codes for a connection that broke or could not be made. The MongoDB driver lets some
 * through unwrapped: EPIPE when the server closed the socket under a write (FerretDB killed in a
 * chaos run answered one event 500 instead of 503).
 */
const NETWORK_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/**
 * MongoDB server error codes that mean "not now". FerretDB answers every failure of its
 * PostgreSQL with InternalError (1): while PostgreSQL is down or restarting, every command gets
 * it (`failed to connect to user=ferretdb …`). The others are MongoDB's own for a server that is
 * unreachable, shutting down, stepping down or timed out.
 */
const TRANSIENT_MONGO_CODES = new Set([
  1, // InternalError
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * How a failure of Temporal or MongoDB should be answered: `transient` (unreachable, overloaded,
 * timed out: the caller retries later, 503) or `permanent` (the server refused the request, e.g. an
 * unknown namespace or search attribute: retrying cannot help, 500). Anything else: undefined.
 */
export function dependencyFailure(err: unknown): { kind: 'transient' | 'permanent'; message: string } | undefined {
  const e = err as { name?: string; code?: number | string; cause?: unknown; message?: string };
  if (!e || typeof e !== 'object') return undefined;
  if (['MongoServerSelectionError', 'MongooseServerSelectionError', 'MongoNetworkError', 'MongoNotConnectedError', 'MongoTopologyClosedError', 'MongoNetworkTimeoutError'].includes(e.name ?? '')) {
    return { kind: 'transient', message: 'MongoDB is unreachable' };
  }
  if (e.name?.startsWith('Mongo') && typeof e.code === 'number' && TRANSIENT_MONGO_CODES.has(e.code)) {
    return { kind: 'transient', message: 'MongoDB is unavailable' };
  }
  if (e.name === 'ConnectionError' || e.name === 'TimeoutError') return { kind: 'transient', message: 'Temporal is unreachable' };
  if (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) return { kind: 'transient', message: 'a connection to MongoDB or Temporal failed' };
  if (e.name === 'NamespaceNotFoundError') {
    return { kind: 'permanent', message: `Temporal has no namespace ${(e as { namespace?: string }).namespace ?? ''} (TEMPORAL_NAMESPACE)` };
  }
  // The Temporal client wraps gRPC errors in a ServiceError whose cause carries the code.
  const grpc = e.name === 'ServiceError' ? (e.cause as { code?: number; details?: string } | undefined) : (e as { code?: number; details?: string });
  if (typeof grpc?.code === 'number' && (e.name === 'ServiceError' || 'details' in (grpc as object))) {
    if (TRANSIENT_GRPC_CODES.has(grpc.code)) return { kind: 'transient', message: 'Temporal is unreachable' };
    return { kind: 'permanent', message: `Temporal refused the request: ${grpc.details || e.message || 'unknown error'}` };
  }
  if (e.name === 'ServiceError') return { kind: 'transient', message: 'Temporal is unreachable' };
  return e.cause ? dependencyFailure(e.cause) : undefined;
}

/**
 * A 4xx that Express's router or body-parser raised about the request itself: a path parameter
 * with a malformed percent-escape, a body that is not what its Content-Encoding says, a request
 * the client aborted. Never a 500.
 */
function requestFault(err: unknown): { status: number; code: string; message: string } | undefined {
  const e = err as { status?: unknown; expose?: boolean; code?: unknown; message?: string };
  if (!e || typeof e !== 'object' || typeof e.status !== 'number' || e.status < 400 || e.status > 499) return undefined;
  if (err instanceof URIError) return { status: 400, code: 'invalid_path', message: 'the path has a malformed percent-escape' };
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
    return { status: 400, code: 'invalid_body', message: 'request body is not encoded as its Content-Encoding says' };
  }
  return e.expose ? { status: e.status, code: 'bad_request', message: e.message ?? 'bad request' } : undefined;
}

export function errorBody(code: string, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } };
}

/** The one error-handling middleware: every failure leaves in the same shape. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    // Answered already (a body deadline ran out), and this is the parser giving up on that body.
    if (res.headersSent) return;
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
    if (type === 'entity.verify.failed') {
      res.status(400).json(errorBody('invalid_json', 'request body is not valid UTF-8'));
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
    const clientError = requestFault(err);
    if (clientError) {
      res.status(clientError.status).json(errorBody(clientError.code, clientError.message));
      return;
    }
    const dependency = dependencyFailure(err);
    if (dependency?.kind === 'transient') {
      logger.warn({ err }, 'dependency unavailable');
      res.set('Retry-After', '5').status(503).json(errorBody('service_unavailable', `${dependency.message}; retry later`));
      return;
    }
    if (dependency?.kind === 'permanent') {
      // A configuration error (namespace, search attributes): an operator must act, a retry cannot help.
      logger.error({ err }, 'dependency refused the request');
      res.status(500).json(errorBody('dependency_error', `${dependency.message}; this is a configuration error, retrying will not help`));
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'internal error'));
  };
}
