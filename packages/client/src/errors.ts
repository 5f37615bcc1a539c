/** The errors the client throws: the API's one error shape, and a signature that does not verify. */
import { parseRetryAfter } from './retry-after';

export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * Thrown when the API answers a status other than 2xx, with the fields of its one error shape
 * (`{"error": {"code", "message", "details"}}`) and the `Retry-After` of a 429 or 503.
 */
export class WebhookApiError extends Error {
  override readonly name = 'WebhookApiError';
  constructor(
    readonly status: number,
    /** Machine-readable: `validation_failed`, `not_found`, `rate_limited`, ...; `http_<status>` when the body was not the error shape (a proxy's page). */
    readonly code: string,
    message: string,
    /** One entry per invalid field, each naming its path (`url`, `events.3.type`). */
    readonly details: readonly ErrorDetail[] = [],
    /** Seconds to wait before trying again, from `Retry-After` (seconds or an HTTP date). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** The error of a non-2xx response; reads its body. */
  static async fromResponse(response: Response): Promise<WebhookApiError> {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    const text = await response.text().catch(() => '');
    const shape = errorShape(text);
    if (shape) return new WebhookApiError(response.status, shape.code, shape.message, shape.details, retryAfter);
    const excerpt = text.trim().slice(0, 200);
    return new WebhookApiError(response.status, `http_${response.status}`, excerpt || `HTTP ${response.status} ${response.statusText}`.trim(), [], retryAfter);
  }
}

function errorShape(text: string): { code: string; message: string; details: ErrorDetail[] } | undefined {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
    const details = Array.isArray(error.details)
      ? (error.details as unknown[]).filter((d): d is ErrorDetail => typeof (d as ErrorDetail)?.path === 'string' && typeof (d as ErrorDetail)?.message === 'string')
      : [];
    return { code: error.code, message: error.message, details };
  } catch {
    return undefined;
  }
}

/** Thrown by `verify` when a request's Standard Webhooks headers do not prove it came from the service. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}
