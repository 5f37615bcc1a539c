import { webhookResponseSchema } from '../../src/api/schemas/webhook';
import { deliveryId } from '../../src/ids';
import { requestsOf, type TestReceiver } from '../support/receiver';
import { valid } from '../support/shapes';
import { eventually } from '../support/stack';
import { useHarness } from '../support/use-harness';

/**
 * Circuit breakers per webhook, against a real receiver: 10 consecutive failed attempts open the
 * circuit; while it is open no request is made and deliveries wait without spending attempts;
 * one probe at a time, its wait doubling while probes fail; a 2xx probe closes it and the waiting
 * deliveries go out within seconds; a delivery never waits past its last scheduled attempt.
 * Probes here come after 4 s (doubling up to 8 s) instead of 30 s (doubling up to 10 min).
 */
describe('circuit breakers', () => {
  const circuit = { enabled: true, consecutiveFailures: 10, failureRatePercent: 70, minimumAttempts: 10, windowMs: 300_000, firstProbeAfterMs: 4000, longestProbeAfterMs: 8000 };
  const metricsToken = `mtr_${'c'.repeat(32)}`;
  const ctx = useHarness({ receivers: 3, activities: { circuit }, metricsToken });
  /** The value of one sample of the service's metrics, 0 when absent. */
  const metric = async (name: string, labels: string) => {
    const text = await (await fetch(`${ctx.harness.baseUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const transitions = async () =>
    Promise.all(['open', 'half-open', 'closed'].map((state) => metric('webhook_circuit_transitions_total', `state="${state}"`)));
  let apiKey: string;
  let tenantId: string;

  beforeAll(async () => {
    ({ apiKey, tenantId } = await ctx.harness.createTenant('Circuits'));
  });

  const webhookOf = async (id: string) => valid(webhookResponseSchema, (await ctx.harness.call('GET', `/v1/webhooks/${id}`, { token: apiKey })).body).webhook;
  const deliveryOf = async (eventId: string, webhookId: string) =>
    (await ctx.harness.call('GET', `/v1/deliveries/${deliveryId(tenantId, eventId, webhookId)}`, { token: apiKey })).body.delivery;
  const send = async (prefix: string, count: number, type = 'order.paid') => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push(await ctx.harness.sendEvent(apiKey, { id: `${prefix}-${i}`, type, data: { i } }));
    return ids;
  };
  const opsEvents = (receiver: TestReceiver, type: string, webhookId: string) =>
    receiver.requests.map((r) => JSON.parse(r.body)).filter((e) => e.type === type && e.data.webhookId === webhookId);

  it('opens after 10 consecutive failures, sends nothing while open, closes on a 2xx probe and sends the waiting deliveries at once', async () => {
    const [receiver, ops] = ctx.receivers;
    receiver.respondWith({ status: 500 });
    // A schedule whose next attempts all come due while the circuit is open.
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/orders'), events: ['order.*'], retrySchedule: ['1s', '1m'] });
    await ctx.harness.createWebhook(apiKey, { url: ops.url('/ops'), events: ['webhook.circuit_opened', 'webhook.circuit_closed'] });

    const [transitionsBefore, firstWaitsBefore] = [await transitions(), await metric('webhook_delivery_circuit_waits_total', 'wait="first"')];
    const failed = await send('open', 10);
    const opened = await eventually(async () => {
      const webhook = await webhookOf(webhookId);
      return webhook.circuit.state === 'open' ? webhook.circuit : undefined;
    }, 20_000, 'the circuit to open');
    expect(receiver.requests).toHaveLength(10);
    expect(Date.parse(opened.nextProbeAt!) - Date.parse(opened.since!)).toBe(4000);

    // Sent while it is open: no request until the probe; their deliveries wait with no attempt spent.
    const waiting = await send('while-open', 5);
    receiver.respondWith({ status: 200 });
    const [openedEvent] = await eventually(() => (opsEvents(ops, 'webhook.circuit_opened', webhookId).length ? opsEvents(ops, 'webhook.circuit_opened', webhookId) : undefined), 20_000, 'webhook.circuit_opened');
    expect(openedEvent.data).toEqual({ webhookId, reason: '10 consecutive attempts failed', openedAt: opened.since, nextProbeAt: opened.nextProbeAt });
    const probeAt = Date.parse(opened.nextProbeAt!);
    const all = [...failed, ...waiting];
    await eventually(async () => ((await Promise.all(all.map((id) => deliveryOf(id, webhookId)))).every((d) => d?.status === 'delivered') ? true : undefined), 30_000, 'every delivery delivered');
    const afterOpening = receiver.requests.slice(10);
    // Nothing reached the receiver before the probe; then one probe alone, then the rest.
    expect(afterOpening.every((r) => r.receivedAt >= probeAt)).toBe(true);
    const [probe, ...rest] = afterOpening;
    expect(rest.every((r) => r.receivedAt >= probe.receivedAt)).toBe(true);
    // Within seconds of the probe (those that looked while it was in flight look again 2-3.5 s
    // later), not at the schedule's next attempt, a minute after each failure, nor when the
    // probe's lease (the timeout + 5 s) would have ended.
    expect(Math.max(...rest.map((r) => r.receivedAt)) - probe.receivedAt).toBeLessThan(8000);
    // One request per delivery after the opening; a wait is never an attempt.
    expect(afterOpening).toHaveLength(15);
    for (const id of failed) expect((await deliveryOf(id, webhookId)).attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 200]);
    for (const id of waiting) {
      expect((await deliveryOf(id, webhookId)).attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([200]);
      expect(requestsOf(receiver.requests, deliveryId(tenantId, id, webhookId))).toHaveLength(1);
    }
    const closed = (await webhookOf(webhookId)).circuit;
    expect(closed).toEqual({ state: 'closed', since: expect.any(String), nextProbeAt: null });
    expect(Date.parse(closed.since!)).toBeGreaterThanOrEqual(probe.receivedAt);
    const [closedEvent] = await eventually(() => (opsEvents(ops, 'webhook.circuit_closed', webhookId).length ? opsEvents(ops, 'webhook.circuit_closed', webhookId) : undefined), 20_000, 'webhook.circuit_closed');
    expect(closedEvent.data).toEqual({ webhookId, closedAt: closed.since });
    const counts = await webhookOf(webhookId);
    expect([counts.deliverySuccessCount, counts.deliveryFailureCount]).toEqual([15, 0]);
    // Metrics: one opening, one probe, one closing; the five sent while open waited from their first attempt.
    expect((await transitions()).map((n, i) => n - transitionsBefore[i])).toEqual([1, 1, 1]);
    expect((await metric('webhook_delivery_circuit_waits_total', 'wait="first"')) - firstWaitsBefore).toBe(5);
  });

  it('probes one at a time while the receiver keeps failing, waiting twice as long after each failed probe; a delivery waits no longer than its schedule', async () => {
    const receiver = ctx.receivers[2];
    receiver.respondWith({ status: 503 });
    // Long-lived deliveries: their last attempt a minute after the first.
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/down'), events: ['invoice.*'], retrySchedule: ['1s', '1m'] });
    await send('down', 10, 'invoice.paid');
    const opened = await eventually(async () => {
      const webhook = await webhookOf(webhookId);
      return webhook.circuit.state === 'open' ? webhook.circuit : undefined;
    }, 20_000, 'the circuit to open');

    // Three probes (after 4 s, then 8 s, then 8 s: the longest), each alone.
    const probes = await eventually(() => (receiver.requests.length >= 13 ? receiver.requests.slice(10, 13) : undefined), 30_000, 'three probes');
    const openedAt = Date.parse(opened.since!);
    const gaps = [probes[0].receivedAt - openedAt, probes[1].receivedAt - probes[0].receivedAt, probes[2].receivedAt - probes[1].receivedAt];
    expect(gaps[0]).toBeGreaterThanOrEqual(4000);
    expect(gaps[1]).toBeGreaterThanOrEqual(8000);
    expect(gaps[2]).toBeGreaterThanOrEqual(8000);
    expect(gaps.every((gap, i) => gap < [4000, 8000, 8000][i] + 3000)).toBe(true);
    // The third probe answered, the circuit is open again, still since its opening.
    const reopened = await eventually(async () => {
      const webhook = await webhookOf(webhookId);
      return webhook.circuit.state === 'open' && Date.parse(webhook.circuit.nextProbeAt!) > probes[2].receivedAt ? webhook.circuit : undefined;
    }, 10_000, 'the circuit open again');
    expect(reopened.since).toBe(opened.since);

    // Sent while open, with a 1 s schedule: it fails once that has passed, with no attempt made.
    const short = await ctx.harness.createWebhook(apiKey, { url: receiver.url('/down-short'), events: ['refund.*'], retrySchedule: ['1s'] });
    for (let i = 0; i < 10; i++) await ctx.harness.sendEvent(apiKey, { id: `short-${i}`, type: 'refund.made', data: { i } });
    await eventually(async () => ((await webhookOf(short.webhookId)).circuit.state === 'open' ? true : undefined), 20_000, 'the second circuit to open');
    const late = await ctx.harness.sendEvent(apiKey, { id: 'short-late', type: 'refund.made', data: {} });
    const ended = await eventually(async () => {
      const delivery = await deliveryOf(late, short.webhookId);
      return delivery?.status === 'failed' ? delivery : undefined;
    }, 20_000, 'the late delivery to fail');
    expect(ended.attempts).toEqual([]);
    expect(requestsOf(receiver.requests, deliveryId(tenantId, late, short.webhookId))).toHaveLength(0);
    const listed = await ctx.harness.call('GET', `/v1/webhooks/${short.webhookId}/deliveries?status=failed`, { token: apiKey });
    expect(listed.body.deliveries.map((d: { eventId: string }) => d.eventId)).toContain(late);
  });
});
