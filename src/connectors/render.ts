/**
 * What a webhook's `format` sends: the event envelope itself (`standard`), or a message a chat
 * service's incoming webhook accepts (`slack`, `discord`, `teams`). Pure: the send path renders
 * here, then signs what this returns (delivery/signed-request.ts), and a payload transformation
 * starts from this rendering.
 */
import type { EventEnvelope } from '../delivery/types';
import { renderDiscord } from './discord';
import { renderSlack } from './slack';
import { renderTeams } from './teams';

export const WEBHOOK_FORMATS = ['standard', 'slack', 'discord', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A stored webhook's format: absent (webhooks created before the field) or unknown is standard. */
export function formatOf(webhook: { format?: string | null }): WebhookFormat {
  return (WEBHOOK_FORMATS as readonly string[]).includes(webhook.format ?? '') ? (webhook.format as WebhookFormat) : 'standard';
}

/** Which services the chat formats post to, as their answers and reasons name them. */
export const SERVICE_NAMES: Readonly<Record<Exclude<WebhookFormat, 'standard'>, string>> = {
  slack: 'Slack',
  discord: 'Discord',
  teams: 'Microsoft Teams',
};

/** The request body of one attempt, as an object (`JSON.stringify` of it is what is signed and sent). */
export function renderPayload(format: WebhookFormat, envelope: EventEnvelope): unknown {
  switch (format) {
    case 'slack':
      return renderSlack(envelope);
    case 'discord':
      return renderDiscord(envelope);
    case 'teams':
      return renderTeams(envelope);
    case 'standard':
      return envelope;
  }
}
