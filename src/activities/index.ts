import { Transformations } from '../transformations/transformations';
import type { SecretBox } from '../crypto/secret-box';
import type { WebhookHttpClient } from '../delivery/http-client';
import { DEFAULT_AUTO_DISABLE, type AutoDisablePolicy } from '../delivery/webhook-health';
import { log } from '@temporalio/activity';
import { markHandedOver } from '../delivery-records/delivery-index';
import type { AttemptRecord } from '../delivery/types';
import type { TraceAttempt } from '../tracing/tracing';
import { CircuitBreakers } from '../delivery/circuit-breaker';
import { DEFAULT_CIRCUIT_POLICY, type CircuitPolicy } from '../delivery/circuit-policy';
import type { Models } from '../models';
import { deliverActivity } from './deliver';
import { createFifoActivities } from './fifo';
import { deliverAndRecordFirstAttemptsActivity, deliverFirstAttemptActivity, deliverFirstAttemptsActivity } from './first-attempt';
import { loadFanoutPageActivity, matchWebhooksActivity } from './match-webhooks';
import { InFlightAttempts } from './in-flight-attempts';
import { PageCache } from './page-cache';
import { OperationalEventSender } from './operational-event-sender';
import { owedEffectsFinisher, recordDeliveryOutcomeActivity, recordFirstAttemptsActivity, type RecordFaults } from './record-delivery-outcome';
import { createRequeueActivities } from './requeue';
import { createTenantDeletionActivities } from './tenant-deletion';
import { settleHeldActivity } from './settle-held';
import { heldEndRecorder } from './held-end-record';

export interface ActivityDeps {
  models: Models;
  secretBox: SecretBox;
  http: WebhookHttpClient;
  /** Upper bound on a receiver's `Retry-After`. @default 1 hour */
  retryAfterMaxMs?: number;
  /** When failing webhooks are disabled. @default 20 consecutive failed deliveries or 5 days failing */
  autoDisable?: AutoDisablePolicy;
  /** When a webhook's circuit breaker opens and probes. @default DEFAULT_CIRCUIT_POLICY (10 consecutive failures or 70 % of 10 in 5 min; probes from 30 s to 10 min) */
  circuit?: CircuitPolicy;
  /** Test seam: faults injected into the outcome records. @default none */
  recordFaults?: RecordFaults;
  /** Wraps each attempt's request in an HTTP client span (tracing on). @default untraced */
  traceAttempt?: TraceAttempt;
}

export const createActivities = ({
  models,
  secretBox,
  http,
  retryAfterMaxMs = 3_600_000,
  autoDisable = DEFAULT_AUTO_DISABLE,
  circuit = DEFAULT_CIRCUIT_POLICY,
  recordFaults,
  traceAttempt,
}: ActivityDeps) => {
  const cache = new PageCache();
  const operationalEvents = new OperationalEventSender(models);
  const breakers = new CircuitBreakers(
    models,
    circuit,
    (tenantId, event) => operationalEvents.send(tenantId, event),
    (what, err) => log.warn(what, { error: (err as Error)?.message ?? String(err) }),
  );
  const outcomeDeps = { models, autoDisable, operationalEvents, faults: recordFaults };
  const recordFirstAttempts = recordFirstAttemptsActivity(outcomeDeps);
  const recordDeliveryOutcome = recordDeliveryOutcomeActivity(outcomeDeps);
  const recordHeldEnd = heldEndRecorder(models, recordDeliveryOutcome);
  const attemptDeps = { models, secretBox, http, cache, retryAfterMaxMs, breakers, inFlight: new InFlightAttempts(), recordHeldEnd, transformations: new Transformations(), traceAttempt };
  return {
    ...createRequeueActivities(models),
    ...createTenantDeletionActivities(models),
    ...createFifoActivities(models, cache),
    /** Pages of fan-outs started before first attempts moved inline. */
    matchWebhooks: matchWebhooksActivity(models),
    loadFanoutPage: loadFanoutPageActivity(models, cache, owedEffectsFinisher(outcomeDeps)),
    /** One delivery's first attempt: fan-outs begun before first attempts were batched. */
    deliverFirstAttempt: deliverFirstAttemptActivity(attemptDeps),
    /** A batch's first attempts: fan-outs begun before workflow version 2. */
    deliverFirstAttempts: deliverFirstAttemptsActivity(attemptDeps),
    deliverAndRecordFirstAttempts: deliverAndRecordFirstAttemptsActivity(attemptDeps, recordFirstAttempts),
    recordFirstAttempts,
    /** The first attempts a fan-out held (in flight, or rate-limited), settled once due. */
    settleHeldFirstAttempts: settleHeldActivity(attemptDeps),
    /** A held delivery handed to its workflow: retrying in the index, now that its workflow runs. */
    markHandedOver: async (deliveries: { deliveryId: string; firstAttempt: AttemptRecord | null; nextAttemptAt: string | null }[]) => {
      await Promise.all(deliveries.map((d) => markHandedOver(models, d.deliveryId, d.firstAttempt, d.nextAttemptAt ? new Date(d.nextAttemptAt) : null)));
    },
    deliver: deliverActivity(attemptDeps),
    /** Index status, counters, auto-disable and operational events; returns the reason if it disabled the webhook. */
    recordDeliveryOutcome,
  };
};

export type Activities = ReturnType<typeof createActivities>;
