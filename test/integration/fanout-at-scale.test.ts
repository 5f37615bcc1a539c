import { Harness } from '../support/harness';
import { TestReceiver } from '../support/receiver';
import { eventually } from '../support/stack';
import { FANOUT_PAGE_SIZE } from '../../src/workflows/event-fanout-workflow';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';

const WEBHOOKS = 2000;

describe('fan-out at scale (dev server)', () => {
  let harness: Harness;
  let receiver: TestReceiver;

  beforeAll(async () => {
    harness = await Harness.start();
    receiver = await new TestReceiver().start();
  });
  afterAll(async () => {
    await harness?.close();
    await receiver?.stop();
  });

  it(`delivers one event to ${WEBHOOKS} matching webhooks, ${FANOUT_PAGE_SIZE} children per run`, async () => {
    const { apiKey, tenantId } = await harness.createTenant('Big');
    // Inserted directly: the API would take minutes to create 2,000 webhooks one by one.
    const secret = harness.secretBox.encrypt(generateWebhookSecret());
    const patterns = ['usage.recorded', 'usage.*', '*'];
    await harness.models.Webhook.insertMany(
      Array.from({ length: WEBHOOKS }, (_, i) => ({
        _id: `wh_scale${String(i).padStart(5, '0')}`,
        tenantId,
        url: receiver.url(`/w/${i}`),
        events: [patterns[i % patterns.length]],
        timeoutSeconds: 5,
        secret,
      })),
    );
    // Not matched: inactive, another event type, another tenant.
    await harness.models.Webhook.insertMany([
      { _id: 'wh_off', tenantId, url: receiver.url('/off'), events: ['*'], active: false, timeoutSeconds: 5, secret },
      { _id: 'wh_other', tenantId, url: receiver.url('/other'), events: ['invoice.*'], timeoutSeconds: 5, secret },
      { _id: 'wh_tenant', tenantId: 'ten_else', url: receiver.url('/tenant'), events: ['*'], timeoutSeconds: 5, secret },
    ]);

    const eventId = await harness.sendEvent(apiKey, { type: 'usage.recorded', data: { units: 3 } });
    const fanout = harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId));
    expect(await fanout.result()).toEqual({ deliveries: WEBHOOKS });

    await eventually(() => (receiver.requests.length >= WEBHOOKS ? true : undefined), 180_000, `${WEBHOOKS} deliveries`);
    const paths = receiver.requests.map((r) => r.path);
    expect(new Set(paths).size).toBe(WEBHOOKS);
    expect(paths.filter((p) => ['/off', '/other', '/tenant'].includes(p))).toEqual([]);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id'])).size).toBe(WEBHOOKS);

    // Every run started at most one page of children, then continued as new.
    const runs = [];
    for await (const run of harness.client.workflow.list({ query: `WorkflowId = '${eventWorkflowId(tenantId, eventId)}'` })) runs.push(run);
    expect(runs).toHaveLength(WEBHOOKS / FANOUT_PAGE_SIZE);
    for (const run of runs) {
      const history = await harness.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const children = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
      expect(children).toBe(FANOUT_PAGE_SIZE);
    }
    // Every counter was updated once.
    await eventually(async () => ((await harness.models.Webhook.countDocuments({ tenantId, deliverySuccessCount: 1 })) === WEBHOOKS ? true : undefined), 60_000, 'the counters');
  }, 300_000);
});
