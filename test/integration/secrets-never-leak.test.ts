import type { temporal } from '@temporalio/proto';
import { sdkLogs } from '../support/harness';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';

/** Every byte string in a history decoded as text, so payloads are searched as what they carry. */
function historyText(history: temporal.api.history.v1.IHistory): string {
  return JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value));
}

describe('secrets never leak', () => {
  const ctx = useHarness({ receivers: 1 });

  it('no API key, admin token, webhook secret or credential header value appears in logs, list responses or workflow history', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    const receiverToken = 'Bearer receiver-credential-9f2c';
    const created = await ctx.harness.call('POST', '/v1/webhooks', {
      token: apiKey,
      body: { url: ctx.receiver.url('/hooks'), events: ['*'], headers: { Authorization: receiverToken }, retrySchedule: ['1s'] },
    });
    const webhookId = created.body.webhook.id;
    const rotated = await ctx.harness.call('POST', `/v1/webhooks/${webhookId}/rotate-secret`, { token: apiKey });
    expect(rotated.status).toBe(200);
    const secrets = [created.body.webhook.secret as string, rotated.body.secret as string];

    ctx.receiver.respondWith({ status: 500 }, { status: 200 });
    const sent = await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { type: 'user.created', data: { name: 'Ada' } } });
    expect(sent.status).toBe(202);
    const deliveries = await eventually(async () => {
      const page = await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=delivered`, { token: apiKey });
      return page.body.deliveries?.length ? page.body.deliveries : undefined;
    }, 30_000, 'the delivery');
    // The receiver did get the credential header and both signatures: the values exist, and are only there.
    expect(ctx.receiver.requests.at(-1)?.headers.authorization).toBe(receiverToken);
    expect((ctx.receiver.requests.at(-1)?.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);

    const forbidden = [apiKey, ctx.harness.adminToken, receiverToken, 'receiver-credential-9f2c', ...secrets, ...secrets.map((s) => s.slice('whsec_'.length))];
    const leaks = (where: string, text: string) => forbidden.filter((value) => text.includes(value)).map((value) => `${where}: ${value.slice(0, 12)}…`);

    const lists = [
      await ctx.harness.call('GET', '/v1/webhooks', { token: apiKey }),
      await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: apiKey }),
      await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries`, { token: apiKey }),
      await ctx.harness.call('GET', '/v1/stats', { token: apiKey }),
    ];
    const histories = [
      await ctx.harness.client.workflow.getHandle(deliveries[0].id).fetchHistory(),
      ...(await Promise.all(
        (await collect(ctx.harness.client.workflow.list({ query: `EventId = '${sent.body.id}'` }))).map((w) => ctx.harness.client.workflow.getHandle(w.workflowId, w.runId).fetchHistory()),
      )),
    ];
    expect(histories.length).toBeGreaterThanOrEqual(2); // the fan-out and the delivery
    // What was searched is not empty: the logs hold the requests and the attempts.
    const apiLogText = ctx.harness.apiLogs.join('\n');
    const sdkLogText = JSON.stringify(sdkLogs, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    expect(apiLogText).toContain(`"path":"/v1/webhooks/${webhookId}/rotate-secret"`);
    expect(sdkLogText).toContain(deliveries[0].id);

    expect([
      ...leaks('API logs', apiLogText),
      ...leaks('SDK and activity logs', sdkLogText),
      ...lists.flatMap((res, i) => leaks(`list response ${i}`, JSON.stringify(res.body))),
      ...histories.flatMap((h, i) => leaks(`history ${i}`, historyText(h))),
      // At rest: the credential header's value is sealed, the secrets encrypted.
      ...leaks('webhooks collection', JSON.stringify(await ctx.harness.models.Webhook.collection.find({}).toArray())),
    ]).toEqual([]);
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
