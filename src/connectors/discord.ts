/**
 * A Discord execute-webhook message for any event: a short `content` (never empty) and one embed
 * (title, the data as a code block, the event id, the time), within Discord's documented limits;
 * mentions in the data never ping anyone.
 */
import type { EventEnvelope } from '../delivery/types';
import { dataText, fenceSafe, truncate } from './text';

/** Discord's documented limits (Channel resource: embed limits; Execute Webhook). */
export const DISCORD_LIMITS = {
  contentChars: 2000,
  embeds: 10,
  titleChars: 256,
  descriptionChars: 4096,
  fields: 25,
  fieldNameChars: 256,
  fieldValueChars: 1024,
  footerChars: 2048,
  /** Title, description, field names and values, footer and author name of all embeds together. */
  embedTotalChars: 6000,
} as const;

/** Discord's blurple, for the embed's side bar. */
const EMBED_COLOR = 0x5865f2;

export function renderDiscord(envelope: EventEnvelope): unknown {
  const type = envelope.type || 'event';
  const title = truncate(type, DISCORD_LIMITS.titleChars);
  const fields = [
    { name: 'Event ID', value: truncate(envelope.id || '-', DISCORD_LIMITS.fieldValueChars), inline: true },
    { name: 'Tenant', value: truncate(envelope.tenant_id || '-', DISCORD_LIMITS.fieldValueChars), inline: true },
  ];
  const footer = truncate(`Sent at ${envelope.timestamp}`, DISCORD_LIMITS.footerChars);
  const others = title.length + footer.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const wrapper = '```json\n\n```';
  const room = Math.max(0, Math.min(DISCORD_LIMITS.descriptionChars, DISCORD_LIMITS.embedTotalChars - others) - wrapper.length);
  const description = `\`\`\`json\n${truncate(fenceSafe(dataText(envelope.data)), room)}\n\`\`\``;
  const timestamp = Number.isNaN(Date.parse(envelope.timestamp)) ? undefined : new Date(envelope.timestamp).toISOString();
  return {
    content: truncate(`**${type}**`, DISCORD_LIMITS.contentChars),
    embeds: [{ title, description, color: EMBED_COLOR, fields, footer: { text: footer }, ...(timestamp ? { timestamp } : {}) }],
    // Data may hold "@everyone" or "<@id>": shown, never a ping.
    allowed_mentions: { parse: [] },
  };
}
