import type { EventEnvelope } from '../delivery/types';
import type { EventDoc } from '../models/event';

/** The body receivers get for a stored event: `{id, type, timestamp, tenant_id, data, metadata}`. */
export function eventEnvelope(event: EventDoc): EventEnvelope {
  return {
    id: event.eventId,
    type: event.type,
    timestamp: event.acceptedAt.toISOString(),
    tenant_id: event.tenantId,
    data: JSON.parse(event.data),
    metadata: Object.fromEntries(event.metadata.map((m) => [m.name, m.value])),
  };
}
