import { randomUUID } from 'node:crypto';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { useHarness } from '../support/use-harness';
import { eventually } from '../support/stack';
import { FANOUT_PAGE_SIZE, FANOUT_PAGES_PER_RUN, FIRST_ATTEMPT_BATCH } from '../../src/workflows/event-fanout-workflow';
import type { RecordedFirstAttempts } from '../../src/delivery/types';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';

const WEBHOOKS = 2000;
const PER_RUN = FANOUT_PAGE_SIZE * FANOUT_PAGES_PER_RUN;

describe('fan-out at scale (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  /** Child workflows started by run `runId` of `workflowId` and the runs it continued as. */
  async function childrenStarted(workflowId: string, runId: string): Promise<number> {
    let children = 0;
    for (let run: string | null | undefined = runId; run; ) {
      const { events } = await ctx.harness.client.workflow.getHandle(workflowId, run).fetchHistory();
      children += events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
      run = events!.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    }
    return children;
  }

  it(`delivers one event to ${WEBHOOKS} matching webhooks, ${PER_RUN} first attempts per run`, async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant('Big');
    // Inserted directly: the API would take minutes to create 2,000 webhooks one by one.
    const secret = ctx.harness.secretBox.encrypt(generateWebhookSecret());
    const patterns = ['usage.recorded', 'usage.*', '*'];
    await ctx.harness.models.Webhook.insertMany(
      Array.from({ length: WEBHOOKS }, (_, i) => ({
        _id: `wh_scale${String(i).padStart(5, '0')}`,
        tenantId,
        url: ctx.receiver.url(`/w/${i}`),
        events: [patterns[i % patterns.length]],
        timeoutSeconds: 5,
        secret,
      })),
    );
    // Not matched: inactive, another event type, another tenant.
    await ctx.harness.models.Webhook.insertMany([
      { _id: 'wh_off', tenantId, url: ctx.receiver.url('/off'), events: ['*'], active: false, timeoutSeconds: 5, secret },
      { _id: 'wh_other', tenantId, url: ctx.receiver.url('/other'), events: ['invoice.*'], timeoutSeconds: 5, secret },
      { _id: 'wh_tenant', tenantId: 'ten_else', url: ctx.receiver.url('/tenant'), events: ['*'], timeoutSeconds: 5, secret },
    ]);

    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'usage.recorded', data: { units: 3 } });
    const fanout = ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId));
    expect(await fanout.result()).toEqual({ deliveries: WEBHOOKS });

    await eventually(() => (ctx.receiver.requests.length >= WEBHOOKS ? true : undefined), 180_000, `${WEBHOOKS} deliveries`);
    const paths = ctx.receiver.requests.map((r) => r.path);
    expect(new Set(paths).size).toBe(WEBHOOKS);
    expect(paths.filter((p) => ['/off', '/other', '/tenant'].includes(p))).toEqual([]);
    expect(new Set(ctx.receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(WEBHOOKS);

    // Every run made its pages of first attempts inline (no child: all were delivered), then continued as new.
    const runs: WorkflowExecutionInfo[] = [];
    for await (const run of ctx.harness.client.workflow.list({ query: `WorkflowId = '${eventWorkflowId(tenantId, eventId)}'` })) runs.push(run);
    expect(runs).toHaveLength(WEBHOOKS / PER_RUN);
    for (const run of runs) {
      const history = await ctx.harness.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const children = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
      expect(children).toBe(0);
      // First attempts in batches: one local activity (a marker) per batch, its result one entry per delivery.
      const batches = history.events!.filter(
        (e) => e.markerRecordedEventAttributes && /^first attempts:/.test(String(e.userMetadata?.summary ? defaultPayloadConverter.fromPayload(e.userMetadata.summary) : '')),
      );
      const made = batches.map((e) => defaultPayloadConverter.fromPayload<RecordedFirstAttempts>(e.markerRecordedEventAttributes!.details!.result!.payloads![0]));
      // Pages with more to come are recorded beside the next ones; only the last page's batches record their own.
      const last = !history.events!.some((e) => e.workflowExecutionContinuedAsNewEventAttributes);
      const recorded = made.reduce((n, batch) => n + batch.recorded.length, 0);
      expect(recorded).toBe(last ? FANOUT_PAGE_SIZE : 0);
      const batchSizes = made.map((batch) => batch.results.length);
      expect(Math.max(...batchSizes)).toBeLessThanOrEqual(FIRST_ATTEMPT_BATCH);
      const firstAttempts = batchSizes.reduce((a, b) => a + b, 0);
      // A workflow task that failed or timed out (a starved worker) loses the markers of what it
      // attempted; the retried task finds those deliveries recorded and never sends them again.
      const lostTask = history.events!.some((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes);
      if (lostTask) expect(firstAttempts).toBeLessThanOrEqual(PER_RUN);
      else expect(firstAttempts).toBe(PER_RUN);
    }
    // The deliveries index holds each delivery once.
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId, status: 'delivered' })).toBe(WEBHOOKS);
    // Every counter was updated once.
    await eventually(async () => ((await ctx.harness.models.WebhookCounter.countDocuments({ tenantId, deliverySuccessCount: 1 })) === WEBHOOKS ? true : undefined), 60_000, 'the counters');

    // An operator resets the fan-out's first run (as from the Web UI): the new runs page through
    // every webhook again, find each delivery recorded, and send nothing.
    const histories = await Promise.all(runs.map((run) => ctx.harness.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory().then((h) => ({ run, h }))));
    const { run: first, h: firstHistory } = histories.find(({ h }) => !h.events![0].workflowExecutionStartedEventAttributes?.continuedExecutionRunId)!;
    const firstTask = firstHistory.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const { runId } = await ctx.harness.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: first.workflowId, runId: first.runId },
      workflowTaskFinishEventId: firstTask.eventId,
      reason: 'operator reset of a fan-out',
      requestId: randomUUID(),
    });
    const reset = ctx.harness.client.workflow.getHandle(first.workflowId, runId);
    expect(await reset.result()).toEqual({ deliveries: WEBHOOKS });
    // The reset runs started no child: whatever they sent, a first attempt they awaited sent, so
    // the receiver has it by now.
    expect(await childrenStarted(first.workflowId, runId)).toBe(0);
    expect(ctx.receiver.requests).toHaveLength(WEBHOOKS);
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId })).toBe(WEBHOOKS);
    expect(await ctx.harness.models.WebhookCounter.countDocuments({ tenantId, deliverySuccessCount: 1 })).toBe(WEBHOOKS);

    // The second run recorded the first run's last page (beside its own attempts). Reset to its
    // start, it records that page again: every delivery is in the index already, so nothing is counted twice.
    const { run: second, h: secondHistory } = histories.find(({ h }) => h.events![0].workflowExecutionStartedEventAttributes?.continuedExecutionRunId === first.runId)!;
    const carried = defaultPayloadConverter.fromPayload<{ unrecorded?: { results: unknown[] } }>(
      secondHistory.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0],
    );
    expect(carried.unrecorded?.results).toHaveLength(FANOUT_PAGE_SIZE);
    const secondReset = await ctx.harness.client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: second.workflowId, runId: second.runId },
      workflowTaskFinishEventId: secondHistory.events!.find((e) => e.workflowTaskCompletedEventAttributes)!.eventId,
      reason: 'operator reset of a fan-out run that recorded a page',
      requestId: randomUUID(),
    });
    expect(await ctx.harness.client.workflow.getHandle(second.workflowId, secondReset.runId).result()).toEqual({ deliveries: WEBHOOKS });
    expect(await childrenStarted(second.workflowId, secondReset.runId)).toBe(0);
    expect(ctx.receiver.requests).toHaveLength(WEBHOOKS);
    expect(await ctx.harness.models.Delivery.countDocuments({ tenantId })).toBe(WEBHOOKS);
    expect(await ctx.harness.models.WebhookCounter.countDocuments({ tenantId, deliverySuccessCount: 1 })).toBe(WEBHOOKS);
  }, 420_000);
});
