import { backoffDelay, parseRetryAfter, WebhookApiError, WebhookClient } from '../../packages/client/src';
import { acceptBatch, errorAnswer, ScriptedApi, type ApiRequest } from '../support/scripted-api';

const accepted = (request: ApiRequest) => ({ status: 202, body: { id: (request.body as { id: string }).id, status: 'accepted', duplicate: false } });
/** Back-off short enough for a unit test; Retry-After still rules where given. */
const FAST = { baseDelayMs: 20, maxDelayMs: 100 };

describe('Retry-After and back-off', () => {
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1.5);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    for (const unreadable of [null, undefined, '', '-1', 'soon', '1e3']) expect(parseRetryAfter(unreadable, now)).toBeUndefined();
  });

  it('doubles from the base, stays under the cap, and randomises the upper half', () => {
    const policy = { baseDelayMs: 500, maxDelayMs: 10_000 };
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 1))).toEqual([500, 1000, 2000]);
    expect(backoffDelay(1, policy, () => 0)).toBe(250);
    expect(backoffDelay(10, policy, () => 1)).toBe(10_000);
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(3, policy)));
    expect(spread.size).toBeGreaterThan(1);
    for (const delay of spread) expect(delay >= 1000 && delay <= 2000).toBe(true);
  });
});

describe('WebhookClient against a loopback server', () => {
  let api: ScriptedApi;
  const client = (options: Partial<ConstructorParameters<typeof WebhookClient>[0]> = {}) => new WebhookClient({ baseUrl: api.baseUrl, token: 'whk_test', retry: FAST, ...options });
  afterEach(() => api.stop());

  it('sends an event again after a 503 with Retry-After, as the same event: the id it made before the first try', async () => {
    api = await new ScriptedApi((req, n) => (n === 1 ? errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '1' }) : accepted(req))).start();
    const started = Date.now();
    const answer = await client().sendEvent({ type: 'invoice.created', data: { amount: 1 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(api.requests).toHaveLength(2);
    const [first, second] = api.requests.map((r) => r.body as { id: string });
    expect(first.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
    expect(second).toEqual(first);
    expect(answer).toEqual({ id: first.id, status: 'accepted', duplicate: false });
    expect(api.requests[0].headers.authorization).toBe('Bearer whk_test');
  });

  it('honours a Retry-After given as an HTTP date on a 429', async () => {
    api = await new ScriptedApi((req, n) =>
      n === 1 ? errorAnswer(429, 'rate_limited', [], { 'retry-after': new Date(Date.now() + 1000).toUTCString() }) : accepted(req),
    ).start();
    await client().sendEvent({ id: 'evt_given', type: 'invoice.created', data: {} });
    expect(api.requests.map((r) => (r.body as { id: string }).id)).toEqual(['evt_given', 'evt_given']);
  });

  it('retries a lost connection for an event (it has an id) and a GET, never for a webhook creation', async () => {
    api = await new ScriptedApi((req, n) => (n === 1 ? 'hang-up' : accepted(req))).start();
    await client().sendEvent({ type: 'invoice.created', data: {} });
    expect(api.requests).toHaveLength(2);
    expect((api.requests[1].body as { id: string }).id).toBe((api.requests[0].body as { id: string }).id);

    api.requests.length = 0;
    api.answerWith((_req, n) => (n === 1 ? 'hang-up' : { status: 200, body: { webhook: { id: 'wh_1' } } }));
    await expect(client().getWebhook('wh_1')).resolves.toEqual({ id: 'wh_1' });
    expect(api.requests).toHaveLength(2);

    api.requests.length = 0;
    api.answerWith(() => 'hang-up');
    await expect(client().createWebhook({ url: 'https://example.com/hook', events: ['*'] })).rejects.toThrow('fetch failed');
    expect(api.requests).toHaveLength(1);
  });

  it('does not wait past its budget: a Retry-After beyond it is answered with the error and its retryAfter', async () => {
    api = await new ScriptedApi(() => errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '120' })).start();
    const error = await client().sendEvent({ type: 'invoice.created', data: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookApiError);
    expect(error).toMatchObject({ status: 503, code: 'dependency_unavailable', retryAfter: 120 });
    expect(api.requests).toHaveLength(1);
  });

  it('stops after maxAttempts tries', async () => {
    api = await new ScriptedApi(() => errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '0' })).start();
    await expect(client({ retry: { ...FAST, maxAttempts: 3 } }).sendEvent({ type: 'invoice.created', data: {} })).rejects.toMatchObject({ status: 503 });
    expect(api.requests).toHaveLength(3);
    api.requests.length = 0;
    await expect(client({ retry: false }).sendEvent({ type: 'invoice.created', data: {} })).rejects.toMatchObject({ status: 503 });
    expect(api.requests).toHaveLength(1);
  });

  it('throws a 4xx at once, with the fields of the one error shape', async () => {
    const details = [{ path: 'url', message: 'Invalid URL' }];
    api = await new ScriptedApi(() => errorAnswer(400, 'validation_failed', details)).start();
    const error = await client().createWebhook({ url: 'nope', events: ['*'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookApiError);
    expect(error).toMatchObject({ name: 'WebhookApiError', status: 400, code: 'validation_failed', message: 'validation_failed (test)', details, retryAfter: undefined });
    expect(api.requests).toHaveLength(1);
  });

  it('retries a proxy 502 for a GET only, and names a body that is not the error shape by its status', async () => {
    api = await new ScriptedApi(() => ({ status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad Gateway</html>' })).start();
    await expect(client().createWebhook({ url: 'https://example.com/hook', events: ['*'] })).rejects.toMatchObject({ status: 502, code: 'http_502' });
    expect(api.requests).toHaveLength(1);
    api.requests.length = 0;
    await expect(client().getWebhook('wh_1')).rejects.toMatchObject({ status: 502 });
    expect(api.requests).toHaveLength(4);
  });

  it('reaches any route of the document typed, with path and query parameters', async () => {
    api = await new ScriptedApi(() => ({ status: 200, body: { deliveries: [], nextCursor: null } })).start();
    const page = await client().get('/v1/webhooks/{id}/deliveries', { params: { path: { id: 'wh_1' }, query: { status: 'failed', limit: 5 } } });
    expect(page.deliveries).toEqual([]);
    expect(api.requests[0]).toMatchObject({ method: 'GET', path: '/v1/webhooks/wh_1/deliveries?status=failed&limit=5' });
  });

  it('gives every event of a batch its id before the first try, the same on the retry', async () => {
    api = await new ScriptedApi((req, n) => (n === 1 ? errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '0' }) : acceptBatch(req))).start();
    const answer = await client().sendEvents([{ type: 'a.b', data: 1 }, { type: 'a.b', data: 2, id: 'evt_mine' }]);
    const [first, second] = api.requests.map((r) => (r.body as { events: { id: string }[] }).events.map((e) => e.id));
    expect(second).toEqual(first);
    expect(first[1]).toBe('evt_mine');
    expect(answer.map((a) => a.id)).toEqual(first);
  });
});
