/**
 * A Microsoft Teams message for any event (incoming webhook or a Workflows "When a Teams webhook
 * request is received" flow): one Adaptive Card 1.4 attachment (title, a FactSet of type, time and
 * id, the data as a monospace TextBlock), the whole body kept under Teams' size limit.
 */
import type { EventEnvelope } from '../delivery/types';
import { dataText, truncate, truncateToFit } from './text';

export const TEAMS_LIMITS = {
  /**
   * The request body, in UTF-8 bytes. Teams documents about 28 KB per message; senders report 413
   * well below it (the card's own overhead, a UTF-16 conversion), so the budget keeps a margin.
   */
  bodyBytes: 20_000,
  titleChars: 256,
  factChars: 512,
} as const;

function card(envelope: EventEnvelope, data: string): unknown {
  const type = envelope.type || 'event';
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: truncate(type, TEAMS_LIMITS.titleChars), weight: 'Bolder', size: 'Medium', wrap: true },
            {
              type: 'FactSet',
              facts: [
                { title: 'Type', value: truncate(type, TEAMS_LIMITS.factChars) },
                { title: 'Time', value: truncate(envelope.timestamp, TEAMS_LIMITS.factChars) },
                { title: 'Event ID', value: truncate(envelope.id, TEAMS_LIMITS.factChars) },
              ],
            },
            { type: 'TextBlock', text: data, fontType: 'Monospace', wrap: true },
          ],
        },
      },
    ],
  };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

export function renderTeams(envelope: EventEnvelope): unknown {
  const data = truncateToFit(dataText(envelope.data), (text) => bytes(card(envelope, text)) <= TEAMS_LIMITS.bodyBytes);
  return card(envelope, data || '(data left out: too large for Teams)');
}
