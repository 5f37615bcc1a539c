import { LRUCache } from 'lru-cache';
import type { NewEvent } from '../events/event-ingestion';
import type { AttemptOutcome } from './outcome';
import { OPERATIONAL_EVENT_TYPES } from '../events/operational-event-types';
import { circuitTransitions } from '../metrics/metrics';
import type { Models } from '../models';
import { isDuplicateKey } from '../models/duplicate-key';
import type { WebhookCircuitDoc } from '../models/webhook-circuit';
import { CircuitTally, probeDelayMs, type CircuitPolicy } from './circuit-policy';

/**
 * Circuit breakers per webhook (docs/delivery.md, "Circuit breaker"): a receiver that keeps
 * failing gets no requests for a while, so its deliveries stop holding the workers' slots and
 * the healthy webhooks' deliveries go on. Each worker counts its own attempts (CircuitTally);
 * the state is shared in `webhook_circuits`, each transition claimed by a unique insert so that
 * exactly one process opens, probes or closes. While a circuit is open, deliveries wait for it
 * without spending an attempt; at `probeAt` one delivery claims the probe (half-open): a 2xx
 * closes the circuit and the others go out on their next look (within seconds), a failure opens
 * it again for twice as long.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What a webhook's reads show (API, portal). */
export interface CircuitView {
  state: CircuitState;
  since: string | null;
  nextProbeAt: string | null;
}

/** Whether an attempt may be made now: `probe` when it is the half-open circuit's one probe. */
export type CircuitGate = { go: true; probe?: ProbeClaim } | { go: false; waitMs: number; state: CircuitState };

/** The probe an attempt holds: its outcome closes or reopens the circuit of that opening. */
export interface ProbeClaim {
  webhookId: string;
  tenantId: string;
  openings: number;
  failedProbes: number;
}

interface GateWebhook {
  _id: string;
  tenantId: string;
  timeoutSeconds: number;
}

/** How soon a delivery that found another's probe in flight looks again: what "promptly" means once it closes. */
export const PROBE_POLL_MS = 2000;
/** Deliveries waiting for a probe come back spread over this much after it, not all in one instant. */
const WAKE_SPREAD_MS = 1500;
/** How long a process serves a tenant's circuit states from memory: an opening elsewhere reaches it within this. */
const STATES_TTL_MS = 1000;
/** Claims are kept well past any transition they name. */
const CLAIM_KEPT_MS = 86_400_000;

export const CIRCUIT_OPEN_REASON = "waiting for the webhook's circuit breaker to close (not an attempt)";

/** The public view of a webhook's circuit document (none: closed since the webhook was created). */
export function circuitView(doc: Pick<WebhookCircuitDoc, 'state' | 'since' | 'probeAt'> | null | undefined, createdAt?: Date | null): CircuitView {
  if (!doc) return { state: 'closed', since: createdAt?.toISOString() ?? null, nextProbeAt: null };
  const state = doc.state as CircuitState;
  return { state, since: doc.since.toISOString(), nextProbeAt: state === 'open' && doc.probeAt ? doc.probeAt.toISOString() : null };
}

export class CircuitBreakers {
  private readonly tally: CircuitTally;
  /** Per tenant, its circuits that are not closed. */
  private readonly states = new LRUCache<string, Map<string, WebhookCircuitDoc>>({ max: 10_000, ttl: STATES_TTL_MS });

  constructor(
    private readonly models: Models,
    readonly policy: CircuitPolicy,
    /** Sends an operational event as the tenant's; a failure is logged by the caller's `onError`. */
    private readonly sendEvent: (tenantId: string, event: NewEvent) => Promise<void>,
    private readonly onError: (what: string, err: unknown) => void,
  ) {
    this.tally = new CircuitTally(policy);
  }

  /** The tenant's circuits that are not closed: from memory when read within the last second. */
  private async openCircuits(tenantId: string): Promise<Map<string, WebhookCircuitDoc>> {
    const known = this.states.get(tenantId);
    if (known) return known;
    const docs = await this.models.WebhookCircuit.find({ tenantId, state: { $in: ['open', 'half-open'] } }).lean<WebhookCircuitDoc[]>();
    const states = new Map(docs.map((doc) => [doc._id, doc]));
    this.states.set(tenantId, states);
    return states;
  }

  /**
   * Whether an attempt to `webhook` may be made now. With `probe` false (an inline first attempt,
   * kept short) a due probe is left to the delivery's workflow: the answer is then a wait of 0.
   */
  async gate(webhook: GateWebhook, { probe = true }: { probe?: boolean } = {}, now = Date.now()): Promise<CircuitGate> {
    if (!this.policy.enabled) return { go: true };
    const circuit = (await this.openCircuits(webhook.tenantId)).get(webhook._id);
    if (!circuit) return { go: true };
    // Attempts counted before it opened say nothing of the receiver once it closes.
    this.tally.reset(webhook._id);
    const state = circuit.state as CircuitState;
    const probeAt = circuit.probeAt?.getTime() ?? now;
    // Half-open, `probeAt` is the probe's lease: the others look again soon, to go out once it closes.
    if (now < probeAt) return { go: false, waitMs: Math.min(probeAt - now, state === 'half-open' ? PROBE_POLL_MS : Infinity) + wakeSpread(), state };
    if (!probe) return { go: false, waitMs: 0, state };
    // The probe is due: of the deliveries asking, the one whose claim is inserted makes it.
    const claimed = await this.claim(`${webhook._id}:probe:${circuit.openings}:${probeAt}`);
    if (!claimed) return { go: false, waitMs: PROBE_POLL_MS + wakeSpread(), state: 'half-open' };
    const lease = new Date(now + webhook.timeoutSeconds * 1000 + 5000);
    await this.models.WebhookCircuit.updateOne({ _id: webhook._id }, { $set: { state: 'half-open', probeAt: lease } });
    this.states.get(webhook.tenantId)?.set(webhook._id, { ...circuit, state: 'half-open', probeAt: lease });
    circuitTransitions.inc({ state: 'half-open' });
    return { go: true, probe: { webhookId: webhook._id, tenantId: webhook.tenantId, openings: circuit.openings, failedProbes: circuit.failedProbes ?? 0 } };
  }

  /**
   * Counts an attempt's outcome, made at `startedAt`: a 2xx is a success, a failure the schedule
   * retries a failure, any other (410, a refused URL) neither. The probe's closes or reopens the
   * circuit. Never throws: the attempt was made, whatever its bookkeeping comes to.
   */
  async record(webhook: GateWebhook, { kind }: Pick<AttemptOutcome, 'kind'>, startedAt: string, probe?: ProbeClaim): Promise<void> {
    if (!this.policy.enabled || (kind !== 'delivered' && kind !== 'retry')) return;
    const ok = kind === 'delivered';
    const at = Date.parse(startedAt);
    try {
      if (probe) return await (ok ? this.close(probe) : this.reopen(probe));
      // An attempt in flight when the circuit opened is not counted against the next closing.
      if ((await this.openCircuits(webhook.tenantId)).has(webhook._id)) return;
      const reason = this.tally.add(webhook._id, ok, at);
      if (reason) await this.open(webhook, reason);
    } catch (err) {
      this.onError('circuit breaker not updated', err);
    }
  }

  /** Opens the circuit, once per opening whatever number of processes see the failures. */
  private async open(webhook: GateWebhook, reason: string): Promise<void> {
    this.tally.reset(webhook._id);
    const current = await this.models.WebhookCircuit.findById(webhook._id).lean<WebhookCircuitDoc>();
    if (current && current.state !== 'closed') return;
    const openings = (current?.openings ?? 0) + 1;
    if (!(await this.claim(`${webhook._id}:open:${openings}`))) return;
    const now = new Date();
    const probeAt = new Date(now.getTime() + probeDelayMs(this.policy, 0));
    const doc = { tenantId: webhook.tenantId, state: 'open' as const, since: now, probeAt, openings, failedProbes: 0, reason };
    await this.models.WebhookCircuit.updateOne({ _id: webhook._id }, { $set: doc }, { upsert: true });
    this.states.get(webhook.tenantId)?.set(webhook._id, { _id: webhook._id, ...doc });
    circuitTransitions.inc({ state: 'open' });
    await this.sendEvent(webhook.tenantId, {
      id: `${OPERATIONAL_EVENT_TYPES.circuitOpened}:${webhook._id}:${openings}`,
      type: OPERATIONAL_EVENT_TYPES.circuitOpened,
      data: { webhookId: webhook._id, reason, openedAt: now.toISOString(), nextProbeAt: probeAt.toISOString() },
    });
  }

  /** The probe failed: open again, the wait before the next probe doubled. */
  private async reopen(probe: ProbeClaim): Promise<void> {
    const failedProbes = probe.failedProbes + 1;
    const probeAt = new Date(Date.now() + probeDelayMs(this.policy, failedProbes));
    await this.models.WebhookCircuit.updateOne({ _id: probe.webhookId, openings: probe.openings }, { $set: { state: 'open', probeAt, failedProbes } });
    this.states.delete(probe.tenantId);
    circuitTransitions.inc({ state: 'open' });
  }

  /** The probe was answered 2xx: closed, and the deliveries waiting go out on their next look. */
  private async close(probe: ProbeClaim): Promise<void> {
    const now = new Date();
    await this.models.WebhookCircuit.updateOne({ _id: probe.webhookId, openings: probe.openings }, { $set: { state: 'closed', since: now, probeAt: null, failedProbes: 0 } });
    this.states.get(probe.tenantId)?.delete(probe.webhookId);
    circuitTransitions.inc({ state: 'closed' });
    await this.sendEvent(probe.tenantId, {
      id: `${OPERATIONAL_EVENT_TYPES.circuitClosed}:${probe.webhookId}:${probe.openings}`,
      type: OPERATIONAL_EVENT_TYPES.circuitClosed,
      data: { webhookId: probe.webhookId, closedAt: now.toISOString() },
    });
  }

  /** Inserts a transition's claim: true for the one process whose insert it was. */
  private async claim(id: string): Promise<boolean> {
    try {
      await this.models.WebhookCircuitClaim.collection.insertOne({ _id: id as never, expiresAt: new Date(Date.now() + CLAIM_KEPT_MS) });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}

function wakeSpread(): number {
  return Math.floor(Math.random() * WAKE_SPREAD_MS);
}
