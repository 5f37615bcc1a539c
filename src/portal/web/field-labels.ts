/**
 * Field paths of the API's error details (`retrySchedule.0`, `headers.X-Token`) in the words of
 * the form's labels, so a refusal names what the user filled in.
 */

const LABELS: Record<string, string> = {
  url: 'Endpoint URL',
  description: 'Description',
  events: 'Event types',
  headers: 'Custom headers',
  timeoutSeconds: 'Timeout',
  retrySchedule: 'Retry schedule',
  rateLimitPerSecond: 'Rate limit',
  ordering: 'Ordering',
  filter: 'Payload filter',
  legacySignature: 'Legacy signature',
  metadata: 'Metadata',
  active: 'State',
  format: 'Format',
  transformation: 'Transformation',
  code: 'Code',
  event: 'Test event',
  name: 'Name',
  type: 'Type',
  secret: 'Secret',
  hmac: 'HMAC',
  since: 'Since',
  until: 'Until',
};

export function fieldLabel(path: string): string {
  if (!path) return 'Request';
  const [head, ...rest] = path.split('.');
  const label = LABELS[head] ?? head;
  const sub = rest.join('.');
  if (!sub) return label;
  const index = /^\d+$/.test(sub) ? Number(sub) + 1 : undefined;
  if (head === 'retrySchedule' && index) return `${label}, delay ${index}`;
  if (head === 'events' && index) return `${label}, entry ${index}`;
  if (head === 'headers') return `Header ${sub}`;
  if (head === 'transformation' && sub === 'code') return 'Code';
  if (head === 'event' && sub === 'type') return 'Event type';
  if (head === 'event' && sub.startsWith('data')) return 'Event data (JSON)';
  return `${label}, ${sub}`;
}
