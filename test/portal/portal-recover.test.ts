import type { Browser } from 'playwright-core';
import { DEFAULT_CIRCUIT_POLICY } from '../../src/delivery/circuit-policy';
import { deliveryId } from '../../src/ids';
import { launchChromium, screenshot, watchedPage } from '../support/browser';
import { PortalClient } from '../support/portal-client';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * The webhook page's "Recover failed deliveries since…" in a real browser (Debian's chromium)
 * against the real stack: failed deliveries are sent again and the page follows the operation to
 * its counts; a read-only session is not offered it.
 */
describe('customer portal: recover failed deliveries', () => {
  const ctx = useHarness({ receivers: 1, activities: { circuit: { ...DEFAULT_CIRCUIT_POLICY, enabled: false } } });
  let browser: Browser;
  let acme: { tenantId: string; apiKey: string };
  let webhookId = '';
  const failing = ['rec-0', 'rec-1', 'rec-2'];
  const url = (path: string) => ctx.harness.baseUrl + path;

  beforeAll(async () => {
    browser = await launchChromium();
    acme = await ctx.harness.createTenant('Acme');
    ({ webhookId } = await ctx.harness.createWebhook(acme.apiKey, { url: ctx.receiver.url('/recover'), events: ['order.*'], retrySchedule: ['1s'] }));
    ctx.receiver.respondWith({ status: 500, body: 'down' });
    for (const id of failing) await ctx.harness.sendEvent(acme.apiKey, { id, type: 'order.paid', data: {} });
    await eventually(
      async () => ((await ctx.harness.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed`, { token: acme.apiKey })).body.deliveries.length === failing.length ? true : undefined),
      60_000,
      'three failed deliveries',
    );
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('recovers since a day ago: the receiver gets each failed delivery once more, the page shows the counts', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page, problems } = await watchedPage(context);
    await page.goto((await PortalClient.link(ctx.harness, acme.apiKey)).url);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.goto(url(`/portal/webhooks/${webhookId}`));
    const since = page.getByLabel('Recover failed deliveries since');
    await since.waitFor();
    // Starts a day back, in the browser's time zone (minutes: a datetime-local value).
    const defaultSince = new Date(await since.inputValue()).getTime();
    expect(Math.abs(defaultSince - (Date.now() - 86_400_000))).toBeLessThan(5 * 60_000);

    // A start in the future: the API's refusal, named in the form's words.
    await since.fill(toLocalInput(new Date(Date.now() + 3_600_000)));
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.locator('.recover .error', { hasText: 'Since: must not be in the future' }).waitFor();

    ctx.receiver.respondWith({ status: 200, body: 'ok' });
    const before = ctx.receiver.requests.length;
    await since.fill(toLocalInput(new Date(Date.now() - 3_600_000)));
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.getByText('Recover completed: 3 deliveries sent again.').waitFor({ timeout: 60_000 });
    const facts = await page.locator('.recover-status dl.facts').innerText();
    expect(facts).toMatch(/Status\s+completed/);
    expect(facts).toMatch(/Matched\s+3/);
    expect(facts).toMatch(/Sent again\s+3/);
    expect(facts).toMatch(/Skipped\s+0/);
    expect(facts).toMatch(/Errors\s+0/);
    await screenshot(page, '30-webhook-recovered');

    const resent = await eventually(() => (ctx.receiver.requests.length - before === failing.length ? ctx.receiver.requests.slice(before) : undefined), 60_000, 'the three deliveries sent again');
    expect(new Set(resent.map((r) => r.headers['webhook-id']))).toEqual(new Set(failing.map((id) => deliveryId(acme.tenantId, id, webhookId))));
    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('is not offered to a read-only session, and fits a 360 px screen', async () => {
    const readOnly = await browser.newContext();
    const { page: ro, problems } = await watchedPage(readOnly);
    await ro.goto((await PortalClient.link(ctx.harness, acme.apiKey, { readOnly: true })).url);
    await ro.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await ro.goto(url(`/portal/webhooks/${webhookId}`));
    await ro.locator('h1.url').waitFor();
    await ro.locator('svg.chart').first().waitFor();
    expect(await ro.locator('.recover').count()).toBe(0);
    expect(await ro.getByText('Recover failed deliveries').count()).toBe(0);
    expect(problems).toEqual([]);
    await readOnly.close();

    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const { page: small, problems: smallProblems } = await watchedPage(phone);
    await small.goto((await PortalClient.link(ctx.harness, acme.apiKey)).url);
    await small.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await small.goto(url(`/portal/webhooks/${webhookId}`));
    await small.getByLabel('Recover failed deliveries since').waitFor();
    expect(await small.evaluate('document.documentElement.scrollWidth')).toBe(360);
    await screenshot(small, '31-mobile-recover');
    expect(smallProblems).toEqual([]);
    await phone.close();
  }, 60_000);
});

/** A datetime-local input's value for `date` in this process's time zone (the browser's: same machine). */
function toLocalInput(date: Date): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
