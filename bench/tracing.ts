/**
 * Tracing's cost (issue 26): the same fan-out-10 rounds through the stack's untraced API and
 * worker, and through a traced API and worker beside them (OTEL_EXPORTER_OTLP_ENDPOINT set, spans
 * sent to a local OTLP sink, `otlp-sink.ts`), in turns. Each round: a new tenant with ten webhooks,
 * producers sending an event's next once its ten deliveries arrived (as transformed.ts measures).
 */
import type { BenchApiClient } from './api-client';
import { eventsUntilArrived } from './noisy-neighbours';
import { tenantWithWebhooks } from './product';
import type { BenchReceiver } from './receiver';
import type { DeliveryPhase } from './settings';
import type { OtlpSink } from './otlp-sink';

const WEBHOOKS = 10;

export interface TracingRound {
  traced: boolean;
  events: number;
  delivered: number;
  expected: number;
  deliveriesPerSecond: number;
  /** From the first send to the last arrival (delivered / deliveriesPerSecond). */
  durationMs: number;
  /** Spans the sink received during the round (their export lags by up to a batch delay, 5 s). */
  spans: number;
  firstError?: string;
}

/** The rounds of one setting merged: all deliveries over all the rounds' time. */
export interface TracingResult {
  traced: boolean;
  rounds: number;
  events: number;
  delivered: number;
  expected: number;
  deliveriesPerSecond: number;
  spans: number;
}

export async function tracingRound(api: BenchApiClient, receiver: BenchReceiver, name: string, traced: boolean, phase: DeliveryPhase, sink: OtlpSink): Promise<TracingRound> {
  const tenant = await tenantWithWebhooks(api, receiver, name, WEBHOOKS);
  const arrivals = receiver.phase(name);
  const spansBefore = sink.spans;
  const { events, deliveriesPerSecond, firstError } = await eventsUntilArrived(api, tenant, arrivals, WEBHOOKS, phase, 'tracing');
  return {
    traced,
    events,
    delivered: arrivals.delivered,
    expected: events * WEBHOOKS,
    deliveriesPerSecond,
    durationMs: deliveriesPerSecond ? Math.round((arrivals.delivered / deliveriesPerSecond) * 1000) : 0,
    spans: sink.spans - spansBefore,
    ...(firstError ? { firstError } : {}),
  };
}

export function tracingResult(rounds: TracingRound[]): TracingResult | undefined {
  if (!rounds.length) return undefined;
  const sum = (f: (r: TracingRound) => number) => rounds.reduce((total, r) => total + f(r), 0);
  const ms = sum((r) => r.durationMs);
  return {
    traced: rounds[0].traced,
    rounds: rounds.length,
    events: sum((r) => r.events),
    delivered: sum((r) => r.delivered),
    expected: sum((r) => r.expected),
    deliveriesPerSecond: ms ? Number(((sum((r) => r.delivered) / ms) * 1000).toFixed(1)) : 0,
    spans: sum((r) => r.spans),
  };
}
