/**
 * Captures workflow histories for the replay test (replay.test.ts). Not part of `npm test`: run it
 * against the code whose histories must keep replaying, before changing a workflow:
 *   HISTORY_SET=<name> npm test -- --testMatch '**\/capture-histories.ts'
 * It writes test/replay/histories/<name>/<scenario>.json, one file per workflow run, covering a
 * delivered delivery, one retried then delivered, a failed one, a 410, a canceled one, a fan-out
 * over several pages, a bulk requeue, a resend of a delivered delivery and a delivery canceled
 * while its attempt is in flight, and (since v10) a first attempt that could not be made (its
 * secret unreadable: a failure of the service's own parts) whose delivery waits it out, and
 * (since v11) a FIFO webhook's fan-out, its line's sequencer and a delivery it ran (retried once),
 * and (since v12) fan-outs that hold first attempts: two slow receivers (one answers 2xx, the other
 * fails and its delivery is retried) and a rate-limited webhook's second event waiting for its slot.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { eventWorkflowId, fifoSequencerWorkflowId } from '../../src/temporal/workflow-ids';
import { SecretBox } from '../../src/crypto/secret-box';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';
import { FANOUT_PAGE_SIZE, FANOUT_PAGES_PER_RUN } from '../../src/workflows/event-fanout-workflow';

/** One more webhook than a fan-out run pages through: the fan-out continues as new once. */
const FANOUT_WEBHOOKS = FANOUT_PAGE_SIZE * FANOUT_PAGES_PER_RUN + 1;

const set = process.env.HISTORY_SET;
const out = join(__dirname, 'histories', set ?? 'unnamed');

describe('capture histories', () => {
  const ctx = useHarness({ receivers: 4 });

  it('captures every workflow type in each of its outcomes', async () => {
    if (!set) throw new Error('set HISTORY_SET to name the captured set');
    mkdirSync(out, { recursive: true });
    const h = ctx.harness;
    const { apiKey, tenantId } = await h.createTenant();
    const [ok, flaky, down, gone] = ctx.receivers;
    flaky.respondWith({ status: 500, body: 'once' }, { status: 200, body: 'ok' });
    down.respondWith({ status: 500, body: 'down' });
    gone.respondWith({ status: 410, body: 'gone' });
    const hook = async (url: string, type: string, extra: Record<string, unknown> = {}) =>
      (await h.createWebhook(apiKey, { url, events: [type], retrySchedule: ['1s'], ...extra })).webhookId;
    await hook(ok.url(), 'capture.delivered');
    await hook(flaky.url(), 'capture.retried');
    const downHook = await hook(down.url(), 'capture.failed');
    await hook(gone.url(), 'capture.gone');
    const cancelHook = await hook(down.url('/cancel'), 'capture.canceled', { retrySchedule: ['1h'] });
    await hook(flaky.url('/mid'), 'capture.midrequest', { timeoutSeconds: 30 });
    for (let i = 0; i < FANOUT_WEBHOOKS; i++) await hook(ok.url('/many'), 'capture.fanout');

    // The CLI writes the JSON form that the Web UI downloads and `historyFromJSON` reads.
    const save = (name: string, workflowId: string, runId: string) =>
      writeFileSync(
        join(out, `${name}.json`),
        execFileSync(process.env.TEMPORAL_CLI as string, ['workflow', 'show', '--address', process.env.TEMPORAL_ADDRESS as string, '-w', workflowId, '-r', runId, '-o', 'json']),
      );
    const runs = new Map<string, string>();
    const capture = async (name: string, workflowId: string, optional = false) => {
      const described = await eventually(async () => {
        const d = await h.client.workflow.getHandle(workflowId).describe().catch(() => (optional ? null : undefined));
        return d === null || (d && d.status.name !== 'RUNNING') ? d : undefined;
      }, 120_000, `${name} to close`);
      // Since first attempts run inline, a delivery that needed no retry has no workflow of its own.
      if (!described) return;
      save(name, workflowId, described.runId);
      runs.set(name, described.runId);
    };
    const fanoutOf = (eventId: string) => eventWorkflowId(tenantId, eventId);
    const deliveryOf = async (eventId: string) => {
      const res = await eventually(async () => {
        const r = await h.call('GET', `/v1/events/${eventId}`, { token: apiKey });
        return r.body?.deliveries?.length ? r : undefined;
      }, 60_000, `deliveries of ${eventId}`);
      return res.body.deliveries[0].id as string;
    };

    for (const kind of ['delivered', 'retried', 'failed', 'gone', 'canceled']) {
      await h.sendEvent(apiKey, { id: `ev-${kind}`, type: `capture.${kind}`, data: { kind } });
    }
    await h.sendEvent(apiKey, { id: 'ev-fanout', type: 'capture.fanout', data: { many: true } });
    const cancelDelivery = await deliveryOf('ev-canceled');
    await eventually(async () => (down.requests.some((r) => r.path === '/cancel') ? true : undefined), 30_000, 'the first attempt to cancel');
    await h.call('PATCH', `/v1/webhooks/${cancelHook}`, { token: apiKey, body: { active: false } });
    await h.client.workflow.getHandle(cancelDelivery).cancel();

    for (const kind of ['delivered', 'retried', 'failed', 'gone']) {
      await capture(`fanout-${kind}`, fanoutOf(`ev-${kind}`));
      await capture(`delivery-${kind}`, await deliveryOf(`ev-${kind}`), kind === 'delivered' || kind === 'gone');
    }
    await capture('delivery-canceled', cancelDelivery);
    // The fan-out continues as new after its first run's pages.
    await capture('fanout-page-2', fanoutOf('ev-fanout'));
    const last = await h.client.workflow.getHandle(fanoutOf('ev-fanout')).fetchHistory();
    const firstRun = last.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!firstRun) throw new Error('the fan-out did not continue as new');
    save('fanout-page-1', fanoutOf('ev-fanout'), firstRun);

    down.respondWith({ status: 200, body: 'recovered' });
    const failedDelivery = await deliveryOf('ev-failed');
    const op = await h.call('POST', '/v1/admin/requeue', { token: h.adminToken, body: { tenantId, webhookId: downHook } });
    expect(op.status).toBe(202);
    await eventually(async () => {
      const r = await h.call('GET', `/v1/admin/operations/${op.body.operationId}`, { token: h.adminToken });
      return r.body.operation.status === 'completed' ? true : undefined;
    }, 60_000, 'the requeue');
    await capture('requeue', op.body.operationId);
    await eventually(async () => {
      const d = await h.client.workflow.getHandle(failedDelivery).describe();
      return d.runId !== runs.get('delivery-failed') && d.status.name === 'COMPLETED' ? true : undefined;
    }, 60_000, 'the requeued delivery');
    await capture('delivery-requeued', failedDelivery);

    // A resend of the delivery delivered on its first attempt: a run of its own.
    const resent = await deliveryOf('ev-delivered');
    expect((await h.call('POST', `/v1/deliveries/${resent}/resend`, { token: apiKey })).status).toBe(202);
    await capture('delivery-resent', resent);

    // Canceled while its second attempt waits for the receiver's answer: the attempt is aborted.
    flaky.respondWith({ status: 500, body: 'once' }, { status: 200, body: 'late', delayMs: 20_000 });
    await h.sendEvent(apiKey, { id: 'ev-canceled-mid', type: 'capture.midrequest', data: { kind: 'canceled-mid' } });
    const held = await eventually(() => flaky.requests.filter((r) => JSON.parse(r.body).id === 'ev-canceled-mid')[1], 30_000, 'the held attempt');
    await h.client.workflow.getHandle(held.headers['webhook-id'] as string).cancel();
    await capture('delivery-canceled-mid-request', held.headers['webhook-id'] as string);

    // A first attempt that cannot be made (a secret under a key this deployment lacks): the
    // delivery's own workflow retries it without spending an attempt until the key is back.
    const lockedHook = await hook(ok.url('/locked'), 'capture.notmade');
    const secret = generateWebhookSecret();
    await h.models.Webhook.updateOne({ _id: lockedHook }, { secret: new SecretBox('k-other', randomBytes(32)).encrypt(secret) });
    await h.sendEvent(apiKey, { id: 'ev-not-made', type: 'capture.notmade', data: { kind: 'not-made' } });
    const notMade = await deliveryOf('ev-not-made');
    await eventually(async () => {
      const pending = (await h.client.workflow.getHandle(notMade).describe().catch(() => undefined))?.raw.pendingActivities?.[0];
      return (pending?.attempt ?? 0) >= 2 ? true : undefined;
    }, 60_000, 'the delivery to retry the attempt it could not make');
    await h.models.Webhook.updateOne({ _id: lockedHook }, { secret: h.secretBox.encrypt(secret) });
    await capture('fanout-not-made', fanoutOf('ev-not-made'));
    await capture('delivery-not-made', notMade);

    // A FIFO webhook beside an unordered one: the fan-out hands its delivery to the line, whose
    // sequencer runs it as a child (retried once) and ends after its idle minute.
    flaky.respondWith({ status: 500, body: 'once' }, { status: 200, body: 'ok' });
    const fifoHook = await hook(flaky.url('/fifo'), 'capture.fifo', { ordering: 'fifo' });
    await hook(ok.url('/beside-fifo'), 'capture.fifo');
    await h.sendEvent(apiKey, { id: 'ev-fifo', type: 'capture.fifo', data: { kind: 'fifo' } });
    await capture('fanout-fifo', fanoutOf('ev-fifo'));
    const fifoDelivery = (await h.models.Delivery.findOne({ eventId: 'ev-fifo', webhookId: fifoHook }).lean())!._id;
    await capture('delivery-fifo', fifoDelivery);
    await capture('fifo-sequencer', fifoSequencerWorkflowId(tenantId, fifoHook));

    // A fan-out that holds first attempts: one slow to answer 2xx, one slow to fail (its retry a
    // workflow of its own), settled by the fan-out once their requests' time is up.
    down.respondWith({ status: 200, body: 'slow', delayMs: 2500 });
    gone.respondPerDelivery({ status: 503, body: 'slow', delayMs: 1500 }, { status: 200, body: 'ok' });
    await hook(down.url('/held-ok'), 'capture.held', { timeoutSeconds: 4 });
    const slowFailHook = await hook(gone.url('/held-fail'), 'capture.held', { timeoutSeconds: 4 });
    await h.sendEvent(apiKey, { id: 'ev-held', type: 'capture.held', data: { kind: 'held' } });
    await capture('fanout-held', fanoutOf('ev-held'));
    const heldRetry = (await h.models.Delivery.findOne({ eventId: 'ev-held', webhookId: slowFailHook }).lean())!._id;
    await capture('delivery-held', heldRetry);
    // Two events at once to a webhook limited to 1/s: the second's fan-out holds it for its slot.
    await hook(ok.url('/paced'), 'capture.paced', { rateLimitPerSecond: 1 });
    await Promise.all(['ev-paced-1', 'ev-paced-2'].map((id) => h.sendEvent(apiKey, { id, type: 'capture.paced', data: { kind: 'paced' } })));
    await capture('fanout-paced-1', fanoutOf('ev-paced-1'));
    await capture('fanout-paced-2', fanoutOf('ev-paced-2'));
  }, 480_000);
});
