import { classifyBatchFailure, WebhookApiError, WebhookClient, type BatchedEvent } from '../../packages/client/src';
import { eventually } from '../support/stack';
import { acceptBatch, errorAnswer, ScriptedApi, type ApiAnswer, type ApiRequest } from '../support/scripted-api';

const idsOf = (request: ApiRequest) => (request.body as { events: { id: string }[] }).events.map((e) => e.id);
const event = (n: number) => ({ type: 'invoice.created', data: { n } });

describe('the event batcher against a loopback server', () => {
  let api: ScriptedApi;
  const client = () => new WebhookClient({ baseUrl: api.baseUrl, token: 'whk_test' });
  const start = async (answer: (request: ApiRequest, n: number) => ApiAnswer | 'hang-up') => {
    api = await new ScriptedApi(answer).start();
  };
  afterEach(() => api.stop());

  it('loses no event when the service answers 503 with Retry-After, then 202: every id accepted once, the same ids on the retry', async () => {
    await start((req, n) => (n === 1 ? errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '1' }) : acceptBatch(req)));
    const retries: number[] = [];
    const batcher = client().batcher({ maxBatchSize: 100, flushIntervalMs: 5000, onRetry: (_err, _n, delayMs) => retries.push(delayMs) });
    const added = Array.from({ length: 250 }, (_, n) => batcher.add(event(n)));
    const summary = await batcher.close();

    expect(summary).toEqual({ accepted: 250, rejected: [] });
    expect(retries).toEqual([1000]);
    const answers = await Promise.all(added);
    expect(answers.map((a) => a.id)).toEqual(added.map((a) => a.id));
    const [refused, ...sent] = api.requests;
    expect(idsOf(refused)).toEqual(idsOf(sent[0]));
    expect(sent.map((r) => idsOf(r).length)).toEqual([100, 100, 50]);
    // Every event in the order added, each in exactly one accepted request.
    expect(sent.flatMap(idsOf)).toEqual(added.map((a) => a.id));
    expect(sent.every((r) => r.path === '/v1/events/batch' && r.headers.authorization === 'Bearer whk_test')).toBe(true);
  });

  it('sends a partial batch once its oldest event has waited the interval', async () => {
    await start(acceptBatch);
    const batcher = client().batcher({ maxBatchSize: 100, flushIntervalMs: 300 });
    const started = Date.now();
    const added = [batcher.add(event(1)), batcher.add({ ...event(2), id: 'evt_given' })];
    expect(added[1].id).toBe('evt_given');
    await expect(Promise.all(added)).resolves.toEqual(added.map((a) => ({ id: a.id, status: 'accepted', duplicate: false })));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(api.requests.map(idsOf)).toEqual([added.map((a) => a.id)]);
    await batcher.close();
  });

  it('makes a producer wait for room once it holds maxBufferedEvents, rather than dropping any', async () => {
    await start((req, n) => (n === 1 ? errorAnswer(503, 'dependency_unavailable', [], { 'retry-after': '1' }) : acceptBatch(req)));
    const batcher = client().batcher({ maxBatchSize: 2, maxBufferedEvents: 4, flushIntervalMs: 60_000 });
    const queued: boolean[] = [];
    const added: BatchedEvent[] = [];
    for (let n = 0; n < 10; n++) {
      const batched = batcher.add(event(n));
      void batched.queued.then(() => (queued[n] = true));
      added.push(batched);
    }
    // The first batch is refused and waits out its Retry-After; two more events fill the buffer; six wait for room.
    await eventually(() => (api.requests.length > 0 ? true : undefined), 5000, 'the first batch');
    expect(Array.from({ length: 10 }, (_, n) => queued[n] === true)).toEqual([true, true, true, true, false, false, false, false, false, false]);
    expect(api.requests).toHaveLength(1);

    await expect(batcher.close()).resolves.toEqual({ accepted: 10, rejected: [] });
    expect(api.requests.slice(1).flatMap(idsOf)).toEqual(added.map((a) => a.id));
    expect(Math.max(...api.requests.map((r) => idsOf(r).length))).toBe(2);
  });

  it('rejects only the events a validation error names, and sends the rest of their batch again', async () => {
    await start((req, n) => (n === 1 ? errorAnswer(400, 'validation_failed', [{ path: 'events.1.type', message: 'invalid event type' }]) : acceptBatch(req)));
    const batcher = client().batcher({ flushIntervalMs: 10 });
    const added = [batcher.add(event(0)), batcher.add({ type: 'Not A Type', data: {} }), batcher.add(event(2))];
    const results = await Promise.allSettled(added);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (results[1] as PromiseRejectedResult).reason as WebhookApiError;
    expect(error).toBeInstanceOf(WebhookApiError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed', details: [{ path: 'events.1.type', message: 'invalid event type' }] });
    expect(idsOf(api.requests[1])).toEqual([added[0].id, added[2].id]);
    const summary = await batcher.close();
    expect(summary.accepted).toBe(2);
    expect(summary.rejected.map((r) => r.event.id)).toEqual([added[1].id]);
  });

  it('rejects a whole batch on a 4xx about all of it (a revoked key): retrying cannot help', async () => {
    await start(() => errorAnswer(401, 'unauthorized'));
    const batcher = client().batcher({ flushIntervalMs: 10 });
    const added = [batcher.add(event(0)), batcher.add(event(1))];
    for (const batched of added) await expect(batched).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(api.requests).toHaveLength(1);
    expect((await batcher.close()).rejected).toHaveLength(2);
  });

  it('splits a batch over the size limit (413) until each part is taken', async () => {
    await start((req) => (idsOf(req).length > 2 ? errorAnswer(413, 'payload_too_large') : acceptBatch(req)));
    const batcher = client().batcher({ flushIntervalMs: 10 });
    const added = Array.from({ length: 5 }, (_, n) => batcher.add(event(n)));
    await expect(batcher.close()).resolves.toEqual({ accepted: 5, rejected: [] });
    expect(api.requests.map((r) => idsOf(r).length)).toEqual([5, 3, 2, 1, 2]);
    expect(api.requests.filter((r) => idsOf(r).length <= 2).flatMap(idsOf)).toEqual(added.map((a) => a.id));
  });

  it('sends a batch again after a lost connection, and takes no event after close()', async () => {
    await start((req, n) => (n === 1 ? 'hang-up' : acceptBatch(req)));
    const batcher = client().batcher({ flushIntervalMs: 10, retryBaseDelayMs: 20 });
    const added = batcher.add(event(0));
    await expect(batcher.close()).resolves.toEqual({ accepted: 1, rejected: [] });
    await expect(added).resolves.toMatchObject({ id: added.id });
    expect(api.requests.map(idsOf)).toEqual([[added.id], [added.id]]);
    expect(() => batcher.add(event(1))).toThrow('closed');
  });
});

describe('what the batcher does after a failed send', () => {
  const apiError = (status: number, details: { path: string; message: string }[] = [], retryAfter?: number) =>
    new WebhookApiError(status, 'code', 'message', details, retryAfter);

  it('sends again after a failure of the moment, as long as Retry-After says', () => {
    expect(classifyBatchFailure(apiError(503, [], 2), 3)).toEqual({ kind: 'retry', delayMs: 2000 });
    for (const status of [408, 429, 500, 502, 504]) expect(classifyBatchFailure(apiError(status), 3)).toEqual({ kind: 'retry', delayMs: undefined });
    expect(classifyBatchFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), 3)).toEqual({ kind: 'retry' });
  });

  it('refuses the event an id conflict (409) names, and all of a batch when the error names none', () => {
    expect(classifyBatchFailure(apiError(409, [{ path: 'events.2', message: 'already accepted with a different body' }]), 3)).toEqual({ kind: 'reject', indices: [2] });
    expect(classifyBatchFailure(apiError(409), 3)).toEqual({ kind: 'reject', indices: [0, 1, 2] });
    expect(classifyBatchFailure(apiError(400, [{ path: 'events', message: 'too many' }]), 2)).toEqual({ kind: 'reject', indices: [0, 1] });
    expect(classifyBatchFailure(apiError(413), 1)).toEqual({ kind: 'reject', indices: [0] });
    expect(classifyBatchFailure(new Error('a bug'), 1)).toEqual({ kind: 'reject', indices: [0] });
  });
});
