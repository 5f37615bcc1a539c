import type { ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort } from '../../src/embedded/ports';
import { processAlive } from '../../src/embedded/service-process';
import { restartHistoryProcess, startTemporalCluster, type RunningTemporalCluster } from '../../src/embedded/temporal-cluster';
import { deliveryId } from '../../src/ids';
import { retryDelayAfter } from '../../src/delivery/retry-schedule';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { adoptPinnedRuns, buildIdOf } from '../../src/temporal/worker-deployment';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { writeWorkflowBundle } from '../../src/worker/workflow-bundle';
import { Harness } from '../support/harness';
import { AdminConnection } from '../support/history-shards';
import { PortalClient } from '../support/portal-client';
import { guideSection, queryTable } from '../support/operator-guide';
import { requestsOf, TestReceiver, type ReceivedRequest } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { eventually, uniqueName } from '../support/stack';
import { harnessWorkerEnv, killWorkerProcesses, spawnWorkerProcess } from '../support/worker-process';

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
 * as separate processes on PostgreSQL with SQL visibility. Started once for the suite: every
 * feature on it, then its faults (a history process killed and restarted, a worker process
 * killed), then a new worker build made current.
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
      // No FIFO webhook here: the query only has to answer on SQL visibility.
      "FIFO webhooks' lines (one sequencer per webhook; its pending child is the delivery in turn)": {},
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
  /**
   * The rest runs as production does: the API, and two worker processes (`npm run start:worker`,
   * configured from the environment) polling as one version of a Worker Deployment, which the
   * first one makes current (WORKER_VERSIONING and WORKER_PROMOTE at their defaults).
   */
  describe('with two worker processes, versioned as by default', () => {
    let fleet: Harness;
    let admin: AdminConnection;
    let bundleFile: string;
    let buildId: string;
    const deployment = uniqueName('cluster');
    const workers: ChildProcess[] = [];
    const receivers: TestReceiver[] = [];

    /** A worker process of `fleet` on the cluster, its log in the suite's log directory. */
    const startWorker = async (name: string, env: NodeJS.ProcessEnv = {}) => {
      const logFile = join(work, 'logs', `${name}.log`);
      const log = openSync(logFile, 'a');
      const worker = spawnWorkerProcess(
        { ...harnessWorkerEnv(fleet), TEMPORAL_ADDRESS: cluster.address, WORKFLOW_BUNDLE_FILE: bundleFile, WORKER_DEPLOYMENT_NAME: deployment, LOG_LEVEL: 'info', ...env },
        { oneProcess: true, detached: true, stdio: ['ignore', log, log] },
      );
      closeSync(log);
      workers.push(worker);
      // It logs this once its workers are built; they poll from then on.
      await eventually(() => (readFileSync(logFile, 'utf8').includes('"worker started"') ? true : undefined), 60_000, `${name} to start`);
      return { worker, logFile };
    };
    const currentBuild = async () => {
      const described = await connection.workflowService.describeWorkerDeployment({ namespace: 'default', deploymentName: deployment }).catch(() => undefined);
      return described?.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId ?? undefined;
    };
    const versioningOf = async (workflowId: string) =>
      ((await fleet.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo as temporal.api.workflow.v1.IWorkflowExecutionInfo).versioningInfo;
    const receiver = async () => {
      const started = await new TestReceiver().start();
      receivers.push(started);
      return started;
    };
    /** Sends an event as a producer does: a refusal (503 while Temporal cannot record it) is sent again, with the same id. */
    const sendDurably = async (apiKey: string, event: { id: string; type: string; data: unknown }) => {
      for (let refusals = 0; ; refusals++) {
        const res = await fleet.call('POST', '/v1/events', { token: apiKey, body: event }).catch(() => ({ status: 0, body: undefined }));
        if (res.status === 202) return refusals;
        if ((res.status > 0 && res.status < 500) || refusals >= 60) throw new Error(`event ${event.id} refused: ${res.status} ${JSON.stringify(res.body)}`);
        // Sent again once the API says it can take events (what a producer's Retry-After waits for).
        await eventually(async () => ((await fleet.call('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200 ? true : undefined), 60_000, 'the API ready again');
      }
    };
    const deliveredCount = (tenantId: string) => fleet.models.Delivery.countDocuments({ tenantId, status: 'delivered' });
    /** Every delivery of `events` × `webhookIds` reached its receiver and no request came with another `webhook-id`; returns how many requests were beyond one per delivery. */
    const everyDeliveryArrived = (requests: ReceivedRequest[], tenantId: string, events: string[], webhookIds: string[]) => {
      const expected = new Set(events.flatMap((e) => webhookIds.map((w) => deliveryId(tenantId, e, w))));
      const seen = requests.map((r) => r.headers['webhook-id'] as string);
      expect(seen.filter((id) => !expected.has(id))).toEqual([]);
      expect(new Set(seen).size).toBe(expected.size);
      return seen.length - expected.size;
    };

    beforeAll(async () => {
      admin = await AdminConnection.open(cluster.address);
      bundleFile = join(work, 'workflow-bundle.js');
      await writeWorkflowBundle(bundleFile);
      buildId = buildIdOf(readFileSync(bundleFile, 'utf8'));
      fleet = await Harness.start({ temporalAddress: cluster.address, worker: false });
      await startWorker('worker-1');
      // The first build of the deployment makes itself current (WORKER_PROMOTE=new)...
      await eventually(async () => ((await currentBuild()) === buildId ? true : undefined), 60_000, 'worker 1 to make its build current');
      // ...and a second process of the same build joins it.
      await startWorker('worker-2');
    }, 120_000);

    afterAll(async () => {
      await killWorkerProcesses(workers);
      for (const r of receivers) await r.stop();
      await fleet?.close();
      await admin?.close();
    }, 60_000);

    it('Worker Versioning on the cluster: runs are pinned to the build made current, and the operator guide\'s count of them answers', async () => {
      expect(await currentBuild()).toBe(buildId);
      const flaky = await receiver();
      flaky.respondWith({ status: 500 }, { status: 200 });
      const { apiKey, tenantId } = await fleet.createTenant();
      const { webhookId } = await fleet.createWebhook(apiKey, { url: flaky.url('/pinned'), events: ['user.*'], retrySchedule: ['3s'] });
      const eventId = await fleet.sendEvent(apiKey, { type: 'user.created', data: {} });
      const fanout = eventWorkflowId(tenantId, eventId);
      // While its delivery waits for its retry, a run of this build is open: the guide's count finds it once visibility has it.
      const pinned = `TemporalWorkerDeploymentVersion = "${deployment}:${buildId}" AND ExecutionStatus = "Running"`;
      await eventually(async () => ((await fleet.client.workflow.count(pinned)).count >= 1 ? true : undefined), 10_000, 'an open run of this build counted');
      await fleet.client.workflow.getHandle(deliveryId(tenantId, eventId, webhookId)).result();
      expect(flaky.requests).toHaveLength(2);
      await fleet.client.workflow.getHandle(fanout).result();
      const versioning = await versioningOf(fanout);
      expect(versioning?.behavior).toBe(temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED);
      expect(versioning?.deploymentVersion).toMatchObject({ deploymentName: deployment, buildId });
      // npm start's adoption query (a build made current with WORKER_PROMOTE=always runs it) parses on SQL visibility.
      expect(await adoptPinnedRuns(fleet.client, { deploymentName: deployment, buildId })).toBe(0);
    });

    it('fans an event out to 31 webhooks, and a failing receiver gets its attempts at the schedule\'s times', async () => {
      const [many, flaky] = [await receiver(), await receiver()];
      flaky.respondWith({ status: 500 }, { status: 503 }, { status: 200 });
      const { apiKey, tenantId } = await fleet.createTenant();
      const webhooks: { webhookId: string; secret: string }[] = [];
      // More than a batch of first attempts (25).
      for (let i = 0; i < 30; i++) webhooks.push(await fleet.createWebhook(apiKey, { url: many.url(`/fan/${i}`), events: ['order.*'] }));
      const flakyHook = await fleet.createWebhook(apiKey, { url: flaky.url('/flaky'), events: ['order.*'], retrySchedule: ['1s', '3s'] });
      const eventId = await fleet.sendEvent(apiKey, { id: 'fan-1', type: 'order.paid', data: { total: 31 } });

      expect(await fleet.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result()).toEqual({ deliveries: 31 });
      await eventually(() => (many.requests.length >= 30 ? true : undefined), 30_000, '30 deliveries');
      expect(many.requests.map((r) => r.path).sort()).toEqual(webhooks.map((_, i) => `/fan/${i}`).sort());
      for (const [i, { webhookId, secret }] of webhooks.entries()) {
        const request = many.requests.find((r) => r.path === `/fan/${i}`)!;
        expect(request.headers['webhook-id']).toBe(deliveryId(tenantId, eventId, webhookId));
        expect(verifiedPayload(request, secret)).toMatchObject({ id: eventId, type: 'order.paid', data: { total: 31 } });
      }

      // Attempt 1 at once, 2 a second (±20 %: its jitter) after it failed, 3 three seconds after
      // that: each delay starts once the attempt before is recorded, so it may come up to 2 s late
      // (as in attempt-schedule.test.ts).
      const retried = deliveryId(tenantId, eventId, flakyHook.webhookId);
      await fleet.client.workflow.getHandle(retried).result();
      const times = requestsOf(flaky.requests, retried).map((r) => r.receivedAt);
      expect(times).toHaveLength(3);
      const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
      const delays = [1, 2].map((attempt) => retryDelayAfter(['1s', '3s'], attempt, retried)!);
      expect(gaps[0]).toBeGreaterThanOrEqual(delays[0]!);
      expect(gaps[0]).toBeLessThan(delays[0]! + 2000);
      expect(gaps[1]).toBeGreaterThanOrEqual(delays[1]!);
      expect(gaps[1]).toBeLessThan(delays[1]! + 2000);
      const read = await eventually(async () => {
        const delivery = (await fleet.call('GET', `/v1/deliveries/${retried}`, { token: apiKey })).body?.delivery;
        return delivery?.status === 'delivered' ? delivery : undefined;
      }, 30_000, 'the retried delivery on record');
      expect(read.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 503], [3, 200]]);

      // Resent on purpose: one more request with the same webhook-id, audited as attempt 4.
      const resent = await fleet.call('POST', `/v1/deliveries/${retried}/resend`, { token: apiKey });
      expect(resent.status).toBe(202);
      await eventually(() => (requestsOf(flaky.requests, retried).length === 4 ? true : undefined), 30_000, 'the resent request');
      const afterResend = await eventually(async () => {
        const delivery = (await fleet.call('GET', `/v1/deliveries/${retried}`, { token: apiKey })).body?.delivery;
        return delivery?.attempts[3]?.statusCode === 200 ? delivery : undefined;
      }, 30_000, 'the resend on record');
      expect(afterResend).toMatchObject({ status: 'delivered', attempts: [{ attempt: 1 }, { attempt: 2 }, { attempt: 3 }, { attempt: 4, statusCode: 200 }] });
      expect(verifiedPayload(requestsOf(flaky.requests, retried)[3]!, flakyHook.secret)).toEqual(verifiedPayload(requestsOf(flaky.requests, retried)[0]!, flakyHook.secret));
    });

    it('requeues failed deliveries in bulk, and the portal reads what the API reads', async () => {
      const down = await receiver();
      down.respondWith({ status: 500 });
      const { apiKey, tenantId } = await fleet.createTenant();
      const { webhookId } = await fleet.createWebhook(apiKey, { url: down.url('/down'), events: ['invoice.*'], retrySchedule: ['1s'] });
      const events = ['rq-1', 'rq-2', 'rq-3', 'rq-4', 'rq-5'];
      for (const id of events) await fleet.sendEvent(apiKey, { id, type: 'invoice.paid', data: {} });
      await eventually(async () => {
        const page = await fleet.call('GET', `/v1/webhooks/${webhookId}/deliveries?status=failed`, { token: apiKey });
        return page.body.deliveries.length === events.length ? true : undefined;
      }, 60_000, '5 failed deliveries');
      expect(down.requests).toHaveLength(10);

      down.respondWith({ status: 200 });
      const op = await fleet.call('POST', '/v1/admin/requeue', { token: fleet.adminToken, body: { tenantId, webhookId, ratePerSecond: 25 } });
      expect(op.status).toBe(202);
      const done = await eventually(async () => {
        const res = await fleet.call('GET', `/v1/admin/operations/${op.body.operationId}`, { token: fleet.adminToken });
        return res.body.operation.status === 'completed' ? res.body.operation : undefined;
      }, 60_000, 'the requeue');
      expect(done.progress).toEqual({ matched: 5, requeued: 5, skipped: 0, errors: 0 });
      await eventually(async () => ((await deliveredCount(tenantId)) === events.length ? true : undefined), 60_000, '5 delivered');
      expect(everyDeliveryArrived(down.requests, tenantId, events, [webhookId])).toBe(10); // the failed attempts
      for (const id of events) expect(requestsOf(down.requests, deliveryId(tenantId, id, webhookId)).length).toBe(3);
      // The operator guide's query for requeues finds it on SQL visibility.
      const requeues: string[] = [];
      for await (const run of fleet.client.workflow.list({ query: "WorkflowType = 'RequeueWorkflow'" })) requeues.push(run.workflowId);
      expect(requeues).toContain(op.body.operationId);

      // The portal's pages read these routes (src/portal/web/pages): the same answers as the API's.
      const portal = new PortalClient(fleet);
      expect((await portal.open((await PortalClient.link(fleet, apiKey)).token)).status).toBe(201);
      const delivery = deliveryId(tenantId, events[0]!, webhookId);
      for (const path of [
        '/webhooks?limit=50',
        `/webhooks/${webhookId}`,
        `/webhooks/${webhookId}/deliveries?limit=50`,
        `/webhooks/${webhookId}/stats?hours=72`,
        `/deliveries/${delivery}`,
        `/events/${events[0]}?limit=1`,
        '/event-types',
      ]) {
        const [viaPortal, viaApi] = [await portal.call('GET', `/portal/api/v1${path}`), await fleet.call('GET', `/v1${path}`, { token: apiKey })];
        expect({ path, status: viaPortal.status }).toEqual({ path, status: 200 });
        expect(viaPortal.body).toEqual(viaApi.body);
      }
      // A delivery's audit log lists its runs with a visibility query: the failed one and the requeued one.
      const { body } = await portal.call('GET', `/portal/api/v1/deliveries/${delivery}`);
      expect(body.delivery).toMatchObject({ status: 'delivered', attempts: [{ statusCode: 500 }, { statusCode: 500 }, { statusCode: 200 }] });
      expect(body.delivery.auditLog.map((r: { workflowId: string }) => r.workflowId)).toEqual([eventWorkflowId(tenantId, events[0]!), delivery, delivery]);
    });

    it('a history process SIGKILLed mid-run: its shards move to the other, it comes back, and every delivery arrives', async () => {
      const [steady, flaky] = [await receiver(), await receiver()];
      steady.respondWith({ status: 200, delayMs: 200 });
      // The first attempts fail: their deliveries wait on timers (on the shards) when the process dies.
      flaky.respondWith(...Array.from({ length: 10 }, () => ({ status: 500 })), { status: 200 });
      const { apiKey, tenantId } = await fleet.createTenant();
      const webhookIds: string[] = [];
      for (let i = 0; i < 4; i++) webhookIds.push((await fleet.createWebhook(apiKey, { url: steady.url(`/h/${i}`), events: ['shard.*'] })).webhookId);
      webhookIds.push((await fleet.createWebhook(apiKey, { url: flaky.url('/h/flaky'), events: ['shard.*'], retrySchedule: ['2s', '2s'] })).webhookId);

      // Which process owns which shards (4 over 2 processes may all sit on one): the one with more dies.
      const hosts = cluster.historyPorts.map((p) => `127.0.0.1:${p.grpc}`);
      const owned = await Promise.all(hosts.map((h) => admin.historyHost(h).then((d) => d.shardIds)));
      expect(owned.flat().sort()).toEqual([1, 2, 3, 4]);
      const victim = owned[0]!.length >= owned[1]!.length ? 0 : 1;
      const survivor = 1 - victim;

      const events: string[] = [];
      for (let i = 0; i < 10; i++) events.push(`shard-${i}`);
      for (const id of events) await sendDurably(apiKey, { id, type: 'shard.moved', data: {} });
      await eventually(() => (flaky.requests.length >= 5 ? true : undefined), 60_000, 'first attempts failing');
      // Runs in flight live on the victim's shards.
      const runsOnVictim = await Promise.all(events.map((id) => admin.ownerOf('default', eventWorkflowId(tenantId, id)))).then((o) => o.filter((h) => h.address === hosts[victim]).length);

      const dying = cluster.services.history[victim]!;
      dying.kill('SIGKILL');
      await dying.process.exited;
      // Events keep coming while it is gone.
      const during: string[] = [];
      let refusals = 0;
      for (let i = 10; i < 15; i++) {
        during.push(`shard-${i}`);
        refusals += await sendDurably(apiKey, { id: `shard-${i}`, type: 'shard.moved', data: {} });
      }
      const moved = await eventually(async () => {
        const shards = (await admin.historyHost(hosts[survivor]!)).shardIds;
        return shards.length === 4 ? shards : undefined;
      }, 90_000, 'the surviving history process to own every shard');
      expect(moved).toEqual([1, 2, 3, 4]);
      await restartHistoryProcess(cluster, victim);
      const all = [...events, ...during];
      await eventually(async () => ((await deliveredCount(tenantId)) === all.length * webhookIds.length ? true : undefined), 120_000, 'every delivery delivered');
      for (const id of all) expect(await fleet.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()).toEqual({ deliveries: 5 });
      const duplicates = everyDeliveryArrived([...steady.requests, ...flaky.requests], tenantId, all, webhookIds);
      // The restarted process is a member again: every shard has one owner.
      const after = await eventually(async () => {
        const shards = await Promise.all(hosts.map((h) => admin.historyHost(h).then((d) => d.shardIds)));
        return shards.flat().length === 4 ? shards : undefined;
      }, 60_000, 'every shard owned once');
      expect(after.flat().sort()).toEqual([1, 2, 3, 4]);
      console.log(`history kill: process ${victim + 1} owned shards ${owned[victim]} (${runsOnVictim} of 10 fan-outs on them); moved to process ${survivor + 1}; ${refusals} event sends refused meanwhile; after restart: ${after.map((s, i) => `process ${i + 1}: ${s}`).join(', ')}; ${duplicates} requests beyond one per delivery (the flaky receiver's failed attempts included)`);
      expect(owned[victim]!.length).toBeGreaterThan(0);
    });
    it('one of two worker processes SIGKILLed mid-run: the other carries on at once, and every delivery arrives', async () => {
      const slow = await receiver();
      // First attempts held: some are in flight in the process that dies.
      slow.respondWith({ status: 200, delayMs: 1500 });
      const { apiKey, tenantId } = await fleet.createTenant();
      const webhookIds: string[] = [];
      for (let i = 0; i < 10; i++) webhookIds.push((await fleet.createWebhook(apiKey, { url: slow.url(`/w/${i}`), events: ['worker.*'], retrySchedule: ['2s'] })).webhookId);
      const before = ['wk-1', 'wk-2', 'wk-3', 'wk-4', 'wk-5'];
      for (const id of before) await fleet.sendEvent(apiKey, { id, type: 'worker.killed', data: {} });
      await eventually(() => (slow.requests.length >= 10 ? true : undefined), 60_000, 'first attempts in flight');

      const [dying] = workers;
      const exited = new Promise((r) => dying!.once('exit', r));
      process.kill(dying!.pid as number, 'SIGKILL');
      await exited;
      const killedAt = Date.now();
      // Not restarted: new events go to the other process from now on.
      slow.respondWith({ status: 200 });
      const after = ['wk-6', 'wk-7', 'wk-8'];
      for (const id of after) await fleet.sendEvent(apiKey, { id, type: 'worker.killed', data: {} });
      const firstAfter = await eventually(() => slow.requests.find((r) => after.some((id) => r.headers['webhook-id'] === deliveryId(tenantId, id, webhookIds[0]!))), 30_000, 'a delivery of an event sent after the kill');
      const all = [...before, ...after];
      await eventually(async () => ((await deliveredCount(tenantId)) === all.length * webhookIds.length ? true : undefined), 120_000, 'every delivery delivered');
      for (const id of all) expect(await fleet.client.workflow.getHandle(eventWorkflowId(tenantId, id)).result()).toEqual({ deliveries: 10 });
      const duplicates = everyDeliveryArrived(slow.requests, tenantId, all, webhookIds);
      expect(await fleet.models.Delivery.countDocuments({ tenantId })).toBe(all.length * webhookIds.length);
      console.log(`worker kill: the other process delivered an event sent after the kill ${firstAfter.receivedAt - killedAt} ms after it; ${duplicates} requests beyond one per delivery (same webhook-id)`);
      expect(firstAfter.receivedAt - killedAt).toBeLessThan(10_000);
    });

    it('a new build (WORKER_BUILD_ID, WORKER_PROMOTE=always) makes itself current on the cluster, and new fan-outs run on it', async () => {
      const next = `next-${buildId}`;
      const { logFile } = await startWorker('worker-next', { WORKER_BUILD_ID: next, WORKER_PROMOTE: 'always' });
      await eventually(async () => ((await currentBuild()) === next ? true : undefined), 60_000, 'the new build to be current');
      // Promoted, then the adoption of the earlier builds' runs (its visibility query) ran without error.
      await eventually(() => (readFileSync(logFile, 'utf8').includes('this build is now the current version') ? true : undefined), 30_000, 'its promotion logged');
      expect(readFileSync(logFile, 'utf8')).not.toContain('could not make this build the current version');
      const ok = await receiver();
      const { apiKey, tenantId } = await fleet.createTenant();
      await fleet.createWebhook(apiKey, { url: ok.url('/next'), events: ['deploy.*'] });
      const eventId = await fleet.sendEvent(apiKey, { type: 'deploy.done', data: {} });
      await fleet.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result();
      expect((await versioningOf(eventWorkflowId(tenantId, eventId)))?.deploymentVersion).toMatchObject({ deploymentName: deployment, buildId: next });
      expect(ok.requests).toHaveLength(1);
    });
  });
});
