import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { freePort } from '../../src/embedded/ports';
import { deliveryId } from '../../src/ids';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { WORKFLOW_VERSION } from '../../src/temporal/workflow-version';
import { ATTEMPTS_FROM_LOG } from '../../src/workflows/delivery-workflow';
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

/** Ids of the patches the history recorded (`patched()` calls). */
function patchIds(history: History): string[] {
  return history.events!.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    return [defaultPayloadConverter.fromPayload<{ id: string }>(marker.details!['patch-data']!.payloads![0]).id];
  });
}

/** Search attributes the workflow upserted (`patched()` upserts `TemporalChangeVersion`, a visibility write each). */
function upsertedAttributes(history: History): string[] {
  return history.events!.flatMap((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}));
}

describe('workflow versions (dev server)', () => {
  const ctx = useHarness({ receivers: 1 });

  it('a new fan-out and its delivery start at the current version and record only the patches made since', async () => {
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
    }
    // The changes up to the version need no patch; those since go through patched() (a new path
    // is never taken on a field its starter wrote): the delivery records its one, the fan-out none
    // (its patches since are asked only when a first attempt is not made or a record rejected).
    const fanoutHistory = await fanout.fetchHistory();
    expect(markerNames(fanoutHistory)).not.toContain('core_patch');
    expect(upsertedAttributes(fanoutHistory)).not.toContain('TemporalChangeVersion');
    expect(patchIds(await delivery.fetchHistory())).toEqual([ATTEMPTS_FROM_LOG]);
    // The fan-out did make its attempt, inline: a local activity marker, not a patch.
    expect(markerNames(await fanout.fetchHistory())).toContain('core_local_activity');
  });
});
