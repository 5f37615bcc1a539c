import { CIRCUIT_OPEN_REASON } from '../delivery/circuit-breaker';
import { OWN_FAILURE_REASON } from '../delivery/failure-types';
import { claimSlotSend, RATE_LIMITED_REASON, RATE_SLOT_LATE_MS, slotKey } from '../delivery/rate-limit';
import type { EventDoc } from '../models/event';
import type { WebhookDoc } from '../models/webhook';
import type { HeldAttempt, SentAttempt } from './in-flight-attempts';
import { sendAttempt, type AttemptDeps } from './send-attempt';

export interface ScheduledRequest {
  deliveryId: string;
  webhook: WebhookDoc;
  event: EventDoc;
  /** The slot, epoch ms, of the webhook's limit `perSecond`. */
  at: number;
  perSecond: number;
}

/** Why a scheduled request did not leave from here: its slot's send was claimed by another holder. */
export const SENT_ELSEWHERE_REASON = "the slot's request was sent by another holder of the slot";

/** How long before its slot a scheduled request reads its webhook, asks its breaker and marks its slot: none of that may make it late. */
export const SLOT_PREPARE_LEAD_MS = 500;

/**
 * Sends a held delivery's first attempt in its rate-limit slot, from this worker: its timer is
 * exact where a workflow timer, dispatched through Temporal, comes late on a busy worker and the
 * slot is missed. A little before the slot, the webhook is read again (deleted or disabled
 * meanwhile: not sent), its circuit breaker asked, and the slot's send claimed and the slot marked
 * sent, so that a second holder of the slot sends nothing and a worker settling it elsewhere (this
 * one lost) knows an attempt may have been made (lost between the mark and the slot, it counts
 * one that was not); then the request leaves in its slot, or not at all if this process stalled
 * past it. `whenAnswered` does what a late outcome leaves behind (first-attempt.ts).
 */
export async function sendInSlot(deps: AttemptDeps, request: ScheduledRequest, whenAnswered: (webhook: WebhookDoc, sent: SentAttempt) => Promise<SentAttempt>): Promise<HeldAttempt> {
  const { deliveryId, event, at, perSecond } = request;
  const until = (time: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
  try {
    await until(at - SLOT_PREPARE_LEAD_MS);
    const { tenantId, _id: webhookId } = request.webhook;
    // Read live, never from its page's read (up to HOLD_MAX_MS old): deleted since, it is not sent.
    const webhook = await deps.models.Webhook.findOne({ _id: webhookId, tenantId }).lean<WebhookDoc>();
    if (!webhook || !webhook.active) {
      return { notSent: 'inactive', reason: !webhook ? 'the webhook was deleted' : `the webhook is disabled: ${webhook.disabledReason ?? 'deactivated'}` };
    }
    const circuit = await deps.breakers.gate(webhook, { probe: false });
    if (!circuit.go) return { notSent: 'circuit', reason: CIRCUIT_OPEN_REASON, waitMs: circuit.waitMs };
    if (!(await claimSlotSend(deps.models, slotKey(webhookId, perSecond, at), at))) return { notSent: 'elsewhere', reason: SENT_ELSEWHERE_REASON };
    await until(at);
    if (Date.now() - at > RATE_SLOT_LATE_MS) return { notSent: 'rate', reason: RATE_LIMITED_REASON };
    const sent = await sendAttempt(deps, { deliveryId, webhook, event, attempt: 1 });
    return 'notSent' in sent ? sent : await whenAnswered(webhook, sent);
  } catch {
    // Before the request left (a read, the mark, signing): no attempt; its settle hands it on.
    return { notSent: 'own', reason: OWN_FAILURE_REASON };
  }
}
