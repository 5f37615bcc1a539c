import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshot, watchedPage } from '../support/browser';
import { PortalClient } from '../support/portal-client';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * The portal's events page (each event with its deliveries' counts by status, linking to them) and
 * its failed deliveries page (the tenant's delivery log, linking to each delivery and its retry),
 * in a real browser against the real stack: one receiver answers 200, the other 500.
 */
describe('portal: events and failed deliveries', () => {
  const ctx = useHarness({ receivers: 2 });
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let tenant: { tenantId: string; apiKey: string };
  let failingWebhook = '';
  let failedDeliveryId = '';
  const NOISE = 55;

  const url = (path: string) => ctx.harness.baseUrl + path;

  beforeAll(async () => {
    browser = await launchChromium();
    tenant = await ctx.harness.createTenant('Logs Inc');
    const other = await ctx.harness.createTenant('Other Inc');
    ctx.receivers[1].respondWith({ status: 500, body: 'down' });
    await ctx.harness.createWebhook(tenant.apiKey, { url: ctx.receivers[0].url('/ok'), events: ['order.*'] });
    ({ webhookId: failingWebhook } = await ctx.harness.createWebhook(tenant.apiKey, { url: ctx.receivers[1].url('/fail'), events: ['order.created'], retrySchedule: ['1s'] }));
    // More events than a page (50), none with a webhook: the list shows more on demand.
    const batch = await ctx.harness.call('POST', '/v1/events/batch', {
      token: tenant.apiKey,
      body: { events: Array.from({ length: NOISE }, (_, i) => ({ id: `noise-${String(i).padStart(2, '0')}`, type: 'noise.made', data: { i } })) },
    });
    expect(batch.status).toBe(202);
    await ctx.harness.sendEvent(tenant.apiKey, { id: 'order-paid', type: 'order.paid', data: {} });
    await ctx.harness.sendEvent(tenant.apiKey, { id: 'order-new', type: 'order.created', data: {} });
    await ctx.harness.sendEvent(other.apiKey, { id: 'order-theirs', type: 'order.created', data: {} });
    failedDeliveryId = await eventually(
      async () => (await ctx.harness.call('GET', '/v1/deliveries?status=failed', { token: tenant.apiKey })).body.deliveries[0]?.id as string | undefined,
      60_000,
      'the failed delivery',
    );
    await eventually(async () => ((await ctx.harness.call('GET', '/v1/deliveries?status=delivered', { token: tenant.apiKey })).body.deliveries.length === 2 ? true : undefined));
    // The failed delivery's `delivery.exhausted` (the service's own event) is listed too, newest.
    await eventually(async () => ((await ctx.harness.call('GET', '/v1/events?type=delivery.exhausted', { token: tenant.apiKey })).body.events.length === 1 ? true : undefined));
    ({ page, problems } = await watchedPage(await browser.newContext({ viewport: { width: 1280, height: 900 } })));
    const link = await PortalClient.link(ctx.harness, tenant.apiKey);
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(() => {
    expect(problems).toEqual([]);
  });

  it("lists the tenant's events newest first with their deliveries' counts, and shows more on demand", async () => {
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    const rows = page.locator('table.events tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(50);
    // As the API lists them: the service's delivery.exhausted, the two order events, the batch.
    const listed = (await ctx.harness.call('GET', '/v1/events?limit=100', { token: tenant.apiKey })).body.events.map((e: { id: string }) => e.id) as string[];
    expect(listed).toHaveLength(NOISE + 3);
    expect(listed.slice(1, 3)).toEqual(['order-new', 'order-paid']);
    const ids = async () => (await rows.locator('td:first-child').allInnerTexts()).map((t) => t.trim());
    expect(await ids()).toEqual(listed.slice(0, 50));
    const counts = await rows.nth(1).locator('td.counts').innerText();
    expect(counts).toMatch(/2 in all/);
    expect(counts).toMatch(/failed\s*1/);
    expect(counts).toMatch(/delivered\s*1/);
    expect(await rows.nth(3).locator('td.counts').innerText()).toBe('none');
    expect(await page.locator('main').innerText()).not.toContain('order-theirs');
    await screenshot(page, 'logs-01-events');

    await page.getByRole('button', { name: 'Show more' }).click();
    await rows.nth(NOISE + 2).waitFor();
    expect(await ids()).toEqual(listed);
    expect(await page.getByRole('button', { name: 'Show more' }).count()).toBe(0);
  });

  it("an event's failed count opens its failed deliveries, each linking to its page with Retry", async () => {
    await page.goto(url('/portal/events'));
    const row = page.locator('table.events tbody tr', { hasText: 'order-new' });
    await row.getByRole('link', { name: '1 failed deliveries of event order-new' }).click();
    await page.getByRole('heading', { name: 'Failed deliveries', level: 1 }).waitFor();
    expect(new URL(page.url()).searchParams.get('eventId')).toBe('order-new');
    const listed = page.locator('table.delivery-log tbody tr');
    await listed.first().waitFor();
    expect(await listed.count()).toBe(1);
    expect(await listed.first().innerText()).toContain(failedDeliveryId);
    expect(await listed.first().innerText()).toContain(failingWebhook);
    // All of the event's deliveries: the delivered one too.
    await page.goto(url('/portal/events'));
    await page.locator('table.events tbody tr', { hasText: 'order-new' }).getByRole('link', { name: '2 in all' }).click();
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor();
    await listed.nth(1).waitFor();
    expect((await listed.allInnerTexts()).map((t) => /delivered|failed/.exec(t)?.[0]).sort()).toEqual(['delivered', 'failed']);
  });

  it("the nav's failed deliveries page lists the tenant's failed deliveries; one opens with its attempts and Retry", async () => {
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Failed deliveries' }).click();
    await page.getByRole('heading', { name: 'Failed deliveries', level: 1 }).waitFor();
    const listed = page.locator('table.delivery-log tbody tr');
    await listed.first().waitFor();
    expect(await listed.count()).toBe(1);
    expect(await listed.first().locator('.badge').innerText()).toBe('failed');
    await screenshot(page, 'logs-02-failed-deliveries');
    // Any status, from the filter.
    await page.getByLabel('Status').selectOption('delivered');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=delivered/);
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor();
    await listed.nth(1).waitFor();
    expect(await listed.count()).toBe(2);
    await page.goBack();
    await page.getByRole('heading', { name: 'Failed deliveries', level: 1 }).waitFor();
    await listed.first().getByRole('link', { name: failedDeliveryId }).click();
    await page.locator('.attempts tbody tr').nth(1).waitFor();
    expect(await page.getByRole('button', { name: 'Retry' }).isVisible()).toBe(true);
  });

  it('a portal session reads both lists through the portal API', async () => {
    const portal = new PortalClient(ctx.harness);
    expect((await portal.open((await PortalClient.link(ctx.harness, tenant.apiKey, { readOnly: true })).token)).status).toBe(201);
    const events = await portal.call('GET', '/portal/api/v1/events?type=order.created');
    expect(events.status).toBe(200);
    expect(events.body.events).toEqual([expect.objectContaining({ id: 'order-new', deliveries: expect.objectContaining({ total: 2, failed: 1, delivered: 1 }) })]);
    const failed = await portal.call('GET', '/portal/api/v1/deliveries?status=failed');
    expect(failed.status).toBe(200);
    expect(failed.body.deliveries.map((d: { id: string }) => d.id)).toEqual([failedDeliveryId]);
  });
});
