/**
 * Events the service itself sends to a tenant about its own webhooks (Svix calls these
 * operational webhooks). A tenant subscribes to them like to any other type, by name or with
 * `webhook.*` / `delivery.*`; `*` does not include them, so a webhook failing on everything is
 * not also sent the news of its own failures.
 */
export const OPERATIONAL_EVENT_TYPES = {
  webhookDisabled: 'webhook.disabled',
  deliveryExhausted: 'delivery.exhausted',
  circuitOpened: 'webhook.circuit_opened',
  circuitClosed: 'webhook.circuit_closed',
} as const;

const OPERATIONAL = new Set<string>(Object.values(OPERATIONAL_EVENT_TYPES));

export function isOperationalEventType(type: string): boolean {
  return OPERATIONAL.has(type);
}
