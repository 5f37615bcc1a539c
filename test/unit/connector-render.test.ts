import { classifyAttempt } from '../../src/delivery/outcome';
import type { HttpResult } from '../../src/delivery/http-client';
import type { EventEnvelope } from '../../src/delivery/types';
import { outgoingPayload } from '../../src/delivery/signed-request';
import { disableRule } from '../../src/delivery/webhook-health';
import { DISCORD_LIMITS } from '../../src/connectors/discord';
import { renderPayload } from '../../src/connectors/render';
import { SLACK_LIMITS } from '../../src/connectors/slack';
import { TEAMS_LIMITS } from '../../src/connectors/teams';
import { truncate, truncateToFit } from '../../src/connectors/text';
import { discordProblems, slackProblems, teamsProblems } from '../support/chat-receivers';

const envelope = (over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: 'evt_1',
  type: 'invoice.created',
  timestamp: '2026-12-05T22:00:00.000Z',
  tenant_id: 'ten_1',
  data: { amount: 1200, currency: 'EUR' },
  metadata: {},
  ...over,
});

/** Emoji (surrogate pairs), CJK, RTL, combining marks, and what would break the renderings' syntax. */
const UNICODE = '😀🚀 日本語テキスト עברית é̃ ```fence``` <!channel> @everyone & <@123> ';
const manyKeys = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`key_${i}_${'k'.repeat(i % 40)}`, `${UNICODE}${i}`]));

const CASES: [string, EventEnvelope][] = [
  ['a small event', envelope()],
  ['no data', envelope({ data: undefined })],
  ['null data', envelope({ data: null })],
  ['a long string', envelope({ data: { text: 'x'.repeat(100_000) } })],
  ['many keys', envelope({ data: manyKeys })],
  ['only emoji (a cut anywhere could split a pair)', envelope({ data: '😀'.repeat(20_000) })],
  ['a long type and id', envelope({ type: `a.${'b'.repeat(400)}`, id: `evt_${'9'.repeat(500)}` })],
  ['an empty type', envelope({ type: '' })],
  ['unicode everywhere', envelope({ type: 'unicode.événement', data: { [UNICODE]: UNICODE.repeat(300) } })],
];

/** No lone surrogate (half a character). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormedText = (text: string) => !LONE_SURROGATE.test(text);
/** No lone surrogate anywhere in the JSON a rendering becomes (JSON.stringify would escape one as \udxxx). */
const wellFormed = (payload: unknown) => !/\\ud[89a-f][0-9a-f]{2}/i.test(JSON.stringify(payload));

describe('chat renderings: within each service\'s documented limits for any event', () => {
  it.each(CASES)('Slack: %s', (_, event) => {
    const payload = renderPayload('slack', event) as { text: string; blocks: { type: string; text?: { text: string } }[] };
    expect(slackProblems(payload)).toEqual([]);
    expect(payload.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(payload.text.length).toBeGreaterThan(0);
    expect(wellFormed(payload)).toBe(true);
  });

  it.each(CASES)('Discord: %s', (_, event) => {
    const payload = renderPayload('discord', event) as { content: string; embeds: unknown[]; allowed_mentions: unknown };
    expect(discordProblems(payload)).toEqual({ empty: false, problems: [] });
    // Never an empty message, whatever the event.
    expect(payload.content.trim().length).toBeGreaterThan(0);
    expect(payload.embeds.length).toBeLessThanOrEqual(DISCORD_LIMITS.embeds);
    expect(payload.allowed_mentions).toEqual({ parse: [] });
    expect(wellFormed(payload)).toBe(true);
  });

  it.each(CASES)('Teams: %s', (_, event) => {
    const payload = renderPayload('teams', event);
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    expect(teamsProblems(payload, bytes)).toEqual([]);
    expect(bytes).toBeLessThanOrEqual(TEAMS_LIMITS.bodyBytes);
    expect(wellFormed(payload)).toBe(true);
  });

  it('shows the type, time, id and data, and says when the data was cut', () => {
    const small = JSON.stringify(renderPayload('slack', envelope()));
    for (const part of ['invoice.created', '2026-12-05T22:00:00.000Z', 'evt_1', '\\"amount\\": 1200']) expect(small).toContain(part);
    for (const format of ['slack', 'discord', 'teams'] as const) {
      expect(JSON.stringify(renderPayload(format, envelope()))).not.toContain('truncated');
      expect(JSON.stringify(renderPayload(format, CASES[3][1]))).toMatch(/… \(truncated, \d+ more characters\)/);
    }
    const discord = renderPayload('discord', envelope()) as { embeds: { title: string; timestamp: string; description: string }[] };
    expect(discord.embeds[0]).toMatchObject({ title: 'invoice.created', timestamp: '2026-12-05T22:00:00.000Z' });
    expect(discord.embeds[0].description).toContain('"currency": "EUR"');
    const teams = renderPayload('teams', envelope()) as { attachments: { content: { body: { type: string; facts?: unknown[] }[] } }[] };
    expect(teams.attachments[0].content.body.map((b) => b.type)).toEqual(['TextBlock', 'FactSet', 'TextBlock']);
  });

  it('escapes Slack\'s control characters and keeps a code fence in the data from closing the block', () => {
    const payload = JSON.stringify(renderPayload('slack', envelope({ data: { note: '<!channel> & ```' } })));
    expect(payload).toContain('&lt;!channel&gt; &amp;');
    expect(payload).not.toContain('```\\"');
  });

  it('the standard format is the envelope itself, as is a format this release does not know (absent, or a newer one)', () => {
    const event = envelope();
    expect(renderPayload('standard', event)).toBe(event);
    expect(outgoingPayload({}, event)).toBe(event);
    expect(outgoingPayload({ format: 'mattermost' as never }, event)).toBe(event);
    expect(outgoingPayload({ format: 'slack' }, event)).toEqual(renderPayload('slack', event));
  });
});

describe('truncate: never past its limit, never half a character', () => {
  const texts = ['x'.repeat(10_000), '😀'.repeat(5000), `a${'😀'.repeat(5000)}`, 'short'];
  it.each([0, 1, 2, 10, 33, 34, 35, 36, 150, 1000, 3000, 9999])('at most %i code units', (max) => {
    for (const text of texts) {
      const cut = truncate(text, max);
      expect(cut.length).toBeLessThanOrEqual(Math.max(max, 0));
      expect(wellFormedText(cut)).toBe(true);
      if (text.length <= max) expect(cut).toBe(text);
      else if (max >= 60) expect(cut).toMatch(new RegExp(`… \\(truncated, ${text.length - cut.indexOf('…')} more characters\\)$`));
    }
  });

  it('truncateToFit finds the longest text a byte budget takes', () => {
    const fits = (t: string) => Buffer.byteLength(t) <= 500;
    const cut = truncateToFit('日'.repeat(1000), fits);
    expect(fits(cut)).toBe(true);
    expect(Buffer.byteLength(cut)).toBeGreaterThan(450);
    expect(truncateToFit('short', fits)).toBe('short');
  });
});

const answer = (statusCode: number, body: string, retryAfter?: string): HttpResult => ({ kind: 'response', statusCode, retryAfter, body, durationMs: 1 });
const NOW = Date.parse('2026-12-05T22:00:00Z');

describe('classifyAttempt: the chat services\' documented answers', () => {
  it.each([
    [404, 'no_service'],
    [404, 'channel_not_found'],
    [404, 'no_team'],
    [410, 'channel_is_archived'],
    [403, 'action_prohibited'],
    [403, 'posting_to_general_channel_denied'],
    [403, 'invalid_token'],
  ])('Slack %i %s: gone, naming the answer', (status, code) => {
    expect(classifyAttempt(answer(status, `${code}\n`), NOW, 'slack')).toEqual({ kind: 'gone', reason: `Slack answered ${status} ${code}` });
  });

  it.each(['invalid_payload', 'no_text', 'invalid_blocks'])('Slack 400 %s: a retry saying the message was refused', (code) => {
    expect(classifyAttempt(answer(400, code), NOW, 'slack')).toEqual({ kind: 'retry', reason: expect.stringMatching(new RegExp(`^Slack answered 400 ${code}: the message as rendered`)) });
  });

  it('Slack: other answers as any receiver\'s (429 with Retry-After, an HTML 404, 5xx)', () => {
    expect(classifyAttempt(answer(429, 'rate_limited', '30'), NOW, 'slack')).toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 30_000 });
    expect(classifyAttempt(answer(404, '<html>not found</html>'), NOW, 'slack')).toEqual({ kind: 'retry', reason: 'HTTP 404' });
    expect(classifyAttempt(answer(500, 'rollup_error'), NOW, 'slack')).toEqual({ kind: 'retry', reason: 'HTTP 500' });
    expect(classifyAttempt(answer(410, ''), NOW, 'slack')).toEqual({ kind: 'gone' });
  });

  it('Discord: 404 Unknown Webhook and 401 Invalid Webhook Token are gone; another 404 is retried', () => {
    expect(classifyAttempt(answer(404, '{"message": "Unknown Webhook", "code": 10015}'), NOW, 'discord')).toEqual({ kind: 'gone', reason: 'Discord answered 404 Unknown Webhook (code 10015)' });
    expect(classifyAttempt(answer(401, '{"message": "Invalid Webhook Token", "code": 50027}'), NOW, 'discord')).toEqual({ kind: 'gone', reason: 'Discord answered 401 Invalid Webhook Token (code 50027)' });
    expect(classifyAttempt(answer(404, '{"message": "Unknown Channel", "code": 10003}'), NOW, 'discord')).toEqual({ kind: 'retry', reason: 'HTTP 404' });
  });

  it('Discord 429: retry_after (seconds, fractional) in the body, else the header', () => {
    const body = '{"retry_after": 1.5, "global": false, "message": "You are being rate limited."}';
    expect(classifyAttempt(answer(429, body), NOW, 'discord')).toEqual({ kind: 'retry', reason: 'Discord answered 429 rate limited', retryAfterMs: 1500 });
    expect(classifyAttempt(answer(429, '{"retry_after": 0.0012, "global": true}'), NOW, 'discord')).toMatchObject({ reason: 'Discord answered 429 rate limited (global)', retryAfterMs: 2 });
    expect(classifyAttempt(answer(429, 'not json', '2.25'), NOW, 'discord')).toMatchObject({ retryAfterMs: 2250 });
    expect(classifyAttempt(answer(429, ''), NOW, 'discord')).toMatchObject({ kind: 'retry', retryAfterMs: undefined });
  });

  it('Discord 400 and Teams 400/413: a retry saying the message was refused', () => {
    expect(classifyAttempt(answer(400, '{"message": "Cannot send an empty message", "code": 50006}'), NOW, 'discord')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^Discord answered 400 \(code 50006\): the message/) });
    expect(classifyAttempt(answer(400, 'Bad payload received by generic incoming webhook.'), NOW, 'teams')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^Microsoft Teams answered 400 Bad Request: /) });
    expect(classifyAttempt(answer(413, ''), NOW, 'teams')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^Microsoft Teams answered 413 /) });
    expect(classifyAttempt(answer(429, '', '5'), NOW, 'teams')).toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 5000 });
    expect(classifyAttempt(answer(202, ''), NOW, 'teams')).toEqual({ kind: 'delivered' });
  });

  it('the standard format reads no body: a Slack-looking answer is any 404', () => {
    expect(classifyAttempt(answer(404, 'no_service'), NOW)).toEqual({ kind: 'retry', reason: 'HTTP 404' });
    expect(classifyAttempt(answer(404, '{"code": 10015}'), NOW, 'standard')).toEqual({ kind: 'retry', reason: 'HTTP 404' });
  });
});

describe('a gone delivery\'s disabled reason', () => {
  const policy = { consecutiveFailures: 3, failingForMs: 3_600_000 };
  const now = new Date(NOW);
  it('names the chat service\'s answer; anything else keeps the fixed 410 text', () => {
    expect(disableRule('gone', null, policy, now, 'Slack answered 404 no_service')).toEqual({ rule: 'gone', reason: 'Slack answered 404 no_service' });
    expect(disableRule('gone', null, policy, now, 'Discord answered 404 Unknown Webhook (code 10015)')?.reason).toBe('Discord answered 404 Unknown Webhook (code 10015)');
    expect(disableRule('gone', null, policy, now, 'HTTP 410')?.reason).toBe('the receiver answered 410 Gone');
    expect(disableRule('gone', null, policy, now, 'Slack answered 404 <a href=x>click</a>')?.reason).toBe('the receiver answered 410 Gone');
    expect(disableRule('gone', null, policy, now)?.reason).toBe('the receiver answered 410 Gone');
  });
});
