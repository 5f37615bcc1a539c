import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * A webhook's circuit breaker (delivery/circuit-breaker.ts), shared by every worker process:
 * `_id` is the webhook's id; no document means closed and never opened. Written only on
 * transitions, each made by the one process whose claim (below) won, so no two writers race.
 */
const webhookCircuitSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    state: { type: String, enum: ['closed', 'open', 'half-open'], required: true },
    /** When it opened (open, half-open) or closed. */
    since: { type: Date, required: true },
    /**
     * Open: when a probe may be claimed. Half-open: when the probe's lease ends (a probe whose worker
     * died is then claimed again). Closed: null.
     */
    probeAt: { type: Date, default: null },
    /** Times it has opened: names each opening's claims and operational events. */
    openings: { type: Number, required: true },
    /** Probes failed since it opened: the wait before the next one doubles with each. */
    failedProbes: { type: Number, default: 0 },
    /** Why it opened, for the operational event and the logs. */
    reason: { type: String, default: null },
  },
  { versionKey: false, collection: 'webhook_circuits' },
);
// Each worker reads a tenant's circuits that are not closed, once a second at most.
webhookCircuitSchema.index({ tenantId: 1, state: 1 });

export type WebhookCircuitDoc = InferSchemaType<typeof webhookCircuitSchema> & { _id: string };

export const webhookCircuitModel = (conn: Connection) => conn.model('WebhookCircuit', webhookCircuitSchema);

/**
 * A transition claimed by inserting it (`<webhook id>:open:<n>`, `<webhook id>:probe:<n>:<time>`):
 * of any number of processes making the same transition exactly one insert succeeds (FerretDB
 * 1.x updates are read-modify-write, a unique key is atomic).
 */
const webhookCircuitClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'webhook_circuit_claims' },
);

export const webhookCircuitClaimModel = (conn: Connection) => conn.model('WebhookCircuitClaim', webhookCircuitClaimSchema);
