import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { webhookResponseSchema } from '../../src/api/schemas/webhook';
import type { BrowserContext as Context } from 'playwright-core';
import { launchChromium, screenshot, watchedPage as watchedBy } from '../support/browser';
import { PortalClient } from '../support/portal-client';
import { requestsOf } from '../support/receiver';
import { valid } from '../support/shapes';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * A watched page that also counts as a problem any resource the console reports missing outside
 * the portal's API (an asset, the favicon the browser asks for by itself): the API's own 404s are
 * answers the pages show in words.
 */
async function watchedPage(context: Context) {
  const watched = await watchedBy(context);
  watched.page.on('console', (msg) => {
    const resource = msg.location().url;
    if (msg.type() === 'error' && /status of 404/.test(msg.text()) && !new URL(resource).pathname.startsWith('/portal/api/')) watched.problems.push(`404: ${resource}`);
  });
  return watched;
}

/**
 * The customer portal in a real browser (Debian's chromium) against the real stack: Temporal dev
 * server, MongoDB-wire server, a worker, and a receiver on 127.0.0.1. Screenshots of every page
 * go to test-results/portal/.
 */
describe('customer portal in a browser', () => {
  const ctx = useHarness({ receivers: 1 });
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let acme: { tenantId: string; apiKey: string };
  let globex: { tenantId: string; apiKey: string };
  let webhookId = '';
  let firstSecret = '';
  let failedDeliveryId = '';

  const url = (path: string) => ctx.harness.baseUrl + path;

  beforeAll(async () => {
    browser = await launchChromium();
    acme = await ctx.harness.createTenant('Acme');
    globex = await ctx.harness.createTenant('Globex');
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ({ page, problems } = await watchedPage(context));
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    expect(problems).toEqual([]);
  });

  it('opens a session link: the token leaves the address bar and the tenant\'s webhooks show', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    expect(page.url()).toBe(url('/portal/webhooks'));
    expect(await page.locator('#session .tenant').innerText()).toBe('Acme');
    expect(await page.getByText('No webhooks yet').isVisible()).toBe(true);
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'portal_session', path: '/portal', httpOnly: true, sameSite: 'Strict' })]);
    // The page's script cannot read the session cookie.
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('creates a webhook from the catalogue and shows its secret once, with a copy button', async () => {
    await page.getByRole('link', { name: 'New webhook' }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Endpoint URL').fill(ctx.receiver.url('/portal-hook'));
    await page.getByLabel('Description (optional)').fill('Billing sync');
    await page.locator('summary', { hasText: 'invoice (' }).click();
    await page.getByRole('checkbox', { name: 'invoice.created', exact: true }).check();
    const example = page.locator('.event-type:has(input[value="invoice.created"]) details.example');
    await example.locator('summary').click();
    expect(JSON.parse(await example.locator('pre').innerText())).toMatchObject({ type: 'invoice.created', data: { invoiceId: expect.any(String) } });
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header name').fill('X-Portal-Test');
    await page.getByLabel('Header value').fill('from-the-portal');
    await page.getByLabel('Timeout (seconds)').fill('5');
    await page.getByLabel('Retry schedule').fill('1s');
    await screenshot(page, '02-webhook-form');

    // A refused value is named next to its field, in words.
    await page.getByLabel('Retry schedule').fill('soon');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.locator('#error-retrySchedule', { hasText: 'expected a delay' }).waitFor();
    expect(await page.locator('.form-errors').innerText()).toContain('Some values are not valid');
    // Named in the form's words, not as the API's field path.
    expect(await page.locator('#error-retrySchedule').innerText()).toMatch(/^Retry schedule, delay 1: expected a delay/);
    expect(await page.locator('.form-errors').innerText()).toContain('Retry schedule, delay 1:');
    expect(await page.locator('main').innerText()).not.toContain('retrySchedule');
    // This service allows http webhook URLs (the harness's WEBHOOK_ALLOW_HTTP), and the form says so.
    expect(await page.locator('#hint-url').innerText()).toBe('Where events are POSTed (https, or http: this service allows it).');
    await screenshot(page, '03-webhook-form-error');
    await page.getByLabel('Retry schedule').fill('1s');
    await page.getByRole('button', { name: 'Create webhook' }).click();

    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    firstSecret = await page.locator('#secret-value').inputValue();
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    webhookId = new URL(page.url()).pathname.split('/').pop()!;
    const stored = valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}`, { token: acme.apiKey })).body).webhook;
    expect(stored).toMatchObject({
      url: ctx.receiver.url('/portal-hook'),
      description: 'Billing sync',
      events: ['invoice.created'],
      headers: { 'X-Portal-Test': 'from-the-portal' },
      timeoutSeconds: 5,
      retrySchedule: ['1s'],
      active: true,
      legacySignature: false,
    });
    await screenshot(page, '04-webhook-created');
    // Shown once: the page reloaded has no secret.
    await page.reload();
    await page.locator('h1.url').waitFor();
    expect(await page.locator('#secret-value').count()).toBe(0);
  });

  it('sends a test event: the receiver gets it signed, the page shows the answer', async () => {
    ctx.receiver.respondWith({ status: 200, body: 'thanks from the receiver' });
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('heading', { name: 'Test event delivered' }).waitFor();
    expect(await page.locator('.feedback').innerText()).toMatch(/HTTP 200[\s\S]*thanks from the receiver/);
    const received = ctx.receiver.requests.filter((r) => r.path === '/portal-hook');
    expect(received).toHaveLength(1);
    expect(verifiedPayload(received[0], firstSecret)).toMatchObject({ type: 'webhook.test', tenant_id: acme.tenantId });
    expect(received[0].headers['x-portal-test']).toBe('from-the-portal');
    // The legacy, replayable signature was not asked for in the form.
    expect(received[0].headers['x-webhook-signature']).toBeUndefined();
    await screenshot(page, '05-test-event');
  });

  it('shows a failed delivery with every attempt, retries it, and sees it delivered', async () => {
    ctx.receiver.respondWith({ status: 500, body: 'receiver is down for maintenance' });
    const eventId = await ctx.harness.sendEvent(acme.apiKey, { type: 'invoice.created', data: { invoiceId: 'inv_portal_1', amount: 1234 } });
    failedDeliveryId = await eventually(
      async () => (await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed`, { token: acme.apiKey })).body.deliveries[0]?.id as string | undefined,
      60_000,
      'the failed delivery',
    );

    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByLabel('Event type').selectOption('invoice.created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=failed/);
    const row = page.locator('table.deliveries tbody tr', { hasText: failedDeliveryId });
    await row.waitFor();
    expect(await row.locator('.badge').innerText()).toBe('failed');
    await screenshot(page, '06-deliveries-failed');
    // Filtered to delivered: it is not there.
    await page.getByLabel('Status').selectOption('delivered');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No deliveries match these filters.').waitFor();

    await page.goto(url(`/portal/deliveries/${failedDeliveryId}`));
    await page.locator('.attempts tbody tr').nth(1).waitFor();
    const attempts = await page.locator('.attempts tbody tr').allInnerTexts();
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) expect(attempt).toMatch(/HTTP 500[\s\S]*receiver is down for maintenance/);
    expect(await page.locator('dl.facts').innerText()).toContain(eventId);
    const payload = JSON.parse(await page.locator('pre.json').innerText());
    expect(payload).toMatchObject({ id: eventId, type: 'invoice.created', data: { invoiceId: 'inv_portal_1', amount: 1234 } });
    await screenshot(page, '07-delivery-failed');

    ctx.receiver.respondWith({ status: 200, body: 'ok now' });
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
    await page.getByText('Retry started.').waitFor();
    // The page follows the delivery by itself: no reload (which would drop the notice above).
    await page.locator('dl.facts .badge', { hasText: 'delivered' }).waitFor({ timeout: 60_000 });
    expect(await page.getByText('Retry started.').isVisible()).toBe(true);
    expect(await page.locator('.attempts').innerText()).toContain('ok now');
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    const delivered = requestsOf(ctx.receiver.requests, failedDeliveryId).filter((r) => r.path === '/portal-hook');
    expect(verifiedPayload(delivered[delivered.length - 1], firstSecret)).toMatchObject({ id: eventId });
    await screenshot(page, '08-delivery-retried');
  });

  it('rotates the secret (shown once); the next request is signed with it', async () => {
    await page.goto(url(`/portal/webhooks/${webhookId}`));
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('heading', { name: 'New signing secret' }).waitFor();
    const secret = await page.locator('#secret-value').inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(firstSecret);
    expect(await page.locator('.secret-panel').innerText()).toContain('previous secret keeps signing until');
    await screenshot(page, '09-secret-rotated');

    const before = ctx.receiver.requests.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('heading', { name: 'Test event delivered' }).waitFor();
    const test = ctx.receiver.requests[before];
    expect(verifiedPayload(test, secret)).toMatchObject({ type: 'webhook.test' });
  });

  it('shows the webhook\'s state, success rate, last delivery and the charts', async () => {
    await page.goto(url(`/portal/webhooks/${webhookId}`));
    await page.locator('svg.chart').first().waitFor();
    const facts = await page.locator('dl.facts').innerText();
    // One delivery, failed and then retried to success: counted once, as delivered (issue 22, item 11).
    expect(facts).toContain('100 % (1 of 1)');
    expect(facts).toMatch(/Last delivery\s+(just now|\d+ min ago)/);
    // The chart counts deliveries, not runs: the one that failed and was retried is delivered now.
    expect(await page.locator('svg.chart rect.bar.delivered').count()).toBeGreaterThan(0);
    expect(await page.locator('svg.chart rect.bar.failed').count()).toBe(0);
    expect(await page.locator('.chart-box figcaption').first().innerText()).toMatch(/Delivered: 1[\s\S]*Failed: 0/);
    // Latency: the attempts of the most recent deliveries (the retried one's current run delivered).
    expect(await page.locator('svg.chart circle.point.delivered').count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, '10-webhook-detail');

    // A narrower window redraws the charts at its width (their labels keep their size).
    const chartWidth = async () => Number((await page.locator('svg.chart').first().getAttribute('viewBox'))!.split(' ')[2]);
    const wide = await chartWidth();
    await page.setViewportSize({ width: 640, height: 900 });
    await eventually(async () => ((await chartWidth()) < wide ? true : undefined), 15_000, 'the charts redrawn narrower');
    const mainWidth = await page.locator('#main').evaluate((el) => el.clientWidth);
    expect(await chartWidth()).toBe(Math.round(Math.max(300, mainWidth - 32)));
    await page.setViewportSize({ width: 1280, height: 900 });
    await eventually(async () => ((await chartWidth()) === wide ? true : undefined), 15_000, 'the charts redrawn at the first width');

    await page.goto(url('/portal/webhooks'));
    const row = page.locator('table.list tbody tr', { hasText: 'Billing sync' });
    expect(await row.innerText()).toMatch(/active[\s\S]*100 % \(1 of 1\)/);
    await screenshot(page, '01-webhooks');
  });

  it('edits one header and keeps the hidden value of another; turns the legacy signature on', async () => {
    const hooked = await ctx.harness.createWebhook(acme.apiKey, {
      url: ctx.receiver.url('/portal-headers'),
      events: ['user.*'],
      headers: { Authorization: 'Bearer portal-kept-credential', 'X-Env': 'prod' },
    });
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}/edit`));
    await page.getByRole('heading', { name: 'Edit webhook' }).waitFor();
    const row = (name: string) => page.locator(`.header-row:has(input.header-name[value="${name}"])`);
    // The hidden value is not in the page: its input is empty, and says so.
    expect(await row('Authorization').locator('input.header-value').inputValue()).toBe('');
    expect(await row('Authorization').locator('input.header-value').getAttribute('placeholder')).toContain('unchanged');
    await row('X-Env').locator('input.header-value').fill('staging');
    await page.getByLabel('Also send the legacy X-Webhook-Signature header').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/X-Env: staging[\s\S]*Authorization: \(hidden\)/);

    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('heading', { name: 'Test event delivered' }).waitFor();
    const received = ctx.receiver.requests.filter((r) => r.path === '/portal-headers').at(-1)!;
    expect(received.headers).toMatchObject({ authorization: 'Bearer portal-kept-credential', 'x-env': 'staging' });
    expect(received.headers['x-webhook-signature']).toBe(createHmac('sha256', hooked.secret).update(received.body).digest('hex'));
    // At rest, the hidden value is sealed: the raw document never holds it.
    expect(JSON.stringify(await ctx.harness.models.Webhook.collection.findOne({ _id: hooked.webhookId as never }))).not.toContain('portal-kept-credential');
  });

  it('edits the payload filter as JSON: not JSON and a refused filter are named at the field', async () => {
    const hooked = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/portal-filter'), events: ['invoice.*'], filter: { 'data.amount': { $gte: 1000 } } });
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}/edit`));
    await page.getByRole('heading', { name: 'Edit webhook' }).waitFor();
    const filter = page.getByLabel('Payload filter (optional)');
    expect(JSON.parse(await filter.inputValue())).toEqual({ 'data.amount': { $gte: 1000 } });

    await filter.fill('{"data.amount": ');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#error-filter', { hasText: 'not valid JSON' }).waitFor();
    await filter.fill('{"$where": "this.data.amount > 1"}');
    await page.getByRole('button', { name: 'Save' }).click();
    // The API's own words, in the form's.
    await page.locator('#error-filter', { hasText: '$where is not allowed' }).waitFor();
    expect(await page.locator('#error-filter').innerText()).toMatch(/^Payload filter, \$where: operator \$where is not allowed/);
    await screenshot(page, '10b-webhook-filter-error');
    expect(valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${hooked.webhookId}`, { token: acme.apiKey })).body).webhook.filter).toEqual({ 'data.amount': { $gte: 1000 } });

    await filter.fill('{"metadata.region": {"$in": ["eu"]}}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toContain('{"metadata.region":{"$in":["eu"]}}');
    expect(valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${hooked.webhookId}`, { token: acme.apiKey })).body).webhook.filter).toEqual({ 'metadata.region': { $in: ['eu'] } });
    // Emptied: no filter.
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}/edit`));
    await page.getByLabel('Payload filter (optional)').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${hooked.webhookId}`, { token: acme.apiKey })).body).webhook.filter).toBeNull();
  });

  it('edits the rate limit: a refused value is named at the field, empty is no limit', async () => {
    const hooked = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/portal-rate'), events: ['invoice.*'], rateLimitPerSecond: 5 });
    const stored = async () => valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${hooked.webhookId}`, { token: acme.apiKey })).body).webhook.rateLimitPerSecond;
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}/edit`));
    await page.getByRole('heading', { name: 'Edit webhook' }).waitFor();
    const limit = page.getByLabel('Rate limit (requests per second, optional)');
    expect(await limit.inputValue()).toBe('5');

    await limit.fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    // The API's refusal, in the form's words.
    await page.locator('#error-rateLimitPerSecond', { hasText: /^Rate limit: / }).waitFor();
    expect(await stored()).toBe(5);

    await limit.fill('0.5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toContain('0.5 requests per second');
    expect(await stored()).toBe(0.5);
    // Emptied: no limit.
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}/edit`));
    await page.getByLabel('Rate limit (requests per second, optional)').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(await stored()).toBeNull();
  });

  it('creates a webhook with the Slack format and shows it on its page; the edit form changes it', async () => {
    const stored = async (id: string) => valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${id}`, { token: acme.apiKey })).body).webhook;
    await page.goto(url('/portal/webhooks/new'));
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    // A new webhook's format is standard unless chosen.
    expect(await page.getByLabel('Format', { exact: true }).inputValue()).toBe('standard');
    await page.getByLabel('Endpoint URL').fill(ctx.receiver.url('/portal-slack'));
    await page.getByLabel('Other types or patterns (comma-separated)').fill('invoice.*');
    await page.getByLabel('Format', { exact: true }).selectOption({ label: 'Slack message' });
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByText('Webhook created.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/Format\s+Slack message/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await stored(id)).format).toBe('slack');
    await screenshot(page, '20-webhook-slack');

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: 'Edit webhook' }).waitFor();
    expect(await page.getByLabel('Format', { exact: true }).inputValue()).toBe('slack');
    await page.getByLabel('Format', { exact: true }).selectOption('teams');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Webhook saved.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/Format\s+Microsoft Teams message/);
    expect((await stored(id)).format).toBe('teams');
  });

  it('edits a transformation: tests the unsaved code on an event, names a syntax error by its line, saves and removes it', async () => {
    const hooked = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/portal-transform'), events: ['invoice.created'] });
    const stored = async () => valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${hooked.webhookId}`, { token: acme.apiKey })).body).webhook.transformation;
    await page.goto(url(`/portal/webhooks/${hooked.webhookId}`));
    await page.locator('h1.url').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/Transformation\s+none/);
    await page.getByRole('link', { name: 'Transformation' }).click();
    await page.getByRole('heading', { name: 'Transformation', level: 1 }).waitFor();
    expect(await page.locator('#transformation-state').innerText()).toContain('No transformation is saved');
    // Nothing to remove yet.
    expect(await page.getByRole('button', { name: 'Remove transformation' }).isVisible()).toBe(false);

    const code = page.getByLabel('Code', { exact: true });
    const test = async () => {
      await page.getByRole('button', { name: 'Test', exact: true }).click();
      await page.locator('#test-result h3, #test-result .error').first().waitFor();
    };
    const compact = [
      'function handler(webhook) {',
      "  webhook.payload = { text: 'Invoice ' + webhook.payload.data.invoiceId + ' <b>paid</b>', amount: webhook.payload.data.amount };",
      "  webhook.headers['X-Shape'] = 'compact';",
      '  return webhook;',
      '}',
    ].join('\n');
    await code.fill(compact);
    // The test event starts as one the webhook gets, with the catalogue's example data.
    expect(await page.getByLabel('Event type').inputValue()).toBe('invoice.created');
    expect(JSON.parse(await page.getByLabel('Event data (JSON)').inputValue())).toMatchObject({ invoiceId: expect.any(String) });
    // Data that is not JSON is named at its field before anything is sent.
    await page.getByLabel('Event data (JSON)').fill('{"invoiceId": ');
    await test();
    expect(await page.locator('#error-event-data').innerText()).toMatch(/^Event data \(JSON\): not valid JSON/);
    await page.getByLabel('Event data (JSON)').fill('{"invoiceId": "inv_42", "amount": 1200}');
    await test();
    const result = page.locator('#test-result');
    expect(await result.locator('h3').innerText()).toBe('Would be sent');
    // The body as sent, pretty-printed; markup in it shows as text.
    const body = await result.locator('pre.test-body').innerText();
    expect(body).toBe(JSON.stringify({ text: 'Invoice inv_42 <b>paid</b>', amount: 1200 }, null, 2));
    expect(await result.locator('b').count()).toBe(0);
    const shown = await result.innerText();
    expect(shown).toMatch(/Method\s+POST/);
    expect(shown).toContain(ctx.receiver.url('/portal-transform'));
    expect(shown).toMatch(/x-shape: compact/i);
    expect(shown).toMatch(/webhook-signature: v1,/i);
    await screenshot(page, '21-transformation-test');
    // Tested, not saved.
    expect(await stored()).toBeNull();

    await code.fill('function handler(webhook) {\n  return { ...webhook, cancel: true };\n}');
    await test();
    expect(await result.locator('h3').innerText()).toBe('Canceled');
    expect(await result.innerText()).toContain('nothing would be sent');

    await code.fill("function handler(webhook) {\n  throw new Error('no invoice here');\n}");
    await test();
    expect(await result.locator('h3').innerText()).toBe('The transformation failed');
    expect(await result.innerText()).toContain('no invoice here');

    // A syntax error on line 3: named at the editor with its line, when tested and when saved.
    await code.fill('function handler(webhook) {\n  const total = 1;\n  return webhook +;\n}');
    await test();
    expect(await page.locator('#error-code').innerText()).toMatch(/^Code: .*\(line 3\)$/);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('.form-errors .error').waitFor();
    expect(await page.locator('#error-code').innerText()).toMatch(/^Code: .*\(line 3\)$/);
    expect(await page.locator('.form-errors').innerText()).toContain('Some values are not valid');
    await screenshot(page, '22-transformation-syntax-error');
    expect(await stored()).toBeNull();

    await code.fill(compact);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Transformation saved.').waitFor();
    expect(await page.locator('#error-code').innerText()).toBe('');
    expect(await stored()).toMatchObject({ code: compact, enabled: true });
    expect(await page.getByRole('button', { name: 'Remove transformation' }).isVisible()).toBe(true);

    // After a reload the editor holds the saved code.
    await page.reload();
    await page.getByRole('heading', { name: 'Transformation', level: 1 }).waitFor();
    expect(await page.getByLabel('Code', { exact: true }).inputValue()).toBe(compact);
    expect(await page.getByRole('checkbox', { name: /Enabled: run it/ }).isChecked()).toBe(true);
    expect(await page.locator('#transformation-state').innerText()).toMatch(/^Saved: version [0-9a-f]{16}, enabled\.$/);
    // Turned off: kept, not run.
    await page.getByRole('checkbox', { name: /Enabled: run it/ }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Transformation saved.').waitFor();
    expect(await stored()).toMatchObject({ code: compact, enabled: false });
    await page.getByRole('link', { name: 'Back to the webhook' }).click();
    await page.locator('h1.url').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/Transformation\s+disabled: requests are sent unchanged \(version [0-9a-f]{16}\)/);

    await page.getByRole('link', { name: 'Transformation' }).click();
    await page.getByRole('button', { name: 'Remove transformation' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Transformation removed.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toMatch(/Transformation\s+none/);
    expect(await stored()).toBeNull();
  });

  it('lists sources, creates one and shows its ingest URL, rotates it and deletes it; never a secret', async () => {
    const made = await ctx.harness.call('POST', '/v1/sources', { token: acme.apiKey, body: { name: 'Stripe live', type: 'stripe', secret: 'whsec_stripe_from_the_api' } });
    expect(made.status).toBe(201);
    await page.goto(url('/portal/webhooks'));
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    const row = (name: string) => page.locator('table.sources tbody tr', { hasText: name });
    expect(await row('Stripe live').innerText()).toContain('Stripe');
    expect(await row('Stripe live').locator('td[data-label="Created"]').innerText()).not.toBe('—');

    await page.getByRole('link', { name: 'New source' }).click();
    await page.getByRole('heading', { name: 'New source' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Shop orders <i>eu</i>');
    await page.getByLabel('Type', { exact: true }).selectOption({ label: 'Generic HMAC' });
    await page.getByLabel('Secret', { exact: true }).fill('portal-hmac-secret');
    await page.getByLabel('Algorithm').selectOption('sha512');
    await page.getByLabel('Encoding').selectOption('base64');
    await page.getByLabel('Prefix (optional)').fill('sha512=');
    // The signature header is required for an HMAC source: the API's refusal is named at it.
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.locator('#error-hmac-header').waitFor();
    expect(await page.locator('#error-hmac-header').innerText()).toMatch(/^HMAC, header: /);
    await page.getByLabel('Signature header').fill('X-Signature');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByText('Source created.').waitFor();
    const first = await page.locator('#ingest-url-value').inputValue();
    expect(first).toMatch(new RegExp(`^${ctx.harness.baseUrl}/v1/ingest/src_[A-Za-z0-9_-]+/[A-Za-z0-9_-]{43}$`));
    expect(await page.getByRole('button', { name: 'Copy ingest URL', exact: true }).isVisible()).toBe(true);
    const created = row('Shop orders <i>eu</i>');
    expect(await created.locator('i').count()).toBe(0);
    expect(await created.innerText()).toMatch(/Generic HMAC[\s\S]*hmac\.\*/);
    const sourceId = (await created.getAttribute('data-source-id'))!;
    // The list shows the URL when the API keeps it, else says how to see one.
    const listed = valid(z.object({ source: z.object({ ingestUrl: z.string().nullable().optional() }).loose() }), (await ctx.harness.call('GET', `/v1/sources/${sourceId}`, { token: acme.apiKey })).body).source.ingestUrl;
    if (listed) expect(await created.locator('td[data-label="Ingest URL"] input').inputValue()).toBe(listed);
    else expect(await created.locator('td[data-label="Ingest URL"]').innerText()).toContain('rotate the URL to see a new one');
    // The settings typed in the form sign requests: the URL takes a request signed that way.
    const post = async (ingestUrl: string) => {
      const raw = JSON.stringify({ order: 7 });
      const signature = `sha512=${createHmac('sha512', 'portal-hmac-secret').update(raw).digest('base64')}`;
      const res = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body: raw });
      return { status: res.status, body: (await res.json()) as { type?: string; status?: string } };
    };
    expect(await post(first)).toMatchObject({ status: 202, body: { type: 'hmac.event', status: 'accepted' } });
    // The secret is never in the page.
    expect(await page.content()).not.toContain('portal-hmac-secret');
    await screenshot(page, '23-sources');

    await created.getByRole('button', { name: /^Rotate the ingest URL/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page.getByText('Ingest URL rotated.').waitFor();
    expect(await page.locator('.ingest-panel h2').innerText()).toBe('New ingest URL of Shop orders <i>eu</i>');
    const second = await page.locator('#ingest-url-value').inputValue();
    expect(second).not.toBe(first);
    expect(second).toContain(`/v1/ingest/${sourceId}/`);
    expect(await page.locator('.ingest-panel').innerText()).toContain('The previous URL keeps working until');
    expect((await post(second)).status).toBe(202);
    // The list says until when the previous URL still works.
    expect(await row('Shop orders').locator('td[data-label="Ingest URL"]').innerText()).toMatch(/The previous URL[\s\S]*works until/);

    await row('Shop orders').getByRole('button', { name: /^Delete the source/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Source deleted.').waitFor();
    expect(await row('Shop orders').count()).toBe(0);
    expect(await row('Stripe live').count()).toBe(1);
    expect((await ctx.harness.call('GET', `/v1/sources/${sourceId}`, { token: acme.apiKey })).status).toBe(404);
    expect((await post(second)).status).toBe(404);
  });

  it('disables, enables and deletes with confirmation, by keyboard alone', async () => {
    const spare = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/spare'), events: ['user.*'] });
    await page.goto(url(`/portal/webhooks/${spare.webhookId}`));
    await page.locator('h1.url').waitFor();
    // Tab to "Disable", open the dialog with Enter; Cancel has the focus, Tab to confirm.
    for (let i = 0; i < 40 && (await page.evaluate('document.activeElement?.textContent')) !== 'Disable'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Cancel');
    await screenshot(page, '11-confirm-disable');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Webhook disabled.').waitFor();
    expect(await page.locator('dl.facts').innerText()).toContain('disabled by you');
    expect((await ctx.harness.call('GET', `/v1/webhooks/${spare.webhookId}`, { token: acme.apiKey })).body.webhook.active).toBe(false);

    await page.getByRole('button', { name: 'Enable' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Webhook enabled.').waitFor();

    await page.getByRole('button', { name: 'Delete' }).click();
    // Escape cancels: nothing is deleted.
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    expect((await ctx.harness.call('GET', `/v1/webhooks/${spare.webhookId}`, { token: acme.apiKey })).status).toBe(200);
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Webhook deleted.').waitFor();
    expect((await ctx.harness.call('GET', `/v1/webhooks/${spare.webhookId}`, { token: acme.apiKey })).status).toBe(404);
  });

  it('answers another tenant\'s ids with "not found", in words', async () => {
    const theirs = await ctx.harness.createWebhook(globex.apiKey, { url: ctx.receiver.url('/globex'), events: ['*'] });
    await page.goto(url(`/portal/webhooks/${theirs.webhookId}`));
    await page.locator('.error').waitFor();
    expect(await page.locator('.error').innerText()).toMatch(/Not found: webhook not found/);
    await page.goto(url(`/portal/webhooks/${theirs.webhookId}/deliveries`));
    await page.locator('.error').waitFor();
    expect(await page.locator('.error').innerText()).toMatch(/Not found/);
    await screenshot(page, '12-other-tenant');
  });

  it('refuses a reused link and an expired one, with words and no session', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    const first = await browser.newContext();
    const { page: one } = await watchedPage(first);
    await one.goto(link.url);
    await one.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();

    const second = await browser.newContext();
    const { page: two, problems: twoProblems } = await watchedPage(second);
    await two.goto(link.url);
    await two.getByRole('heading', { name: 'Cannot open the portal' }).waitFor();
    expect(await two.locator('.error').innerText()).toContain('expired or was already used');
    expect(await second.cookies()).toEqual([]);
    await screenshot(two, '13-link-reused');

    const expired = await PortalClient.link(ctx.harness, acme.apiKey, { expiresInSeconds: 10 });
    await ctx.harness.models.PortalLink.updateOne({ _id: expired.id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await two.goto(expired.url);
    await two.getByRole('heading', { name: 'Cannot open the portal' }).waitFor();
    expect(await two.locator('.error').innerText()).toContain('expired or was already used');
    // Without a session, any portal page says so instead of showing anything.
    await two.goto(url('/portal/webhooks'));
    await two.getByRole('heading', { name: 'Cannot open the portal' }).waitFor();
    expect(await two.locator('.error').innerText()).toContain('Your portal session has expired');
    expect(twoProblems).toEqual([]);
    await first.close();
    await second.close();
  });

  it('a read-only session offers no changes', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey, { readOnly: true });
    const readOnly = await browser.newContext();
    const { page: ro } = await watchedPage(readOnly);
    await ro.goto(link.url);
    await ro.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    expect(await ro.locator('#session .readonly').innerText()).toBe('read-only');
    // Shown disabled, as docs/portal.md says of every change a read-only session cannot make.
    expect(await ro.getByRole('link', { name: 'New webhook' }).count()).toBe(0);
    expect(await ro.getByRole('button', { name: 'New webhook' }).isDisabled()).toBe(true);
    await ro.goto(url(`/portal/webhooks/${webhookId}`));
    await ro.locator('h1.url').waitFor();
    for (const name of ['Edit', 'Send test event', 'Disable', 'Rotate secret', 'Delete']) expect(await ro.getByRole('button', { name }).isDisabled()).toBe(true);
    await ro.goto(url(`/portal/webhooks/${webhookId}/transformation`));
    await ro.getByRole('heading', { name: 'Transformation', level: 1 }).waitFor();
    for (const name of ['Save', 'Test']) expect(await ro.getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
    await ro.goto(url('/portal/sources'));
    await ro.getByRole('heading', { name: 'Sources', level: 1 }).waitFor();
    expect(await ro.getByRole('button', { name: 'New source' }).isDisabled()).toBe(true);
    // Rotating and deleting are changes; copying an ingest URL is not.
    const buttons = await Promise.all((await ro.locator('table.sources button').all()).map(async (b) => [await b.getAttribute('aria-label'), await b.isDisabled()] as const));
    expect(buttons.length).toBeGreaterThan(0);
    for (const [name, disabled] of buttons) expect([name, disabled]).toEqual([name, !name?.startsWith('Copy')]);
    await screenshot(ro, '14-read-only');
    await readOnly.close();
  });

  it('fits a 360 px wide screen', async () => {
    const link = await PortalClient.link(ctx.harness, acme.apiKey);
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const { page: small } = await watchedPage(phone);
    await small.goto(link.url);
    await small.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    for (const [path, name, ready] of [
      ['/portal/webhooks', '15-mobile-webhooks', 'table.list'],
      [`/portal/webhooks/${webhookId}`, '16-mobile-webhook', 'svg.chart'],
      [`/portal/webhooks/${webhookId}/deliveries`, '17-mobile-deliveries', 'table.deliveries'],
      [`/portal/deliveries/${failedDeliveryId}`, '18-mobile-delivery', 'pre.json'],
      ['/portal/webhooks/new', '19-mobile-form', 'form.webhook-form'],
      [`/portal/webhooks/${webhookId}/transformation`, '24-mobile-transformation', 'textarea.code'],
      ['/portal/sources', '25-mobile-sources', 'table.sources'],
      ['/portal/sources/new', '26-mobile-source-form', 'form.source-form'],
    ] as const) {
      await small.goto(url(path));
      await small.locator(ready).first().waitFor();
      expect([path, await small.evaluate('document.documentElement.scrollWidth')]).toEqual([path, 360]);
      await screenshot(small, name);
    }
    await phone.close();
  });
});
