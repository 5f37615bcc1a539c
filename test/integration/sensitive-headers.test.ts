import { sealPlaintextHeaders } from '../../src/crypto/seal-plaintext-headers';
import { webhookCreatedResponseSchema, webhookResponseSchema } from '../../src/api/schemas/webhook';
import { valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * Sensitive custom header values at rest: sealed with the SecretBox in the `webhooks` collection,
 * opened only for an attempt; a PATCH keeps one given as null; plaintext ones an earlier version
 * stored still go out, and are sealed at the API's start.
 */
describe('sensitive custom headers', () => {
  const ctx = useHarness({ receivers: 1 });
  let apiKey: string;
  const TOKEN = 'Bearer receiver-credential-7d1e';

  beforeAll(async () => {
    ({ apiKey } = await ctx.harness.createTenant());
  });

  const call = (method: string, path: string, body?: unknown) => ctx.harness.call(method, path, { token: apiKey, body });
  /** The webhook's document exactly as MongoDB holds it, as text. */
  const rawDocument = async (id: string) => JSON.stringify(await ctx.harness.models.Webhook.collection.findOne({ _id: id as never }));
  const create = async (path: string) => {
    const res = await call('POST', '/v1/webhooks', { url: ctx.receiver.url(path), events: ['*'], headers: { Authorization: TOKEN, 'X-Env': 'prod' } });
    expect(res.status).toBe(201);
    return valid(webhookCreatedResponseSchema, res.body).webhook;
  };
  const lastTo = (path: string) => ctx.receiver.requests.filter((r) => r.path === path).at(-1);

  it('stores a sensitive value sealed, never in the clear; attempts still send it', async () => {
    const webhook = await create('/sealed');
    expect(webhook).toMatchObject({ headers: { 'X-Env': 'prod' }, sensitiveHeaders: ['Authorization'] });
    const raw = await rawDocument(webhook.id);
    expect(raw).toContain('X-Env');
    expect(raw).not.toContain('receiver-credential-7d1e');
    const stored = await ctx.harness.models.Webhook.collection.findOne({ _id: webhook.id as never });
    expect(stored!.headers).toEqual([
      { name: 'Authorization', sealed: { keyId: 'test', iv: expect.any(String), tag: expect.any(String), ciphertext: expect.any(String) } },
      { name: 'X-Env', value: 'prod' },
    ]);

    // A real delivery and a test event both carry the value.
    const sent = await call('POST', '/v1/events', { type: 'invoice.created', data: { n: 1 } });
    expect(sent.status).toBe(202);
    const delivered = await eventually(() => lastTo('/sealed'), 30_000, 'the delivery');
    expect(delivered.headers).toMatchObject({ authorization: TOKEN, 'x-env': 'prod' });
    expect((await call('POST', `/v1/webhooks/${webhook.id}/test`)).body.success).toBe(true);
    expect(lastTo('/sealed')!.headers.authorization).toBe(TOKEN);
  });

  it('PATCH keeps a header given as null, replaces one given a value, and refuses null for a header it does not have', async () => {
    const webhook = await create('/kept');
    const patched = await call('PATCH', `/v1/webhooks/${webhook.id}`, { headers: { Authorization: null, 'X-Env': 'staging' } });
    expect(patched.status).toBe(200);
    expect(valid(webhookResponseSchema, patched.body).webhook).toMatchObject({ headers: { 'X-Env': 'staging' }, sensitiveHeaders: ['Authorization'] });
    expect(await rawDocument(webhook.id)).not.toContain('receiver-credential-7d1e');
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/kept')!.headers).toMatchObject({ authorization: TOKEN, 'x-env': 'staging' });

    // Other fields leave the headers alone.
    expect((await call('PATCH', `/v1/webhooks/${webhook.id}`, { description: 'renamed' })).status).toBe(200);
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/kept')!.headers.authorization).toBe(TOKEN);

    // A new value replaces it; leaving the header out removes it.
    await call('PATCH', `/v1/webhooks/${webhook.id}`, { headers: { Authorization: 'Bearer rotated-credential', 'X-Env': null } });
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/kept')!.headers).toMatchObject({ authorization: 'Bearer rotated-credential', 'x-env': 'staging' });
    await call('PATCH', `/v1/webhooks/${webhook.id}`, { headers: { 'X-Env': null } });
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/kept')!.headers.authorization).toBeUndefined();

    const refused = await call('PATCH', `/v1/webhooks/${webhook.id}`, { headers: { 'X-Api-Key': null } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'header_not_stored', details: [{ path: 'headers.X-Api-Key', message: 'no stored value to keep' }] });
    // null is a PATCH's marker only: a create needs the value.
    const created = await call('POST', '/v1/webhooks', { url: ctx.receiver.url('/x'), events: ['*'], headers: { Authorization: null } });
    expect(created.status).toBe(400);
    expect(created.body.error.details.map((d: { path: string }) => d.path)).toEqual(['headers.Authorization']);
  });

  it('sends a plaintext value an earlier version stored, and seals it at the API\'s start', async () => {
    const webhook = await create('/legacy-plain');
    // As versions before sealing stored it.
    await ctx.harness.models.Webhook.collection.updateOne({ _id: webhook.id as never }, { $set: { headers: [{ name: 'Authorization', value: TOKEN }, { name: 'X-Env', value: 'prod' }] } });
    expect(await rawDocument(webhook.id)).toContain('receiver-credential-7d1e');
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/legacy-plain')!.headers.authorization).toBe(TOKEN);

    expect(await sealPlaintextHeaders(ctx.harness.models.Webhook.collection, ctx.harness.secretBox)).toBe(1);
    expect(await rawDocument(webhook.id)).not.toContain('receiver-credential-7d1e');
    expect(await sealPlaintextHeaders(ctx.harness.models.Webhook.collection, ctx.harness.secretBox)).toBe(0);
    await call('POST', `/v1/webhooks/${webhook.id}/test`);
    expect(lastTo('/legacy-plain')!.headers).toMatchObject({ authorization: TOKEN, 'x-env': 'prod' });
  });
});
