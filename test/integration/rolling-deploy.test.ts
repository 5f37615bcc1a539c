import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection, bundleWorkflowCode, type Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { deliveryId } from '../../src/ids';
import { eventWorkflowId } from '../../src/temporal/workflow-ids';
import { adoptPinnedRuns, promoteVersion, setCurrentVersion, type DeploymentVersion } from '../../src/temporal/worker-deployment';
import { createWorkers, runWorkers, shutDownWorkers } from '../../src/worker/create-worker';
import { requestsOf } from '../support/receiver';
import { eventually, testStack, uniqueName } from '../support/stack';
import { useHarness, type HarnessContext } from '../support/use-harness';

/**
 * A rolling deploy and a rollback, as docs/operations.md tells them (Worker Versioning): build A
 * runs; build B (a changed fan-out and delivery workflow: test/fixtures/next-build) starts beside
 * it and makes itself current while A's fan-outs and retries are in flight; A is drained (no open
 * run pinned to it) and stopped; then A comes back and an operator makes it current again while
 * B's fan-outs and retries are in flight. Every run stays on the build that started it, and
 * nothing fails, sticks or is sent twice. Then one build at a time, as `npm start` runs them: a
 * build made current with WORKER_PROMOTE=always adopts the runs pinned to the one it replaced.
 */
/** Two builds of the workers on a harness's task queue, versions of one Worker Deployment of their own. */
function twoBuilds(ctx: HarnessContext) {
  const work = mkdtempSync(join(tmpdir(), 'rolling-deploy-'));
  const deploymentName = uniqueName('deploy');
  const http = new WebhookHttpClient({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'test' });
  let native: NativeConnection;
  const builds: Record<'A' | 'B', { file: string; running?: { workers: Worker[]; run: Promise<void> }; version?: DeploymentVersion }> = {
    A: { file: join(work, 'a.js') },
    B: { file: join(work, 'b.js') },
  };

  beforeAll(async () => {
    native = await NativeConnection.connect({ address: testStack().temporalAddress });
    const bundle = async (workflowsPath: string) => (await bundleWorkflowCode({ workflowsPath, logger: quiet })).code;
    writeFileSync(builds.A.file, await bundle(require.resolve('../../src/workflows')));
    writeFileSync(builds.B.file, await bundle(require.resolve('../fixtures/next-build/workflows')));
  }, 120_000);
  afterAll(async () => {
    for (const build of Object.values(builds)) await stop(build);
    await native?.close();
    await http.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Starts a build's workers (as a worker process of it does) and lets it promote itself as `promote` says. */
  async function start(name: 'A' | 'B', promote: 'new' | 'always' = 'new') {
    const build = builds[name];
    const { workers, version } = await createWorkers({
      connection: native,
      namespace: 'default',
      taskQueue: ctx.harness.taskQueue,
      workflowBundleFile: build.file,
      versioning: { deploymentName, buildId: undefined, promote },
      deps: { models: ctx.harness.models, secretBox: ctx.harness.secretBox, http },
    });
    build.version = version!;
    build.running = { workers, run: runWorkers(workers) };
    return promoteVersion(ctx.harness.client.connection, 'default', version!, promote, `test build ${name}`);
  }
  async function stop(build: (typeof builds)['A']) {
    if (!build.running) return;
    shutDownWorkers(build.running.workers);
    await build.running.run;
    build.running = undefined;
  }
  /** Open runs pinned to a version (what docs/operations.md has an operator count before stopping a build). */
  const pinnedTo = async (version: DeploymentVersion) => {
    const query = `TemporalWorkerDeploymentVersion = "${version.deploymentName}:${version.buildId}" AND ExecutionStatus = "Running"`;
    return (await ctx.harness.client.workflow.count(query)).count;
  };
  const describeRun = (workflowId: string) => ctx.harness.client.workflow.getHandle(workflowId).describe();
  const buildOf = async (workflowId: string) =>
    ((await describeRun(workflowId)).raw.workflowExecutionInfo as temporal.api.workflow.v1.IWorkflowExecutionInfo).versioningInfo?.deploymentVersion?.buildId;
  /** Every workflow task of a run that failed (a non-determinism error is one). */
  const failedTasks = async (workflowId: string) =>
    ((await ctx.harness.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
  return { builds, start, stop, pinnedTo, describeRun, buildOf, failedTasks };
}

describe('rolling deploy and rollback of worker builds (dev server, Worker Versioning)', () => {
  const ctx = useHarness({ receivers: 2, worker: false });
  const { builds, start, stop, pinnedTo, describeRun, buildOf, failedTasks } = twoBuilds(ctx);

  it('every run stays on the build that started it: nothing fails, sticks or is sent twice', async () => {
    const { harness, receivers: [slow, flaky] } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    // A long timeout: its fan-outs hold each slow request until it has passed, well past the deploy.
    const slowHook = await harness.createWebhook(apiKey, { url: slow.url('/slow'), events: ['order.*'], timeoutSeconds: 20 });
    const flakyHook = await harness.createWebhook(apiKey, { url: flaky.url('/flaky'), events: ['order.*'], retrySchedule: ['3s'] });
    // First attempts in flight long enough for a deploy to happen under them; each delivery's first
    // attempt to the flaky receiver fails, so its retry (a DeliveryWorkflow) is in flight too.
    slow.respondWith({ status: 200, delayMs: 3000 });
    flaky.respondPerDelivery({ status: 500 }, { status: 200 });
    const send = async (batch: string, count: number) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await harness.sendEvent(apiKey, { id: `${batch}-${i}`, type: 'order.paid', data: { i } }));
      return ids;
    };
    const firstAttemptsHeld = (ids: string[]) =>
      eventually(() => (ids.every((id) => slow.requests.some((r) => JSON.parse(r.body).id === id)) ? true : undefined), 30_000, 'first attempts held');
    const fanoutsDone = (ids: string[]) =>
      eventually(async () => ((await Promise.all(ids.map((id) => describeRun(eventWorkflowId(tenantId, id))))).every((d) => d.status.name === 'COMPLETED') ? true : undefined), 60_000, 'fan-outs done');

    expect(await start('A')).toBe('promoted');
    const first = await send('deploy', 3);
    await firstAttemptsHeld(first);

    // The deploy: B starts while A's first attempts to the slow receiver are in flight, held by
    // their fan-outs (slower than the inline budget), which are pinned to A and settle them there.
    expect(await start('B')).toBe('promoted');
    const fanouts = first.map((id) => eventWorkflowId(tenantId, id));
    expect((await Promise.all(fanouts.map(describeRun))).map((d) => d.status.name)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    // A run's build is on record once its first workflow task completes: the fan-outs' tasks end
    // about a second after their requests left (the inline budget), later on a loaded machine.
    const stamped = async () => {
      const built = await Promise.all(fanouts.map(buildOf));
      return built.every(Boolean) ? built : undefined;
    };
    expect(await eventually(stamped, 30_000, 'the fan-outs\' builds on record')).toEqual(fanouts.map(() => builds.A.version!.buildId));
    const second = await send('after-deploy', 3);
    await fanoutsDone(first);
    await firstAttemptsHeld(second);

    // A is drained (no open run is pinned to it: its fan-outs and their retries are done) and stopped.
    await eventually(async () => ((await pinnedTo(builds.A.version!)) === 0 ? true : undefined), 60_000, 'build A drained');
    await stop(builds.A);
    // The rollback: A comes back; it does not take over by itself; the operator makes it current.
    expect(await start('A')).toBe('kept (not a new build)');
    await setCurrentVersion(harness.client.connection, 'default', builds.A.version!, 'test operator');
    const third = await send('after-rollback', 3);
    await fanoutsDone([...second, ...third]);

    const all = [...first, ...second, ...third];
    // Every delivery arrived, each fan-out on the build it started on.
    expect(await Promise.all(first.map((id) => buildOf(eventWorkflowId(tenantId, id))))).toEqual(first.map(() => builds.A.version!.buildId));
    expect(await Promise.all(second.map((id) => buildOf(eventWorkflowId(tenantId, id))))).toEqual(second.map(() => builds.B.version!.buildId));
    expect(await Promise.all(third.map((id) => buildOf(eventWorkflowId(tenantId, id))))).toEqual(third.map(() => builds.A.version!.buildId));
    const retried = all.map((id) => deliveryId(tenantId, id, flakyHook.webhookId));
    for (const id of retried) await ctx.harness.client.workflow.getHandle(id).result();

    // Nothing sent twice: one request per delivery to the slow receiver, the failed one and its retry to the flaky one.
    for (const id of all) {
      expect(requestsOf(slow.requests, deliveryId(tenantId, id, slowHook.webhookId))).toHaveLength(1);
      expect(requestsOf(flaky.requests, deliveryId(tenantId, id, flakyHook.webhookId))).toHaveLength(2);
    }
    // No workflow task failed anywhere (a build replaying another's history would have).
    for (const id of all) {
      expect(await failedTasks(eventWorkflowId(tenantId, id))).toEqual([]);
      expect(await failedTasks(deliveryId(tenantId, id, flakyHook.webhookId))).toEqual([]);
    }
  });

});

describe('one build at a time, as npm start runs them (dev server, Worker Versioning)', () => {
  const ctx = useHarness({ receivers: 1, worker: false });
  const { builds, start, stop, buildOf, failedTasks } = twoBuilds(ctx);

  it('one build at a time (npm start): the build made current adopts the runs pinned to the one it replaced', async () => {
    const { harness, receiver: flaky } = ctx;
    const { apiKey, tenantId } = await harness.createTenant();
    const { webhookId } = await harness.createWebhook(apiKey, { url: flaky.url('/adopt'), events: ['user.*'], retrySchedule: ['4s'] });
    flaky.respondWith({ status: 500 }, { status: 200 });
    expect(await start('A')).toBe('promoted');
    // Its run waits for its retry when A goes away.
    const eventId = await harness.sendEvent(apiKey, { id: 'adopt-1', type: 'user.created', data: {} });
    const retry = deliveryId(tenantId, eventId, webhookId);
    await eventually(() => ctx.harness.client.workflow.getHandle(retry).describe().catch(() => undefined), 30_000, 'its retry');
    expect(await buildOf(retry)).toBe(builds.A.version!.buildId);
    // The fan-out closes right after starting the retry; until then it is pinned to A too.
    await ctx.harness.client.workflow.getHandle(eventWorkflowId(tenantId, eventId)).result();
    await stop(builds.A);

    // B starts as the one build, promoted as npm start does it, and adopts A's run.
    expect(await start('B', 'always')).toBe('promoted');
    expect(await adoptPinnedRuns(harness.client, builds.B.version!)).toBe(1);
    await ctx.harness.client.workflow.getHandle(retry).result();
    expect(await buildOf(retry)).toBe(builds.B.version!.buildId);
    expect(requestsOf(flaky.requests, retry)).toHaveLength(2);
    expect(await failedTasks(retry)).toEqual([]);
  });
});

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
