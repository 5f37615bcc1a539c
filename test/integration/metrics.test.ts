import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { expectError } from '../support/shapes';

/** The value of one sample of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

const METRICS_TOKEN = `mtr_${'m'.repeat(32)}`;

describe('metrics', () => {
  const ctx = useHarness({ receivers: 1, metricsToken: METRICS_TOKEN });
  const scrape = async (token = METRICS_TOKEN) => {
    const res = await fetch(`${ctx.harness.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('need the metrics token or the admin token: anonymous, a tenant key or another token is 401 in the one error shape', async () => {
    const { apiKey } = await ctx.harness.createTenant('Scraper');
    for (const token of [undefined, apiKey, `${METRICS_TOKEN}x`]) {
      const res = await ctx.harness.call('GET', '/metrics', { token });
      expect([token, res.status]).toEqual([token, 401]);
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.stringify(res.body)).not.toContain('webhook_');
    }
    expect(await scrape(METRICS_TOKEN)).toContain('webhook_api_request_duration_seconds');
    expect(await scrape(ctx.harness.adminToken)).toContain('webhook_api_request_duration_seconds');
  });

  it('count ingested events, deliveries and attempts, with bounded labels only', async () => {
    const { apiKey } = await ctx.harness.createTenant();
    await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: ctx.receiver.url('/m'), events: ['*'], retrySchedule: ['1s'] } });
    const before = await scrape();
    ctx.receiver.respondWith({ status: 502 }, { status: 200 });
    await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'm-1', type: 'usage.reported', data: {} } });
    await ctx.harness.call('POST', '/v1/events', { token: apiKey, body: { id: 'm-1', type: 'usage.reported', data: {} } });
    await eventually(() => (ctx.receiver.requests.length === 2 ? true : undefined));

    const after = await eventually(async () => {
      const text = await scrape();
      return sample(text, 'webhook_deliveries_total', 'outcome="delivered"') > sample(before, 'webhook_deliveries_total', 'outcome="delivered"') ? text : undefined;
    });
    const delta = (name: string, labels = '') => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('webhook_events_ingested_total', 'result="accepted"')).toBe(1);
    expect(delta('webhook_events_ingested_total', 'result="duplicate"')).toBe(1);
    expect(delta('webhook_delivery_attempts_total', 'status_class="5xx"')).toBe(1);
    expect(delta('webhook_delivery_attempts_total', 'status_class="2xx"')).toBe(1);
    expect(delta('webhook_delivery_retries_scheduled_total')).toBe(1);
    expect(delta('webhook_delivery_attempt_duration_seconds_count', 'status_class="2xx"')).toBe(1);
    expect(after).toContain('method="POST",route="/v1/events",status_class="2xx"');

    // No id, URL or tenant in any label.
    const labelValues = [...after.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
    expect(labelValues.filter((v) => /(ten|wh|evt|dlv|key|op)_|127\.0\.0\.1|m-1/.test(v))).toEqual([]);
  });

  it('label API requests by route pattern, not by path', async () => {
    const { apiKey } = await ctx.harness.createTenant('Patterns');
    const created = await ctx.harness.call('POST', '/v1/webhooks', { token: apiKey, body: { url: ctx.receiver.url('/p'), events: ['*'] } });
    await ctx.harness.call('GET', `/v1/webhooks/${created.body.webhook.id}`, { token: apiKey });
    await ctx.harness.call('GET', `/v1/webhooks/${created.body.webhook.id}/deliveries`, { token: apiKey });
    const text = await scrape();
    expect(text).toContain('route="/v1/webhooks/:id",status_class="2xx"');
    expect(text).toContain('route="/v1/webhooks/:id/deliveries",status_class="2xx"');
    expect(text).not.toContain(created.body.webhook.id);
  });
});
