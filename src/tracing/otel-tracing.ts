/**
 * The OpenTelemetry SDK of a process that traces (loaded by tracing.ts only when tracing is on):
 * spans batched and sent as OTLP over HTTP to the endpoint the OTEL_* variables name, the
 * context carried in-process by AsyncLocalStorage and between processes by W3C `traceparent`
 * (HTTP) and Temporal headers (the SDK's interceptors).
 */
import { trace, isSpanContextValid } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_HTTP_ROUTE, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { IncomingMessage } from 'node:http';
import { productVersion } from '../delivery/user-agent';
import { attemptTracer } from './attempt-span';
import type { StartTracingOptions, Tracing } from './tracing';
import type { TracingSettings } from './tracing-settings';

/** Paths polled by probes and scrapers: a span each would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function startOtelTracing(settings: TracingSettings, options: StartTracingOptions): Tracing {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: productVersion() }).merge(envDetectorSync.detect());
  // Endpoint, headers, timeout and batching come from the OTEL_* variables, as every OpenTelemetry SDK reads them.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  if (options.httpServer) {
    const { routeOf } = options.httpServer;
    // The stable HTTP attribute names (http.response.status_code), as the attempt spans use, unless the operator chose.
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN ??= 'http';
    // Enabled on construction; it patches `http` as modules load it, so the API imports this first.
    new HttpInstrumentation({
      disableOutgoingRequestInstrumentation: true,
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]),
      // Named by the route that answered (`POST /v1/events`), once known: ids never name a span.
      applyCustomAttributesOnSpan: (span, req) => {
        const route = routeOf(req);
        if (!route) return;
        span.updateName(`${(req as IncomingMessage).method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      },
    });
  }
  const tracer = trace.getTracer('webhook-service', productVersion());
  const clientInterceptor = new OpenTelemetryWorkflowClientInterceptor();
  return {
    clientInterceptors: { workflow: [clientInterceptor] },
    workerOptions: {
      interceptors: {
        client: { workflow: [clientInterceptor] },
        activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      },
      sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    },
    traceAttempt: attemptTracer(tracer),
    logFields: (): Record<string, string> => {
      const context = trace.getActiveSpan()?.spanContext();
      return context && isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
    shutdown: () => provider.shutdown(),
  };
}
