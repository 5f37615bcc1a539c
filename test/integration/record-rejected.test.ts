import { ApplicationFailure } from '@temporalio/common';
import { DeliveryFailureType } from '../../src/delivery/failure-types';
import type { AttemptRecord, DeliveryInput, FanoutInput } from '../../src/delivery/types';
import { WORKFLOW_VERSION } from '../../src/temporal/workflow-version';
import { sdkLogs } from '../support/harness';
import { uniqueName } from '../support/stack';
import { useStubbedWorkflows } from '../support/time-skipping';

const delivered: AttemptRecord = { attempt: 1, startedAt: '2026-12-01T00:00:00.000Z', durationMs: 12, statusCode: 200, errorClass: null, error: null, response: 'ok' };

/** What a record activity throws for a record it can never make (records' side of issue 22, item 5). */
const rejected = () => ApplicationFailure.create({ type: DeliveryFailureType.RecordRejected, message: 'the record is invalid', nonRetryable: true });

/**
 * A record refused for good must not stall or fail the workflow that asked for it: the delivery
 * or fan-out logs it with its ids and ends as its history says. Workflow logic on the
 * time-skipping server with stubbed activities.
 */
describe('a record rejected for good (time-skipping server, stubbed activities)', () => {
  const suite = useStubbedWorkflows({
    deliver: async () => ({ status: 'delivered', attempts: [delivered] }),
    recordDeliveryOutcome: async () => {
      throw rejected();
    },
    loadFanoutPage: async () => ({ webhooks: [{ webhookId: 'wh_1', deliveryId: 'dlv_rejected_1', maxAttempts: 2, host: 'r.example', firstDelayMs: 1000 }], nextCursor: null }),
    deliverAndRecordFirstAttempts: async () => ({ results: [{ deliveryId: 'dlv_rejected_1', webhookId: 'wh_1', outcome: 'delivered', attempt: delivered }], recorded: [] }),
    recordFirstAttempts: async () => {
      throw rejected();
    },
  });
  const { taskQueue } = suite;

  const errorsLogged = (message: string) => sdkLogs.filter((e) => e.level === 'ERROR' && e.message === message).map((e) => e.meta);

  it('a delivery: delivered as its history says, the rejected record logged with its ids', async () => {
    const input: DeliveryInput = { tenantId: 'ten_1', eventId: 'ev-1', eventType: 'a.b', deliveryId: 'dlv_rejected_2', webhookId: 'wh_2', maxAttempts: 2, host: 'r.example', version: WORKFLOW_VERSION };
    const result = await suite.env.client.workflow.execute('DeliveryWorkflow', { workflowId: input.deliveryId, taskQueue, args: [input] });
    expect(result).toEqual({ status: 'delivered', attempts: [delivered] });
    expect(errorsLogged('delivery outcome not recorded: the record was rejected')).toEqual([
      expect.objectContaining({ tenantId: 'ten_1', eventId: 'ev-1', deliveryId: 'dlv_rejected_2', webhookId: 'wh_2', outcome: 'delivered' }),
    ]);
  });

  it('a fan-out: completes with its deliveries, the rejected record of its page logged with their ids', async () => {
    const input: FanoutInput = { tenantId: 'ten_1', eventId: 'ev-2', eventType: 'a.b', version: WORKFLOW_VERSION };
    const result = await suite.env.client.workflow.execute('EventFanoutWorkflow', { workflowId: uniqueName('event'), taskQueue, args: [input] });
    expect(result).toEqual({ deliveries: 1 });
    expect(errorsLogged('first attempts not recorded: the record was rejected')).toEqual([
      expect.objectContaining({ tenantId: 'ten_1', eventId: 'ev-2', deliveryIds: ['dlv_rejected_1'] }),
    ]);
  });
});
