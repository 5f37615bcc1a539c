import { randomBytes } from 'node:crypto';

/**
 * An event id made by the client before its first try, in the service's own `evt_` form: a retried
 * POST then names the same event, which the service accepts once and never fans out twice.
 */
export function newEventId(): string {
  return `evt_${randomBytes(16).toString('base64url')}`;
}
