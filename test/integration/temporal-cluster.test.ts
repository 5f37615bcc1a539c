import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort } from '../../src/embedded/ports';
import { processAlive } from '../../src/embedded/service-process';
import { startTemporalCluster, type RunningTemporalCluster } from '../../src/embedded/temporal-cluster';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { Harness } from '../support/harness';
import { guideSection, queryTable } from '../support/operator-guide';
import { requestsOf, TestReceiver } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually } from '../support/stack';

/** The last lines of every log of the cluster: why it did not come up. */
function logTails(logDir: string): string {
  if (!existsSync(logDir)) return '';
  return readdirSync(logDir)
    .map((file) => `--- ${file}\n${readFileSync(join(logDir, file), 'utf8').trim().split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

/**
 * The service on a real Temporal cluster (scripts/provision-cluster.sh builds it; npm test runs
 * that first): frontend, two history processes sharing 4 shards, matching and the internal worker
 * as separate processes on PostgreSQL with SQL visibility. Started once for the suite.
 */
describe('a Temporal cluster of separate services on PostgreSQL', () => {
  let work: string;
  let cluster: RunningTemporalCluster;
  let harness: Harness;
  let receiver: TestReceiver;
  let connection: Connection;

  beforeAll(async () => {
    const unavailable = process.env.TEMPORAL_CLUSTER_ERROR;
    if (unavailable) throw new Error(`the Temporal cluster could not be provisioned: ${unavailable}`);
    work = mkdtempSync(join(tmpdir(), 'temporal-cluster-test-'));
    // PostgreSQL runs as its own user when this is root, and must be able to enter this directory.
    chmodSync(work, 0o755);
    const logDir = join(work, 'logs');
    try {
      cluster = await startTemporalCluster({ tools: process.env, dataDir: join(work, 'data'), port: await freePort(), uiPort: await freePort(), logDir });
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logTails(logDir)}`);
    }
    connection = await Connection.connect({ address: cluster.address });
    harness = await Harness.start({ temporalAddress: cluster.address });
    receiver = await new TestReceiver().start();
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    await receiver?.stop();
    await connection?.close();
    await cluster?.process.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('runs each service in a process of its own, and registers the namespace and the search attributes', async () => {
    const { frontend, history, matching, worker } = cluster.services;
    const pids = [frontend, ...history, matching, worker].map((s) => s.process.pid as number);
    expect(history).toHaveLength(2);
    expect(new Set(pids).size).toBe(5);
    for (const pid of pids) expect(processAlive(pid)).toBe(true);

    const { namespaceInfo, config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(namespaceInfo?.name).toBe('default');
    expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);
    // Added as the worker adds them in production (an operator call), mapped to SQL visibility's columns.
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {}).sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
    expect(new Set(Object.values(customAttributes ?? {}))).toEqual(new Set([temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]));

    // The Web UI server answers for the cluster's namespace.
    const ui = await fetch(`${cluster.uiUrl}/api/v1/namespaces/default`);
    expect(ui.status).toBe(200);
    expect(((await ui.json()) as { namespaceInfo: { name: string } }).namespaceInfo.name).toBe('default');
  });

  it('a worker of this project delivers an event end to end to a loopback receiver', async () => {
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId, secret } = await harness.createWebhook(apiKey, { url: receiver.url('/cluster'), events: ['invoice.*'] });
    const eventId = await harness.sendEvent(apiKey, { type: 'invoice.created', data: { invoiceId: 'inv_1' } });

    const request = await eventually(() => receiver.requests.find((r) => r.path === '/cluster'), 60_000, 'the delivery');
    expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId, type: 'invoice.created', tenant_id: tenantId, data: { invoiceId: 'inv_1' } });
    const deliveryId = request.headers['webhook-id'] as string;
    const onRecord = await eventually(async () => {
      const res = await harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
      return res.body?.delivery?.status === 'delivered' ? res.body.delivery : undefined;
    }, 30_000, 'the delivery on record');
    expect(onRecord).toMatchObject({ webhookId, eventId, attempts: [expect.objectContaining({ attempt: 1, statusCode: 200 })] });
    expect(await harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result()).toEqual({ deliveries: 1 });
  });

  it('SQL visibility answers the API\'s and the operator guide\'s queries on the custom search attributes', async () => {
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: receiver.url('/visibility'), events: ['invoice.*'], retrySchedule: ['1s'] });
    receiver.respondWith({ status: 500, body: 'down' });
    // The event type of the guide's example query.
    const eventId = await harness.sendEvent(apiKey, { id: 'cluster-1', type: 'invoice.paid', data: {} });
    const deliveryId = await eventually(() => receiver.requests.find((r) => r.path === '/visibility')?.headers['webhook-id'] as string | undefined, 60_000, 'the first attempt');
    // Attempt 1 inline, attempt 2 (the last) by its DeliveryWorkflow: then it is failed.
    const run = harness.client.workflow.getHandle(deliveryId);
    await eventually(() => run.describe().catch(() => undefined), 30_000, 'its DeliveryWorkflow');
    await expect(run.result()).rejects.toThrow();

    // Every query of docs/operations.md's table, with this delivery's ids, answers; those that
    // name it find its run (once visibility has it), the one for running deliveries does not.
    const fanoutId = eventWorkflowId(tenantId, eventId);
    const finds: Record<string, { includes?: string; excludes?: string }> = {
      "Failed runs of webhook X's deliveries": { includes: deliveryId },
      'Deliveries still retrying, all tenants': { excludes: deliveryId },
      'Every delivery of one event': { includes: deliveryId },
      'Failed runs of one event type today': { includes: deliveryId },
      "A tenant's fan-outs": { includes: fanoutId },
      'Bulk requeue operations': {},
    };
    const table = queryTable(guideSection('## Find deliveries in the Temporal Web UI'));
    expect([...table.keys()]).toEqual(Object.keys(finds));
    const today = new Date().toISOString().slice(0, 10);
    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const execution of harness.client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids;
    };
    for (const [what, documented] of table) {
      const query = documented
        .replaceAll('wh_…', webhookId)
        .replaceAll('ten_…', tenantId)
        .replaceAll('order-42', eventId)
        .replace(/\d{4}-\d{2}-\d{2}T00:00:00Z/, `${today}T00:00:00Z`);
      const { includes, excludes } = finds[what]!;
      const ids = await eventually(async () => {
        const found = await listed(query);
        return !includes || found.includes(includes) ? found : undefined;
      }, 30_000, `${query} to list ${includes}`);
      if (excludes) expect(ids).not.toContain(excludes);
    }

    // The API lists a delivery's runs with a visibility query (`WorkflowId = …`): once retried, its
    // audit log names the failed run beside the new one.
    const failedRun = (await run.describe()).runId;
    receiver.respondWith({ status: 200, body: 'ok' });
    expect((await harness.call('POST', `/v1/deliveries/${deliveryId}/retry`, { token: apiKey })).status).toBe(202);
    const delivered = await eventually(async () => {
      const res = await harness.call('GET', `/v1/deliveries/${deliveryId}`, { token: apiKey });
      const delivery = res.body?.delivery;
      return delivery?.status === 'delivered' && delivery.auditLog.some((r: { runId: string }) => r.runId === failedRun) ? delivery : undefined;
    }, 30_000, 'the retried delivery with both runs in its audit log');
    expect(delivered.auditLog.map((r: { workflowId: string }) => r.workflowId)).toEqual([eventWorkflowId(tenantId, eventId), deliveryId, deliveryId]);
    expect(requestsOf(receiver.requests, deliveryId).map((r) => r.path)).toEqual(['/visibility', '/visibility', '/visibility']);
  });
});
