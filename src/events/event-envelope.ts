import type { EventEnvelope } from '../delivery/types';
import { newId } from '../ids';
import type { EventDoc } from '../models/event';
import type { NewEvent } from './event-ingestion';

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

/** The body receivers would get for `event` accepted now, without storing it (a filter test). */
export function unstoredEventEnvelope(tenantId: string, event: NewEvent): EventEnvelope {
  return {
    id: event.id ?? newId('evt'),
    type: event.type,
    timestamp: new Date().toISOString(),
    tenant_id: tenantId,
    data: event.data ?? null,
    metadata: { ...event.metadata },
  };
}
