/**
 * What the chat services' answers mean, as they document them, in the outcomes every attempt
 * has (delivery/outcome.ts): an answer that says the webhook URL is dead is `gone` (the webhook is
 * disabled, its reason naming the service's answer); one that refuses the message is a retry
 * with a reason saying so (the rendering or a transformation is at fault, and the response body
 * stays on the attempt); Discord's rate limit body sets the retry's delay. Any other answer is
 * classified as for the standard format.
 */
import type { AttemptOutcome } from '../delivery/outcome';
import { SERVICE_NAMES, type WebhookFormat } from './render';

type ChatFormat = Exclude<WebhookFormat, 'standard'>;

export interface ChatAnswer {
  statusCode: number;
  body: string;
  retryAfter: string | undefined;
}

/**
 * Slack's error strings that mean the incoming webhook will never post again as it is (Slack:
 * "Sending messages using incoming webhooks", Handling errors): revoked or removed hook, app or
 * workspace; channel gone or archived; the workspace forbids the post.
 */
const SLACK_GONE: ReadonlySet<string> = new Set([
  'no_service',
  'no_service_id',
  'no_team',
  'team_disabled',
  'no_active_hooks',
  'invalid_token',
  'channel_not_found',
  'channel_is_archived',
  'action_prohibited',
  'posting_to_general_channel_denied',
]);

/** Discord's JSON error codes that mean the webhook URL is dead: Unknown Webhook, Invalid Webhook Token. */
const DISCORD_GONE: Readonly<Record<number, string>> = { 10015: 'Unknown Webhook', 50027: 'Invalid Webhook Token' };

/** Slack answers errors as a bare string (`no_service`); anything else is no code. */
function slackCode(body: string): string | null {
  const code = body.trim();
  return /^[a-z_]{1,64}$/.test(code) ? code : null;
}

/** Discord answers errors as JSON: `{"code", "message"}`, and `{"retry_after", "global"}` on 429. */
function discordError(body: string): { code?: number; retryAfterSeconds?: number; global?: boolean } {
  try {
    const parsed = JSON.parse(body) as { code?: unknown; retry_after?: unknown; global?: unknown };
    return {
      code: typeof parsed.code === 'number' && Number.isInteger(parsed.code) ? parsed.code : undefined,
      retryAfterSeconds: typeof parsed.retry_after === 'number' && Number.isFinite(parsed.retry_after) && parsed.retry_after >= 0 ? parsed.retry_after : undefined,
      global: parsed.global === true,
    };
  } catch {
    return {};
  }
}

/** `Retry-After` in seconds, fractional allowed (Discord sends e.g. `1.5`). */
function retryAfterSecondsHeader(value: string | undefined): number | undefined {
  if (!value || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

const answered = (format: ChatFormat, status: number, what: string) => `${SERVICE_NAMES[format]} answered ${status} ${what}`;

const REFUSED = 'the message as rendered (or as a transformation changed it) is not one it accepts';

function slack({ statusCode, body }: ChatAnswer): AttemptOutcome | null {
  const code = slackCode(body);
  if (!code) return null;
  const reason = answered('slack', statusCode, code);
  if (SLACK_GONE.has(code)) return { kind: 'gone', reason };
  if (statusCode === 400) return { kind: 'retry', reason: `${reason}: ${REFUSED}` };
  return null;
}

function discord({ statusCode, body, retryAfter }: ChatAnswer): AttemptOutcome | null {
  const error = discordError(body);
  if (error.code !== undefined && DISCORD_GONE[error.code] && (statusCode === 404 || statusCode === 401)) {
    return { kind: 'gone', reason: answered('discord', statusCode, `${DISCORD_GONE[error.code]} (code ${error.code})`) };
  }
  if (statusCode === 429) {
    const seconds = error.retryAfterSeconds ?? retryAfterSecondsHeader(retryAfter);
    return {
      kind: 'retry',
      reason: answered('discord', statusCode, `rate limited${error.global ? ' (global)' : ''}`),
      retryAfterMs: seconds === undefined ? undefined : Math.ceil(seconds * 1000),
    };
  }
  if (statusCode === 400) return { kind: 'retry', reason: `${answered('discord', statusCode, error.code !== undefined ? `(code ${error.code})` : 'Bad Request')}: ${REFUSED}` };
  return null;
}

function teams({ statusCode }: ChatAnswer): AttemptOutcome | null {
  if (statusCode === 400) return { kind: 'retry', reason: `${answered('teams', statusCode, 'Bad Request')}: ${REFUSED}` };
  if (statusCode === 413) return { kind: 'retry', reason: `${answered('teams', statusCode, 'Payload Too Large')}: ${REFUSED}` };
  return null;
}

/** The outcome a chat service's non-2xx answer documents; null: classify it as any receiver's. */
export function classifyChatAnswer(format: ChatFormat, answer: ChatAnswer): AttemptOutcome | null {
  if (answer.statusCode >= 200 && answer.statusCode < 300) return null;
  switch (format) {
    case 'slack':
      return slack(answer);
    case 'discord':
      return discord(answer);
    case 'teams':
      return teams(answer);
  }
}

/**
 * A `gone` reason this module wrote (`Slack answered 404 no_service`): only those become a
 * disabled webhook's reason, so nothing a receiver wrote ever does.
 */
export const SERVICE_ANSWER_REASON = /^(Slack|Discord|Microsoft Teams) answered \d{3} [A-Za-z0-9_ ()]{1,80}$/;
