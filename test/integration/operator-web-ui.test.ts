import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { freePort } from '../../src/embedded/ports';
import { startTemporalDevServer, type RunningTemporal } from '../../src/embedded/temporal-dev-server';
import { launchChromium, screenshot } from '../support/browser';
import { Harness } from '../support/harness';
import { boldNames, codeSpans, guideSection, queryTable } from '../support/operator-guide';
import { requestsOf, TestReceiver } from '../support/receiver';
import { eventually } from '../support/stack';

/**
 * The operator guide's Web UI steps (docs/operations.md), performed as written in a real browser
 * against the Web UI that `npm start` serves: the bundled dev server started the same way, with
 * its UI on a free loopback port, the worker and API of a harness on it, and a real receiver.
 * Screenshots of every step go to test-results/web-ui/.
 */
const FIND = guideSection('## Find deliveries in the Temporal Web UI');
const RETRY = guideSection('### Retry one failed delivery in the Web UI');
const QUERIES = queryTable(FIND);
const SHOTS = 'web-ui';
// Longest wait for one thing the UI shows: the machine is shared and slow at times.
const UI_TIMEOUT = 30_000;

/** The guide's query for `what`, with its placeholders replaced. */
function query(what: string, values: Record<string, string> = {}): string {
  let text = QUERIES.get(what);
  if (!text) throw new Error(`docs/operations.md lists no query "${what}"`);
  for (const [placeholder, value] of Object.entries(values)) text = text.replaceAll(placeholder, value);
  return text;
}

describe('the operator guide, Web UI steps performed as written (dev server Web UI)', () => {
  let temporal: RunningTemporal;
  let harness: Harness;
  let receiver: TestReceiver;
  let browser: Browser;
  let page: Page;
  let logDir = '';
  /** Requests the browser tried to send anywhere but the dev server's loopback UI (aborted). */
  const outside: string[] = [];

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'operator-web-ui-'));
    temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port: await freePort(),
      uiPort: await freePort(),
      namespace: 'default',
      logFile: join(logDir, 'temporal.log'),
    });
    harness = await Harness.start({ temporalAddress: temporal.address });
    receiver = await new TestReceiver().start();
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const ui = new URL(temporal.uiUrl as string);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.host === ui.host) return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    await receiver?.stop();
    await temporal?.process.stop();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  type Run = { id: string; status: string };
  const main = () => page.getByRole('main');
  const shot = (name: string) => screenshot(page, name, SHOTS);

  /** The workflow ids the list shows, top to bottom, with their status. */
  async function listed(): Promise<Run[]> {
    const rows = main().getByRole('table', { name: 'Workflows' }).getByRole('row');
    const texts = await rows.allInnerTexts();
    return texts
      .map((text) => /\b(Running|Completed|Failed|Canceled|Terminated|Timed Out)\b[\s\S]*?\b((?:dlv_|event\/|op_)\S+)/i.exec(text))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ id: m[2], status: m[1].toLowerCase() }));
  }

  /**
   * Opens Workflows, pastes `text` into the raw query box and clicks Search, as the guide says;
   * then waits until the list shows exactly `expected` (top to bottom; a check for lists whose
   * order is not defined), clicking Refresh while visibility catches up.
   */
  async function search(text: string, expected: Run[] | ((rows: Run[]) => boolean)): Promise<void> {
    const matches = typeof expected === 'function' ? expected : (rows: Run[]) => JSON.stringify(rows) === JSON.stringify(expected);
    const [workflows, viewRawQuery, enterAQuery, searchButton] = boldNames(FIND);
    if (!/\/workflows(\?|$)/.test(page.url())) {
      await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: workflows, exact: true }).click();
    }
    const toggle = main().getByTestId('toggle-manual-query');
    await toggle.waitFor();
    const box = main().getByRole('searchbox', { name: enterAQuery });
    if (!(await box.isVisible())) {
      await toggle.hover();
      await page.getByRole('tooltip').filter({ hasText: viewRawQuery }).first().waitFor();
      await toggle.click();
    }
    await box.fill(text);
    await main().getByRole('button', { name: searchButton, exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('query') === text);
    const deadline = Date.now() + UI_TIMEOUT;
    let seen: Run[] = [];
    for (;;) {
      await page.waitForLoadState('networkidle', { timeout: UI_TIMEOUT }).catch(() => undefined);
      seen = await listed().catch(() => []);
      if (matches(seen)) return;
      if (Date.now() > deadline) throw new Error(`the Web UI listed ${JSON.stringify(seen)} for ${text}, expected ${typeof expected === 'function' ? expected.toString() : JSON.stringify(expected)}`);
      await main().getByRole('button', { name: 'Refresh' }).click();
    }
  }

  /** The open run's status, shown next to its workflow id, once it reads `status`. */
  const pageStatus = (status: RegExp): Locator => main().getByRole('status').filter({ hasText: status }).first();
  /** `locator` once its text contains `text` (the UI renders placeholders before its data arrives). */
  const showing = (locator: Locator, text: string | RegExp): Promise<void> => locator.filter({ hasText: text }).first().waitFor();

  /** The run id of the open run page. */
  const openRunId = (): string => /\/workflows\/[^/]+\/([^/]+)\//.exec(new URL(page.url()).pathname)?.[1] ?? '';

  /** Follows the reset notice's link to the new run; returns its id. */
  async function followResetNotice(): Promise<string> {
    const [notice, here] = boldNames(RETRY).slice(9, 11);
    await main().getByText(notice).waitFor();
    const resetRun = openRunId();
    await main().getByRole('link', { name: here, exact: true }).click();
    await page.waitForURL(() => openRunId() !== resetRun);
    return openRunId();
  }

  /** Reloads the open run until it shows `status` (the page of a running workflow is not live). */
  async function waitForStatus(status: RegExp): Promise<void> {
    await eventually(async () => {
      if (await pageStatus(status).waitFor({ timeout: 10_000 }).then(() => true, () => false)) return true;
      await page.reload();
      return undefined;
    }, 60_000, `the run to show ${status}`);
  }

  /**
   * Resets the open run as the guide says: Reset, the first `WorkflowTaskCompleted` offered, both
   * Exclude boxes unticked, a reason, Confirm. Returns the event picked.
   */
  async function reset(reason: string, shotName: string): Promise<string> {
    const [, , resetButton, , dialogName, chooseEvent, , reasonLabel, confirm] = boldNames(RETRY);
    const [, firstCompletedType] = codeSpans(RETRY);
    const dialog = page.getByRole('dialog', { name: dialogName });
    // The button is shown before the page has loaded what a reset needs, and ignores clicks until then.
    const opened = dialog.getByText(chooseEvent);
    await eventually(async () => {
      if (await opened.isVisible()) return true;
      await main().getByRole('button', { name: resetButton, exact: true }).click({ timeout: 5_000 }).catch(() => undefined);
      return opened.waitFor({ timeout: 5_000 }).then(() => true, () => undefined);
    }, 2 * UI_TIMEOUT, 'the Reset Workflow dialog');
    await dialog.locator('button:has(input)').first().click();
    const option = dialog.getByRole('option', { name: new RegExp(`^\\d+ - ${firstCompletedType}$`) }).first();
    const picked = (await option.innerText()).trim();
    await option.click();
    // Both "Exclude …" boxes stay unticked, as the guide says.
    for (const box of await dialog.getByRole('checkbox', { name: /^Exclude / }).all()) expect(await box.isChecked()).toBe(false);
    await dialog.getByRole('textbox', { name: 'Enter a reason' }).fill(reason);
    expect(await dialog.getByText(reasonLabel).count()).toBeGreaterThan(0);
    await shot(shotName);
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    return picked;
  }

  it('finds deliveries with the documented queries, reads their attempts, resets a failed one to delivered, a reset of a delivered one sends nothing, and finds a first attempt in its fan-out and a bulk requeue', async () => {
    // The names the test clicks and reads are the guide's: a renamed step fails here first.
    expect(boldNames(FIND)).toEqual([
      'Workflows', 'View raw query', 'Enter a query', 'Search', 'runs', 'Workflow ID', 'Failed', 'Running', 'Completed',
      'Timeline', 'Event History', 'User Metadata', 'Input', 'Pending Activities', 'Attempt', 'Next Retry', 'Last Failure', 'Result', 'A delivery with no `dlv_…` workflow', 'Event History', 'Local Activity',
    ]);
    expect(boldNames(RETRY)).toEqual([
      'Workflow ID', 'Failed', 'Reset', 'More Actions', 'Reset Workflow', 'Choose an Event to reset to', 'Exclude …',
      'Reason (optional)', 'Confirm', 'This Workflow has been reset', 'here', 'Completed', 'Completed', 'Terminate', 'More Actions',
    ]);
    expect(codeSpans(RETRY).slice(0, 3)).toEqual(["WorkflowId = 'dlv_…'", 'WorkflowTaskCompleted', '4 - WorkflowTaskCompleted']);

    // One event, two webhooks: one fails for good quickly, one is still retrying (next attempt in 10 minutes).
    const { apiKey, tenantId } = await harness.createTenant();
    const failing = await harness.createWebhook(apiKey, { url: receiver.url('/failing'), events: ['invoice.*'], retrySchedule: ['1s'] });
    await harness.createWebhook(apiKey, { url: receiver.url('/retrying'), events: ['invoice.*'], retrySchedule: ['1s', '10m'] });
    receiver.respondWith({ status: 500, body: 'down' });
    const startedAt = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await harness.sendEvent(apiKey, { id: 'inv-ui-1', type: 'invoice.paid', data: {} });
    const deliveryOf = (path: string) =>
      eventually(() => {
        const seen = receiver.requests.filter((r) => r.path === path);
        return seen.length >= 2 ? (seen[0].headers['webhook-id'] as string) : undefined;
      }, 60_000, `two attempts at ${path}`);
    const failedId = await deliveryOf('/failing');
    const retryingId = await deliveryOf('/retrying');
    const read = async (id: string) => (await harness.call('GET', `/v1/deliveries/${id}`, { token: apiKey })).body.delivery;
    await eventually(async () => ((await read(failedId))?.status === 'failed' ? true : undefined), 60_000, 'the failing delivery to fail');
    await eventually(async () => ((await read(retryingId))?.status === 'retrying' ? true : undefined), 60_000, 'the other delivery to retry');
    const host = new URL(receiver.url()).host;

    // Open the UI, then Workflows.
    await page.goto(temporal.uiUrl as string);
    await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: boldNames(FIND)[0], exact: true }).click();
    await page.waitForURL(/\/namespaces\/default\/workflows/);
    await shot('01-workflows');

    // The documented queries list the runs the guide says they list.
    const failedRun = { id: failedId, status: 'failed' };
    const retryingRun = { id: retryingId, status: 'running' };
    const failedRuns = query("Failed runs of webhook X's deliveries", { 'wh_…': failing.webhookId });
    await search(failedRuns, [failedRun]);
    await shot('02-query-failed-runs-of-webhook');
    await search(query('Deliveries still retrying, all tenants'), [retryingRun]);
    await shot('03-query-retrying');
    const sameRuns = (expected: Run[]) => (rows: Run[]) => rows.length === expected.length && expected.every((e) => rows.some((r) => r.id === e.id && r.status === e.status));
    await search(query('Every delivery of one event', { 'ten_…': tenantId, 'order-42': 'inv-ui-1' }), sameRuns([failedRun, retryingRun]));
    await search(query('Failed runs of one event type today', { '2026-11-23T00:00:00Z': startedAt }), [failedRun]);
    // The event's fan-out, and those of the operational events the service raised (delivery.exhausted).
    await search(query("A tenant's fan-outs", { 'ten_…': tenantId }), (rows) =>
      rows.some((r) => r.id === `event/${tenantId}/inv-ui-1` && r.status === 'completed') && rows.every((r) => r.id.startsWith(`event/${tenantId}/`)),
    );
    await shot('04-query-fanouts');

    // A running delivery: Pending Activities shows the deliver activity, its attempt count, next attempt and last failure.
    await search(query('Deliveries still retrying, all tenants'), [retryingRun]);
    await main().getByRole('link', { name: retryingId, exact: true }).first().click();
    await page.waitForURL(new RegExp(`/workflows/${retryingId}/`));
    await pageStatus(/^\s*Running\s*$/i).waitFor();
    await main().getByRole('tab', { name: /^Pending Activities/ }).click();
    await main().getByText('deliver', { exact: true }).filter({ visible: true }).first().waitFor();
    await main().getByText('Next Retry', { exact: true }).filter({ visible: true }).first().waitFor();
    const pendingText = await main().innerText();
    for (const label of ['Attempt', 'Next Retry', 'Last Failure']) expect(pendingText).toContain(label);
    // The activity's own count (attempt 1 was the fan-out's), with no maximum: the log ends the delivery.
    expect(pendingText).toMatch(/Attempt\s+2\s*\/\s*UNLIMITED/i);
    expect(pendingText).toContain('"message": "HTTP 500"');
    await shot('05-retrying-pending-activities');
    // Terminate is under More Actions (not clicked: the delivery keeps retrying).
    await main().getByRole('button', { name: 'More Actions' }).click();
    await page.getByText('Terminate', { exact: true }).filter({ visible: true }).first().waitFor();
    await shot('06-more-actions');
    await page.keyboard.press('Escape');

    // Step 1: find the failed delivery with the first query and open it.
    await search(failedRuns, [failedRun]);
    await main().getByRole('link', { name: failedId, exact: true }).first().click();
    await page.waitForURL(new RegExp(`/workflows/${failedId}/`));
    await pageStatus(/^\s*Failed\s*$/i).waitFor();
    await showing(main().getByRole('textbox', { name: 'Input' }), '"firstAttempt"');
    // It opens on Timeline, as the guide says; the events are on the tab beside it.
    const timeline = main().getByRole('tab', { name: /^Timeline/ });
    await eventually(async () => ((await timeline.getAttribute('aria-selected')) === 'true' ? true : undefined), UI_TIMEOUT, 'the Timeline tab selected');
    await main().getByRole('tab', { name: /^Event History/ }).click();
    const history = main().getByRole('table').last();
    await showing(history.getByRole('row').filter({ hasText: 'Workflow Execution Started' }), `invoice.paid → ${host}`);
    await showing(history.getByRole('row').filter({ hasText: 'Workflow Execution Failed' }), 'delivery failed: HTTP 500 (attempt 2, the last)');
    const lastActivity = history.getByRole('row').filter({ hasText: 'Activity Task Failed' }).first();
    await lastActivity.getByRole('button', { name: 'Expand details' }).click();
    await showing(main(), /"statusCode":\s*500/);
    await shot('07-failed-delivery-history');
    await main().getByRole('tab', { name: 'User Metadata' }).click();
    await main().getByRole('heading', { name: 'Summary' }).waitFor();
    await page.frameLocator('iframe').first().getByText(`invoice.paid → ${host}`).waitFor();
    await shot('08-failed-delivery-summary');
    // ...and check that it is the delivery's latest run.
    const runsOf = (id: string) => codeSpans(RETRY)[0].replace('dlv_…', id);
    await search(runsOf(failedId), [failedRun]);

    // Step 2, once the receiver is fixed: Reset to the first WorkflowTaskCompleted, with a reason, Confirm.
    receiver.respondWith({ status: 200, body: 'ok' });
    await main().getByRole('link', { name: failedId, exact: true }).first().click();
    await page.waitForURL(new RegExp(`/workflows/${failedId}/`));
    await pageStatus(/^\s*Failed\s*$/i).waitFor();
    expect(await reset('receiver fixed', '09-reset-dialog')).toBe(codeSpans(RETRY)[2]);

    // Step 3: the notice links to the new run, which delivers and ends Completed.
    await main().getByText(boldNames(RETRY)[9]).waitFor();
    await shot('10-reset-notice');
    const retryRun = await followResetNotice();
    await waitForStatus(/^\s*Completed\s*$/i);
    await showing(main().getByRole('textbox', { name: 'Result' }), /"statusCode":\s*200/);
    await shot('11-reset-run-completed');
    expect(requestsOf(receiver.requests, failedId).map((r) => r.path)).toEqual(['/failing', '/failing', '/failing']);
    const attempts = (d: { attempts: Array<{ attempt: number; statusCode: number }> }) => d.attempts.map((a) => [a.attempt, a.statusCode]);
    const delivered = await eventually(async () => {
      const d = await read(failedId);
      return d?.status === 'delivered' ? d : undefined;
    }, 30_000, 'the API to read the delivery as delivered');
    expect(attempts(delivered)).toEqual([[1, 500], [2, 500], [3, 200]]);
    // The old failed run is still listed as failed by the first query; the delivery's runs, newest first, say delivered.
    await search(failedRuns, [failedRun]);
    await search(runsOf(failedId), [{ id: failedId, status: 'completed' }, failedRun]);
    await shot('12-runs-of-delivery');

    // A delivered delivery reset the same way sends nothing: its new run ends Completed without a request.
    await main().getByRole('link', { name: failedId, exact: true }).first().click();
    await waitForStatus(/^\s*Completed\s*$/i);
    const sentBefore = receiver.requests.length;
    expect(await reset('operator reset of a delivered delivery', '13-reset-delivered-dialog')).toMatch(/^\d+ - WorkflowTaskCompleted$/);
    const deliveredReset = await followResetNotice();
    expect(deliveredReset).not.toBe(retryRun);
    await waitForStatus(/^\s*Completed\s*$/i);
    await shot('14-reset-delivered-completed');
    // That run ends Completed, and it is the delivery's latest. (The page can show the previous
    // run's status for a moment after the notice's link: the server says when the new one ends.)
    const latest = await eventually(async () => {
      const d = await harness.client.workflow.getHandle(failedId).describe();
      return d.status.name === 'RUNNING' ? undefined : d;
    }, 60_000, 'the reset run to end');
    expect([latest.runId, latest.status.name]).toEqual([deliveredReset, 'COMPLETED']);
    // Long enough for any attempt the reset could have scheduled: the schedule's delay (1 s) and the
    // retry policy's fallback interval (10 s), with room to spare.
    const quietUntil = Date.now() + 15_000;
    await eventually(() => {
      if (receiver.requests.length !== sentBefore) throw new Error(`the receiver got ${receiver.requests.length - sentBefore} more request(s) after the reset of a delivered delivery`);
      return Date.now() > quietUntil ? true : undefined;
    }, 30_000, 'a quiet receiver');
    const after = await read(failedId);
    expect(after.status).toBe('delivered');
    expect(attempts(after)).toEqual([[1, 500], [2, 500], [3, 200]]);
    expect(requestsOf(receiver.requests, retryingId)).toHaveLength(2);

    // A first attempt made inline is in a Local Activity event of the event's fan-out (a batch), summarised with hosts and delivery ids.
    const fanoutId = `event/${tenantId}/inv-ui-1`;
    await search(query("A tenant's fan-outs", { 'ten_…': tenantId }), (rows) => rows.some((r) => r.id === fanoutId));
    await main().getByRole('link', { name: fanoutId, exact: true }).first().click();
    await waitForStatus(/^\s*Completed\s*$/i);
    await main().getByRole('tab', { name: /^Event History/ }).click();
    const fanoutHistory = main().getByRole('table').last();
    await fanoutHistory.getByRole('row').filter({ hasText: 'Workflow Execution Completed' }).first().waitFor({ timeout: UI_TIMEOUT });
    await shot('15-fanout-history');
    const marker = fanoutHistory.getByRole('row').filter({ hasText: boldNames(FIND).at(-1)! }).filter({ hasText: 'deliverAndRecordFirstAttempts' }).filter({ hasText: `first attempts: POST ${host} (` }).filter({ hasText: failedId });
    await marker.first().waitFor({ timeout: UI_TIMEOUT });
    await marker.first().getByRole('button', { name: 'Expand details' }).click();
    // Its result: per delivery of the batch, the outcome, then the attempt record. The box draws
    // only the lines in view: an operator scrolls it to the delivery, as the test does.
    const entry = main().filter({
      hasText: new RegExp(`"deliveryId": "${failedId}",\\s+"webhookId": "${failing.webhookId}",\\s+"outcome": "retry",\\s+"attempt": \\{\\s+"attempt": 1,`),
    });
    await main().getByText('"deliveryId"').first().hover({ timeout: UI_TIMEOUT });
    for (let scrolls = 0; scrolls < 20 && !(await entry.count()); scrolls++) {
      await page.mouse.wheel(0, 120);
      await page.waitForTimeout(250);
    }
    await entry.first().waitFor();
    await page.mouse.wheel(0, 500);
    await shot('16-fanout-first-attempt-marker');

    // A bulk requeue (admin API) is listed by the guide's query, Completed once it has run.
    const op = await harness.call('POST', '/v1/admin/requeue', { token: harness.adminToken, body: { tenantId, webhookId: failing.webhookId } });
    expect(op.status).toBe(202);
    await eventually(async () => {
      const d = await harness.client.workflow.getHandle(op.body.operationId).describe();
      return d.status.name === 'COMPLETED' ? true : undefined;
    }, 60_000, 'the bulk requeue to complete');
    await search(query('Bulk requeue operations'), (rows) => rows.some((r) => r.id === op.body.operationId && r.status === 'completed'));
    await shot('17-query-requeue-operations');

    // The Web UI fetched nothing from outside the dev server.
    expect(outside).toEqual([]);
  }, 400_000);
});
