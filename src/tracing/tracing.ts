/**
 * Tracing's entry point, free of OpenTelemetry imports: with tracing off (no OTLP endpoint set)
 * it returns null and nothing of the SDK, its interceptors or its instrumentation is loaded.
 * With tracing on it loads otel-tracing.ts, which installs the SDK for this process.
 */
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { HttpResult } from '../delivery/http-client';
import { tracingSettings } from './tracing-settings';

/** What the HTTP client span of one attempt names. */
export interface AttemptSpanInput {
  method: string;
  /** Only its scheme, host and port reach the span: a path or query can hold a credential (chat URLs). */
  url: string;
  tenantId: string;
  eventId: string;
  webhookId: string;
  /** The request's `webhook-id` header. */
  deliveryId: string;
  attempt: number;
}

/** Runs one attempt's request inside an HTTP client span that records what came back. */
export type TraceAttempt = (input: AttemptSpanInput, send: () => Promise<HttpResult>) => Promise<HttpResult>;

export interface Tracing {
  /** For a Temporal Client: a span per call, the span's context in the started workflow's headers. */
  clientInterceptors: ClientInterceptors;
  /** For a Worker: spans of activities (their context read from headers), the sink of workflow spans, and the activities' client's interceptors. */
  workerOptions: Required<Pick<WorkerOptions, 'interceptors' | 'sinks'>>;
  traceAttempt: TraceAttempt;
  /** `trace_id` and `span_id` of the active span (none outside one), for log lines. */
  logFields(): Record<string, string>;
  /** Sends the spans still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** `service.name` when OTEL_SERVICE_NAME is unset. */
  defaultServiceName: string;
  /** Server spans for incoming HTTP requests (the API), named by `routeOf` once routed. */
  httpServer?: { routeOf(req: unknown): string | undefined };
}

/** Starts tracing for this process when the environment asks for it; null (and nothing loaded) otherwise. */
export function startTracing(options: StartTracingOptions, env: NodeJS.ProcessEnv = process.env): Tracing | null {
  const settings = tracingSettings(env, options.defaultServiceName);
  if (!settings) return null;
  // Required here, not imported above: a process that does not trace never loads it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startOtelTracing } = require('./otel-tracing') as typeof import('./otel-tracing');
  return startOtelTracing(settings, options);
}

/** Whether a bundle of the workflows must include the OpenTelemetry workflow interceptors. */
export function tracingOn(env: NodeJS.ProcessEnv = process.env): boolean {
  return tracingSettings(env, '') !== null;
}
