/**
 * The customer portal's deliveries page for a webhook with 1,000 deliveries, loaded in a real
 * browser (Debian's chromium through playwright-core, as the portal's tests drive it): from
 * navigation to the first page of deliveries drawn in the table; and the webhook's page to its
 * chart drawn, and a baseline page of the portal without API calls, loaded in turn. The deliveries are seeded into
 * the deliveries index through the product's models; the session is opened as a user does,
 * through a single-use link asked for with the tenant's API key.
 */
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
  /** Where each page's time went, p50 over its loads, from the browser's own clocks. */
  breakdown: Record<'deliveries' | 'baseline' | 'chart', PageBreakdown>;
}

/**
 * p50 of the browser's timings of one page (ms from the start of its navigation, by the page's
 * own clock), so a load's time can be split: the document (answered by the server), its scripts
 * (executed at domContentLoaded), the API calls, the element drawn, and what the harness adds
 * around them (`harnessMs`: the load measured from outside minus the element drawn inside).
 */
export interface PageBreakdown {
  documentResponseStart: number | null;
  documentResponseEnd: number | null;
  domContentLoaded: number | null;
  loadEvent: number | null;
  /** The document parsed (deferred and module scripts run after it). */
  domInteractive: number | null;
  /** The last stylesheet or script in (from the cache or the network). */
  assetsEnd: number | null;
  /** The element the load waits for, drawn (a MutationObserver installed before the page's scripts). */
  drawn: number | null;
  harnessMs: number | null;
  /** Resources fetched from the network (not the memory or HTTP cache), per load. */
  assetsFetched: number | null;
  /** Each API call: its start and end in the page. */
  api: Record<string, { start: number | null; end: number | null }>;
}

interface LoadTiming {
  documentResponseStart: number;
  documentResponseEnd: number;
  domContentLoaded: number;
  loadEvent: number;
  domInteractive: number;
  assetsEnd: number;
  drawn: number;
  assetsFetched: number;
  api: { name: string; start: number; end: number }[];
}

/** What the loads wait for: the baseline's heading, the deliveries' first row, the chart. */
const DRAWN = ['main h1', 'table.deliveries tbody tr', '.charts svg.chart'];

/**
 * Installed in every document before its scripts (as text: this file is compiled without the
 * DOM's types): records when the first element matching a selector appears, by the page's clock,
 * and lets the bench wait for that moment (`benchWhenDrawn`) without polling. Playwright's
 * `locator.waitFor` polls with a backoff (checks 0, 20, 70, 170 and 270 ms after it starts, then
 * every 500 ms), which added up to 100 ms (500 ms past 270 ms) to a page drawn between two checks,
 * and nothing to one drawn before `page.goto` returned (the baseline).
 */
const DRAWN_OBSERVER = `
  window.benchDrawn = {};
  const waiting = [];
  const check = () => {
    for (const selector of ${JSON.stringify(DRAWN)})
      if (window.benchDrawn[selector] === undefined && document.querySelector(selector)) window.benchDrawn[selector] = performance.now();
    for (const w of waiting.splice(0)) window.benchDrawn[w.selector] === undefined ? waiting.push(w) : w.resolve();
  };
  window.benchWhenDrawn = (selector) => new Promise((resolve) => { waiting.push({ selector, resolve }); check(); });
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
`;

/** The browser's timings of the page just loaded, by its own clock (ms from navigation start). */
const timingsOf = (selector: string) => `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {
    documentResponseStart: nav.responseStart,
    documentResponseEnd: nav.responseEnd,
    domContentLoaded: nav.domContentLoadedEventEnd,
    loadEvent: nav.loadEventEnd,
    domInteractive: nav.domInteractive,
    assetsEnd: Math.max(0, ...resources.filter((r) => !r.name.includes('/portal/api/')).map((r) => r.responseEnd)),
    drawn: window.benchDrawn[${JSON.stringify(selector)}] ?? NaN,
    // transferSize 0: served from a cache (same origin, so the browser tells).
    assetsFetched: resources.filter((r) => r.transferSize > 0 && !r.name.includes('/portal/api/')).length,
    api: resources
      .filter((r) => r.name.includes('/portal/api/'))
      .map((r) => ({ name: new URL(r.name).pathname.replace(/\\/(wh|dlv)_[^/]+/g, '/{id}'), start: r.startTime, end: r.responseEnd })),
  };
})()`;

function breakdownOf(loads: LoadTiming[], outside: number[]): PageBreakdown {
  const p50 = (values: number[]) => summarize(values).p50;
  const names = [...new Set(loads.flatMap((l) => l.api.map((a) => a.name)))];
  return {
    documentResponseStart: p50(loads.map((l) => l.documentResponseStart)),
    documentResponseEnd: p50(loads.map((l) => l.documentResponseEnd)),
    domContentLoaded: p50(loads.map((l) => l.domContentLoaded)),
    loadEvent: p50(loads.map((l) => l.loadEvent)),
    domInteractive: p50(loads.map((l) => l.domInteractive)),
    assetsEnd: p50(loads.map((l) => l.assetsEnd)),
    drawn: p50(loads.map((l) => l.drawn)),
    harnessMs: p50(loads.map((l, i) => outside[i] - l.drawn)),
    assetsFetched: p50(loads.map((l) => l.assetsFetched)),
    api: Object.fromEntries(
      names.map((name) => {
        const calls = loads.flatMap((l) => l.api.filter((a) => a.name === name));
        return [name, { start: p50(calls.map((c) => c.start)), end: p50(calls.map((c) => c.end)) }];
      }),
    ),
  };
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

  const { url } = await api.client(tenant.apiKey).post('/v1/portal-sessions', { body: { readOnly: true } });

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
  try {
    const page = await (await browser.newContext()).newPage();
    await page.addInitScript({ content: DRAWN_OBSERVER });
    await page.goto(url);
    await page.locator('table.list').first().waitFor({ timeout: 30_000 });
    const timed = async (path: string, drawn: string, samples: number[], timings: LoadTiming[]) => {
      const t = performance.now();
      await page.goto(`${stack.apiUrl}${path}`);
      await page.evaluate(`Promise.race([window.benchWhenDrawn(${JSON.stringify(drawn)}), new Promise((_, reject) => setTimeout(() => reject(new Error('not drawn in 30 s')), 30000))])`);
      samples.push(performance.now() - t);
      // What the user sees, checked outside the timed part: the element drawn is visible.
      await page.locator(drawn).first().waitFor({ timeout: 30_000 });
      timings.push((await page.evaluate(timingsOf(drawn))) as LoadTiming);
    };
    const samples = { deliveries: [] as number[], baseline: [] as number[], chart: [] as number[] };
    const timings = { deliveries: [] as LoadTiming[], baseline: [] as LoadTiming[], chart: [] as LoadTiming[] };
    let rowsShown = 0;
    for (let i = 0; i < loads; i++) {
      await timed('/portal/no-such-page', 'main h1', samples.baseline, timings.baseline);
      if ((await page.locator('main h1').textContent()) !== 'Page not found') throw new Error('the baseline page is not "Page not found"');
      await timed(`/portal/webhooks/${webhookId}/deliveries`, 'table.deliveries tbody tr', samples.deliveries, timings.deliveries);
      rowsShown = await page.locator('table.deliveries tbody tr').count();
      await timed(`/portal/webhooks/${webhookId}`, '.charts svg.chart', samples.chart, timings.chart);
    }
    return {
      deliveries,
      rowsShown,
      loadMs: summarize(samples.deliveries),
      baselineMs: summarize(samples.baseline),
      chartPageMs: summarize(samples.chart),
      breakdown: {
        deliveries: breakdownOf(timings.deliveries, samples.deliveries),
        baseline: breakdownOf(timings.baseline, samples.baseline),
        chart: breakdownOf(timings.chart, samples.chart),
      },
    };
  } finally {
    await browser.close();
  }
}
