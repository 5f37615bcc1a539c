/**
 * A Slack incoming webhook's message for any event: `text` (the notification and fallback) and
 * Block Kit `blocks` (header, the event's facts, its data as a code block, ids in a context),
 * within Slack's documented limits.
 */
import type { EventEnvelope } from '../delivery/types';
import { dataText, fenceSafe, truncate } from './text';

/** Slack's documented limits (Block Kit reference: blocks, and the text composition object). */
export const SLACK_LIMITS = {
  /** Blocks in one message. */
  blocks: 50,
  /** A header block's plain_text. */
  headerChars: 150,
  /** A section block's text. */
  sectionChars: 3000,
  /** Each of a section's fields (at most 10). */
  fieldChars: 2000,
  fields: 10,
  /** A context block's elements. */
  contextElements: 10,
  /** Top-level `text`: Slack truncates past 40,000; the notification needs far fewer. */
  textChars: 3000,
} as const;

/** Slack asks for `&`, `<` and `>` to be escaped in text: `<...>` is its link and mention syntax. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const CODE_FENCE = '```';

export function renderSlack(envelope: EventEnvelope): unknown {
  const type = escapeMrkdwn(envelope.type);
  const code = fenceSafe(escapeMrkdwn(dataText(envelope.data)));
  const dataBlock = `${CODE_FENCE}\n${truncate(code, SLACK_LIMITS.sectionChars - 2 * CODE_FENCE.length - 2)}\n${CODE_FENCE}`;
  return {
    text: truncate(`${envelope.type} event ${envelope.id}`, SLACK_LIMITS.textChars),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(envelope.type || 'event', SLACK_LIMITS.headerChars) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: truncate(`*Type*\n${type}`, SLACK_LIMITS.fieldChars) },
          { type: 'mrkdwn', text: truncate(`*Time*\n${escapeMrkdwn(envelope.timestamp)}`, SLACK_LIMITS.fieldChars) },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: dataBlock } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncate(`Event ${escapeMrkdwn(envelope.id)} · tenant ${escapeMrkdwn(envelope.tenant_id)}`, SLACK_LIMITS.sectionChars) }],
      },
    ],
  };
}
