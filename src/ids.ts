import { createHash, randomBytes } from 'node:crypto';

/** Prefixed, recognisable ids: `ten_`, `key_`, `wh_`, `evt_`, `dlv_`, `op_`, `ps_` (portal session), `rsd_` (resend), `src_` (inbound source). */
export type IdPrefix = 'ten' | 'key' | 'wh' | 'evt' | 'dlv' | 'op' | 'ps' | 'rsd' | 'src';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/**
 * A delivery's id is derived from what it delivers (tenant, event, webhook), so the fan-out can
 * be replayed or continued without ever creating a second delivery for the same pair.
 */
export function deliveryId(tenantId: string, eventId: string, webhookId: string): string {
  const digest = createHash('sha256').update(`${tenantId}\n${eventId}\n${webhookId}`).digest('base64url');
  return `dlv_${digest.slice(0, 27)}`;
}
