import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

/**
 * Local stand-ins for Slack, Discord and Microsoft Teams incoming webhooks on 127.0.0.1. Each
 * checks a request against the rules its service documents and answers as that service does: 2xx
 * for a message it would post, its documented error otherwise. A path picks the service and what
 * it answers besides: `/slack/ok`, `/slack/no_service`, `/slack/channel_is_archived`,
 * `/slack/invalid_payload`, `/discord/ok`, `/discord/rate-limited` (each delivery's first request
 * 429 with `retry_after` 1.5 s in its body), `/discord/unknown-webhook`, `/teams/ok`.
 */

export type ChatService = 'slack' | 'discord' | 'teams';

export interface ChatRequest {
  service: ChatService;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  /** When the answer was written. */
  answeredAt: number;
  status: number;
  /** The documented rules the body broke (empty: a message the service would post). */
  problems: string[];
}

/** Characters as the services count them: code points. */
const chars = (value: unknown) => (typeof value === 'string' ? Array.from(value).length : 0);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Slack Block Kit: `text` or `blocks`; at most 50 blocks; header plain_text ≤ 150; section text ≤ 3000, fields ≤ 10 of ≤ 2000; context 1–10 elements. */
export function slackProblems(payload: unknown): string[] {
  if (!isObject(payload)) return ['not a JSON object'];
  const problems: string[] = [];
  const { text, blocks } = payload;
  const hasText = typeof text === 'string' && text.trim().length > 0;
  if (!hasText && !(Array.isArray(blocks) && blocks.length > 0)) return ['no_text: neither text nor blocks'];
  if (text !== undefined && typeof text !== 'string') problems.push('text is not a string');
  if (chars(text) > 40_000) problems.push('text over 40000 characters');
  if (blocks === undefined) return problems;
  if (!Array.isArray(blocks)) return [...problems, 'blocks is not an array'];
  if (blocks.length > 50) problems.push(`${blocks.length} blocks (at most 50)`);
  const textObject = (t: unknown, where: string, max: number, types: string[]) => {
    if (!isObject(t) || !types.includes(t.type as string)) return problems.push(`${where}: not a ${types.join('/')} text object`);
    if (typeof t.text !== 'string' || t.text.length === 0) return problems.push(`${where}: empty text`);
    if (chars(t.text) > max) problems.push(`${where}: ${chars(t.text)} characters (at most ${max})`);
  };
  blocks.forEach((block: unknown, i) => {
    const where = `blocks[${i}]`;
    if (!isObject(block)) return problems.push(`${where}: not an object`);
    if (block.block_id !== undefined && chars(block.block_id) > 255) problems.push(`${where}: block_id over 255`);
    switch (block.type) {
      case 'header':
        textObject(block.text, `${where}.text`, 150, ['plain_text']);
        break;
      case 'section':
        if (block.text === undefined && block.fields === undefined) problems.push(`${where}: neither text nor fields`);
        if (block.text !== undefined) textObject(block.text, `${where}.text`, 3000, ['plain_text', 'mrkdwn']);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10) problems.push(`${where}.fields: 1 to 10 fields`);
          else block.fields.forEach((f: unknown, j) => textObject(f, `${where}.fields[${j}]`, 2000, ['plain_text', 'mrkdwn']));
        }
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 10) problems.push(`${where}.elements: 1 to 10 elements`);
        else block.elements.forEach((e: unknown, j) => textObject(e, `${where}.elements[${j}]`, 3000, ['plain_text', 'mrkdwn']));
        break;
      case 'divider':
        break;
      default:
        problems.push(`${where}: unknown block type ${String(block.type)}`);
    }
  });
  return problems;
}

/** Discord Execute Webhook: content ≤ 2000; ≤ 10 embeds; embed title ≤ 256, description ≤ 4096, ≤ 25 fields of name ≤ 256 / value ≤ 1024, footer ≤ 2048, author ≤ 256, all embeds ≤ 6000; ISO8601 timestamp; never empty. */
export function discordProblems(payload: unknown): { empty: boolean; problems: string[] } {
  if (!isObject(payload)) return { empty: false, problems: ['not a JSON object'] };
  const problems: string[] = [];
  const { content, embeds } = payload;
  const hasContent = typeof content === 'string' && content.trim().length > 0;
  const hasEmbeds = Array.isArray(embeds) && embeds.length > 0;
  if (!hasContent && !hasEmbeds) return { empty: true, problems: ['Cannot send an empty message'] };
  if (content !== undefined && typeof content !== 'string') problems.push('content is not a string');
  if (chars(content) > 2000) problems.push(`content: ${chars(content)} characters (at most 2000)`);
  if (embeds === undefined) return { empty: false, problems };
  if (!Array.isArray(embeds)) return { empty: false, problems: [...problems, 'embeds is not an array'] };
  if (embeds.length > 10) problems.push(`${embeds.length} embeds (at most 10)`);
  let total = 0;
  const limit = (value: unknown, max: number, where: string) => {
    total += chars(value);
    if (chars(value) > max) problems.push(`${where}: ${chars(value)} characters (at most ${max})`);
  };
  embeds.forEach((embed: unknown, i) => {
    const where = `embeds[${i}]`;
    if (!isObject(embed)) return problems.push(`${where}: not an object`);
    limit(embed.title, 256, `${where}.title`);
    limit(embed.description, 4096, `${where}.description`);
    if (isObject(embed.footer)) limit(embed.footer.text, 2048, `${where}.footer.text`);
    if (isObject(embed.author)) limit(embed.author.name, 256, `${where}.author.name`);
    if (embed.fields !== undefined) {
      if (!Array.isArray(embed.fields) || embed.fields.length > 25) problems.push(`${where}.fields: at most 25`);
      else
        embed.fields.forEach((f: unknown, j) => {
          if (!isObject(f) || typeof f.name !== 'string' || !f.name || typeof f.value !== 'string' || !f.value) return problems.push(`${where}.fields[${j}]: name and value required`);
          limit(f.name, 256, `${where}.fields[${j}].name`);
          limit(f.value, 1024, `${where}.fields[${j}].value`);
        });
    }
    if (embed.timestamp !== undefined && (typeof embed.timestamp !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(embed.timestamp))) {
      problems.push(`${where}.timestamp: not ISO8601`);
    }
  });
  if (total > 6000) problems.push(`embeds: ${total} characters in all (at most 6000)`);
  return { empty: false, problems };
}

/** Teams: a message with an Adaptive Card attachment, under the ~28 KB payload limit. */
export function teamsProblems(payload: unknown, bytes: number): string[] {
  if (bytes > 28 * 1024) return [`${bytes} bytes (at most 28 KB)`];
  if (!isObject(payload) || payload.type !== 'message') return ['type is not "message"'];
  const attachments = payload.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) return ['no attachments'];
  const problems: string[] = [];
  attachments.forEach((a: unknown, i) => {
    if (!isObject(a) || a.contentType !== 'application/vnd.microsoft.card.adaptive') return problems.push(`attachments[${i}]: not an adaptive card`);
    const card = a.content;
    if (!isObject(card) || card.type !== 'AdaptiveCard' || typeof card.version !== 'string' || !Array.isArray(card.body) || card.body.length === 0) {
      return problems.push(`attachments[${i}].content: not an AdaptiveCard with a version and a body`);
    }
    card.body.forEach((element: unknown, j) => {
      if (!isObject(element) || typeof element.type !== 'string') return problems.push(`body[${j}]: no type`);
      if (element.type === 'TextBlock' && typeof element.text !== 'string') problems.push(`body[${j}]: TextBlock without text`);
      if (element.type === 'FactSet' && (!Array.isArray(element.facts) || element.facts.some((f: unknown) => !isObject(f) || typeof f.title !== 'string' || typeof f.value !== 'string'))) {
        problems.push(`body[${j}]: FactSet facts need a title and a value`);
      }
    });
  });
  return problems;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

export class ChatReceivers {
  readonly requests: ChatRequest[] = [];
  private server?: Server;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const path = req.url ?? '';
        const [, service, behaviour] = path.split('/') as [string, ChatService, string];
        const request: ChatRequest = { service, path, headers: req.headers, body: raw.toString('utf8'), receivedAt: Date.now(), answeredAt: 0, status: 0, problems: [] };
        const earlier = this.requests.filter((r) => r.path === path && r.headers['webhook-id'] === req.headers['webhook-id']).length;
        this.requests.push(request);
        const answer = this.answer(request, raw.length, behaviour, earlier);
        request.status = answer.status;
        request.answeredAt = Date.now();
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private answer(request: ChatRequest, bytes: number, behaviour: string, earlier: number): Answer {
    let payload: unknown;
    try {
      payload = JSON.parse(request.body);
    } catch {
      request.problems.push('not JSON');
    }
    switch (request.service) {
      case 'slack': {
        if (behaviour === 'no_service') return { status: 404, body: 'no_service' };
        if (behaviour === 'channel_is_archived') return { status: 410, body: 'channel_is_archived' };
        if (behaviour === 'invalid_payload') return { status: 400, body: 'invalid_payload' };
        if (request.problems.length) return { status: 400, body: 'invalid_payload' };
        request.problems.push(...slackProblems(payload));
        if (request.problems.some((p) => p.startsWith('no_text'))) return { status: 400, body: 'no_text' };
        return request.problems.length ? { status: 400, body: 'invalid_blocks' } : { status: 200, body: 'ok' };
      }
      case 'discord': {
        if (behaviour === 'unknown-webhook') return json(404, { message: 'Unknown Webhook', code: 10015 });
        if (behaviour === 'rate-limited' && earlier === 0) return json(429, { retry_after: 1.5, global: false, message: 'You are being rate limited.' });
        if (request.problems.length) return json(400, { message: 'Invalid Form Body', code: 50035 });
        const { empty, problems } = discordProblems(payload);
        request.problems.push(...problems);
        if (empty) return json(400, { message: 'Cannot send an empty message', code: 50006 });
        return problems.length ? json(400, { message: 'Invalid Form Body', code: 50035, errors: problems }) : { status: 204, body: '' };
      }
      case 'teams': {
        if (request.problems.length) return { status: 400, body: 'Bad payload received by generic incoming webhook.' };
        request.problems.push(...teamsProblems(payload, bytes));
        if (bytes > 28 * 1024) return { status: 413, body: 'Microsoft Teams endpoint returned HTTP error 413' };
        return request.problems.length ? { status: 400, body: 'Bad payload received by generic incoming webhook.' } : { status: 202, body: '' };
      }
      default:
        return { status: 404, body: 'no such service' };
    }
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The requests to one path. */
  to(path: string): ChatRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
