/**
 * The HTTP client span of one attempt (loaded only when tracing is on). Named and attributed as
 * OpenTelemetry's HTTP conventions say, plus the delivery it belongs to; the URL's path and query
 * are left out (a chat service's webhook URL carries its credential there). No `traceparent`
 * goes to the receiver: our trace ids are not the customer's business.
 */
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { TraceAttempt } from './tracing';

/** Attributes of our own, beside the HTTP conventions' (the delivery id is the request's `webhook-id`). */
export const ATTEMPT_ATTRIBUTES = {
  deliveryId: 'webhook.delivery_id',
  webhookId: 'webhook.id',
  eventId: 'webhook.event_id',
  tenantId: 'webhook.tenant_id',
  attempt: 'webhook.attempt',
} as const;

export function attemptTracer(tracer: Tracer): TraceAttempt {
  return (input, send) => {
    // A URL that does not parse fails in the request itself; its span then names no server.
    const url = URL.canParse(input.url) ? new URL(input.url) : undefined;
    const server = url
      ? {
          [ATTR_URL_SCHEME]: url.protocol.slice(0, -1),
          [ATTR_SERVER_ADDRESS]: url.hostname,
          [ATTR_SERVER_PORT]: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        }
      : {};
    return tracer.startActiveSpan(
      input.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: input.method,
          ...server,
          [ATTEMPT_ATTRIBUTES.deliveryId]: input.deliveryId,
          [ATTEMPT_ATTRIBUTES.webhookId]: input.webhookId,
          [ATTEMPT_ATTRIBUTES.eventId]: input.eventId,
          [ATTEMPT_ATTRIBUTES.tenantId]: input.tenantId,
          [ATTEMPT_ATTRIBUTES.attempt]: input.attempt,
        },
      },
      async (span) => {
        try {
          const result = await send();
          if (result.kind === 'response') {
            span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, result.statusCode);
            // As the HTTP conventions say for a client: a 4xx or 5xx answer is an error.
            if (result.statusCode >= 400) {
              span.setAttribute(ATTR_ERROR_TYPE, String(result.statusCode));
              span.setStatus({ code: SpanStatusCode.ERROR });
            }
          } else {
            span.setAttribute(ATTR_ERROR_TYPE, result.errorClass);
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
          }
          return result;
        } catch (err) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  };
}
