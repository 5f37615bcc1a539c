import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics (API and worker each expose their own registry). Labels are
 * bounded sets (outcomes, status classes, route patterns): never ids, URLs or tenants.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const eventsIngested = new Counter({
  name: 'webhook_events_ingested_total',
  help: 'Events accepted by POST /v1/events, new or repeated (same id, same body).',
  labelNames: ['result'] as const,
  registers: [registry],
});

/**
 * Requests to ingest URLs, by source type (`unknown` when the URL names no source) and result:
 * accepted, duplicate (a provider's retry), unauthorized (bad or missing signature), not_found
 * (unknown or rotated-out URL), invalid (not JSON, no delivery id), conflict, error (503/500).
 */
export const sourceRequests = new Counter({
  name: 'webhook_source_requests_total',
  help: 'Requests to inbound sources\' ingest URLs, by source type and result.',
  labelNames: ['type', 'result'] as const,
  registers: [registry],
});

export const deliveriesFinished = new Counter({
  name: 'webhook_deliveries_total',
  help: 'Deliveries that ended, by outcome.',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const deliveryAttempts = new Counter({
  name: 'webhook_delivery_attempts_total',
  help: 'HTTP attempts, by response status class (2xx, 3xx, 4xx, 5xx) or error.',
  labelNames: ['status_class'] as const,
  registers: [registry],
});

export const attemptDuration = new Histogram({
  name: 'webhook_delivery_attempt_duration_seconds',
  help: 'Duration of HTTP attempts, from request to the end of the (capped) response read.',
  labelNames: ['status_class'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const retriesScheduled = new Counter({
  name: 'webhook_delivery_retries_scheduled_total',
  help: 'Failed attempts after which another attempt was scheduled.',
  registers: [registry],
});

export const rateLimitWaits = new Counter({
  name: 'webhook_delivery_rate_limit_waits_total',
  help: 'Requests that waited for their webhook\'s rate limit, by how (sleep: in the running activity; retry: the activity retried at its slot; handover: a first attempt handed to its workflow; scheduled: a first attempt its worker sends in its slot while its fan-out holds it).',
  labelNames: ['wait'] as const,
  registers: [registry],
});

export const webhooksDisabled = new Counter({
  name: 'webhook_webhooks_disabled_total',
  help: 'Webhooks disabled by the service, by reason.',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const requeues = new Counter({
  name: 'webhook_requeues_total',
  help: 'Deliveries started again after failing, by source (retry route or bulk requeue).',
  labelNames: ['source'] as const,
  registers: [registry],
});

export const httpRequests = new Histogram({
  name: 'webhook_api_request_duration_seconds',
  help: 'API requests, by method, route pattern and status class.',
  labelNames: ['method', 'route', 'status_class'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

/** `2xx`…`5xx`, or `error` when no response came. */
export function statusClass(statusCode: number | null | undefined): string {
  return statusCode ? `${Math.floor(statusCode / 100)}xx` : 'error';
}

export const circuitTransitions = new Counter({
  name: 'webhook_circuit_transitions_total',
  help: 'Webhook circuit breakers that changed state, by the state entered (open, half-open, closed).',
  labelNames: ['state'] as const,
  registers: [registry],
});

export const circuitWaits = new Counter({
  name: 'webhook_delivery_circuit_waits_total',
  help: 'Attempts not made because their webhook\'s circuit breaker was open (each waited, spending no attempt), by where (first: a first attempt handed to its workflow; retry: the deliver activity retried at the next probe).',
  labelNames: ['wait'] as const,
  registers: [registry],
});

export const inFlightHandovers = new Counter({
  name: 'webhook_delivery_first_attempts_in_flight_total',
  help: 'First attempts whose receiver had not answered within the inline budget: handed to their delivery workflow with the request still in flight.',
  registers: [registry],
});

export const transformationRuns = new Counter({
  name: 'webhook_transformation_runs_total',
  help: 'Calls of webhooks\' transformations, by result: sent (a request follows), canceled (none is sent), failed (its code threw, returned a wrong shape or passed a limit).',
  labelNames: ['result'] as const,
  registers: [registry],
});
