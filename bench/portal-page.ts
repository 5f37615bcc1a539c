/**
 * The customer portal's deliveries page for a webhook with 1,000 deliveries, loaded in a real
 * browser (Debian's chromium through playwright-core, as the portal's tests drive it): from
 * navigation to the first page of deliveries drawn in the table; and the webhook's page to its
 * chart drawn, and a baseline page of the portal without API calls, loaded in turn. The deliveries are seeded into
 * the deliveries index through the product's models; the session is opened as a user does,
 * through a single-use link asked for with the tenant's API key.
 */
import { request } from 'undici';
import { chromium } from 'playwright-core';
import { connectMongo } from '../src/models';
import { createdHourOf } from '../src/models/delivery';
import { summarize, type LatencySummary } from './stats';
import type { BenchApiClient } from './api-client';
import type { BenchStack } from './stack';

export interface PortalPageResult {
  deliveries: number;
  rowsShown: number;
  /** The deliveries page: navigation to the first page of deliveries drawn in the table. */
  loadMs: LatencySummary;
  /**
   * Baseline, loaded in turn with the others so it meets the same machine load: the portal's
   * "page not found" (the same document, script and session, no API call), to its heading drawn.
   */
  baselineMs: LatencySummary;
  /** The webhook's page, to its chart of deliveries per hour (3 days of them) drawn. */
  chartPageMs: LatencySummary;
}

async function seedDeliveries(stack: BenchStack, tenantId: string, webhookId: string, count: number): Promise<void> {
  const { conn, models } = await connectMongo(stack.mongodbUri);
  try {
    const now = Date.now();
    const statuses = ['delivered', 'delivered', 'delivered', 'failed', 'retrying'] as const;
    const docs = Array.from({ length: count }, (_, i) => {
      const createdAt = new Date(now - i * 60_000);
      return {
        _id: `dlv_benchportal${String(i).padStart(5, '0')}`,
        tenantId,
        webhookId,
        eventId: `evt_benchportal${i}`,
        eventType: 'bench.portal',
        status: statuses[i % statuses.length],
        attempts: 1 + (i % 3),
        durationMs: 20 + (i % 50),
        createdAt,
        createdHour: createdHourOf(createdAt),
      };
    });
    for (let i = 0; i < docs.length; i += 500) await models.Delivery.insertMany(docs.slice(i, i + 500));
  } finally {
    await conn.close();
  }
}

export async function portalPage(api: BenchApiClient, stack: BenchStack, deliveries: number, loads: number): Promise<PortalPageResult> {
  const executablePath = process.env.CHROMIUM_PATH;
  if (!executablePath) throw new Error('CHROMIUM_PATH is not set (scripts/provision-browser.sh installs Debian\'s chromium)');
  const tenant = await api.createTenant('bench portal');
  const webhookId = await api.createWebhook(tenant, { url: 'http://127.0.0.1:9/bench-portal', events: ['bench.portal'] });
  await seedDeliveries(stack, tenant.tenantId, webhookId, deliveries);

  const link = await request(`${stack.apiUrl}/v1/portal-sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ readOnly: true }),
  });
  if (link.statusCode !== 201) throw new Error(`portal link refused: ${link.statusCode} ${await link.body.text()}`);
  const { url } = (await link.body.json()) as { url: string };

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(url);
    await page.locator('table.list').first().waitFor({ timeout: 30_000 });
    const timed = async (path: string, drawn: string, samples: number[]) => {
      const t = performance.now();
      await page.goto(`${stack.apiUrl}${path}`);
      await page.locator(drawn).first().waitFor({ timeout: 30_000 });
      samples.push(performance.now() - t);
    };
    const samples = { deliveries: [] as number[], baseline: [] as number[], chart: [] as number[] };
    let rowsShown = 0;
    for (let i = 0; i < loads; i++) {
      await timed('/portal/no-such-page', 'h1:text("Page not found")', samples.baseline);
      await timed(`/portal/webhooks/${webhookId}/deliveries`, 'table.deliveries tbody tr', samples.deliveries);
      rowsShown = await page.locator('table.deliveries tbody tr').count();
      await timed(`/portal/webhooks/${webhookId}`, '.charts svg.chart', samples.chart);
    }
    return { deliveries, rowsShown, loadMs: summarize(samples.deliveries), baselineMs: summarize(samples.baseline), chartPageMs: summarize(samples.chart) };
  } finally {
    await browser.close();
  }
}
