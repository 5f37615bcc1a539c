import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { freePort } from '../../src/embedded/ports';
import { deliveryId } from '../../src/ids';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { WORKFLOW_VERSION } from '../../src/temporal/workflow-version';
import { useHarness } from '../support/use-harness';

type History = temporal.api.history.v1.IHistory;

/** The first argument the execution was started with. */
function startInput(history: History): { version?: number } {
  return defaultPayloadConverter.fromPayload(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);
}

/** Names of the markers the history recorded (`core_patch` for a `patched()` call, `core_local_activity` for a local activity). */
function markerNames(history: History): string[] {
  return history.events!.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName ?? ''] : []));
}

/** Search attributes the workflow upserted (`patched()` upserts `TemporalChangeVersion`, a visibility write each). */
function upsertedAttributes(history: History): string[] {
  return history.events!.flatMap((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
}

describe('workflow versions (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('a new fan-out and its delivery start at the current version and record no patch marker', async () => {
    const { apiKey, tenantId } = await ctx.harness.createTenant();
    // Nothing listens there: the first attempt fails and hands over to a DeliveryWorkflow, which
    // fails its one retry a second later.
    const dead = `http://127.0.0.1:${await freePort()}/dead`;
    const { webhookId } = await ctx.harness.createWebhook(apiKey, { url: dead, events: ['job.*'], retrySchedule: ['1s'] });
    const eventId = await ctx.harness.sendEvent(apiKey, { type: 'job.done', data: {} });

    const fanout = ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId));
    await fanout.result();
    const delivery = ctx.harness.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId));
    await delivery.result().catch(() => undefined);

    for (const history of [await fanout.fetchHistory(), await delivery.fetchHistory()]) {
      expect(startInput(history).version).toBe(WORKFLOW_VERSION);
      expect(markerNames(history)).not.toContain('core_patch');
      expect(upsertedAttributes(history)).not.toContain('TemporalChangeVersion');
    }
    // The fan-out did make its attempt, inline: a local activity marker, not a patch.
    expect(markerNames(await fanout.fetchHistory())).toContain('core_local_activity');
  });
});
