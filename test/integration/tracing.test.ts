import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/embedded/ports';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { requestsOf } from '../support/receiver';
import { eventually, testStack } from '../support/stack';
import { useHarness } from '../support/use-harness';
import { harnessWorkerEnv, killWorkerProcesses, spawnWorkerProcess } from '../support/worker-process';
import type { Harness } from '../support/harness';

const root = join(__dirname, '../..');
/** Logs every OpenTelemetry module a process loads to its stderr. */
const REPORT_OTEL_MODULES = join(root, 'test/fixtures/report-otel-modules.cjs');
const SERVER = 2;
const CLIENT = 3;

/** A service process's output, kept line by line. */
class Output {
  private chunks: string[] = [];
  constructor(child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => this.chunks.push(chunk.toString()));
  }
  lines(): string[] {
    return this.chunks.join('').split('\n').filter((line) => line.trim());
  }
  /** The JSON log lines (pino's). */
  entries(): Record<string, unknown>[] {
    return this.lines().flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }
}

/** The API as `npm run start:api` runs it, in one process, on the harness's database and task queue. */
async function startApi(harness: Harness, env: NodeJS.ProcessEnv): Promise<{ api: ChildProcess; output: Output; base: string }> {
  const port = await freePort();
  const api = spawn(process.execPath, ['--require', REPORT_OTEL_MODULES, '--import', 'tsx', join(root, 'src/api/main.ts')], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), TEMPORAL_ADDRESS: testStack().temporalAddress, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', API_RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'info', ...harnessWorkerEnv(harness), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = new Output(api);
  const base = `http://127.0.0.1:${port}`;
  await eventually(() => fetch(`${base}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined), 90_000, 'the API ready');
  return { api, output, base };
}

/** A worker process as `npm run start:worker` runs it (one process), on the harness's database and task queue. */
function startWorker(harness: Harness, env: NodeJS.ProcessEnv): { worker: ChildProcess; output: Output } {
  const worker = spawnWorkerProcess(
    { ...harnessWorkerEnv(harness), LOG_LEVEL: 'info', NODE_OPTIONS: `--require ${REPORT_OTEL_MODULES}`, ...env },
    { stdio: ['ignore', 'pipe', 'pipe'], oneProcess: true },
  );
  return { worker, output: new Output(worker) };
}

async function call(base: string, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers are checked by the assertions
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> };
}

/** A tenant with two webhooks through `base`: A (receiver 0) and B (receiver 1, retried after 1 s). */
async function tenantWithTwoWebhooks(harness: Harness, base: string, urls: [string, string]) {
  const tenant = await call(base, 'POST', '/v1/admin/tenants', harness.adminToken, { name: 'Traced' });
  expect(tenant.status).toBe(201);
  const apiKey = tenant.body.apiKey as string;
  for (const url of urls) expect((await call(base, 'POST', '/v1/webhooks', apiKey, { url, events: ['order.*'], retrySchedule: ['1s'] })).status).toBe(201);
  return apiKey;
}

/** The names of a span's ancestors in `spans`, nearest first; throws when a parent is missing (the tree is broken). */
function ancestry(span: ReceivedSpan, spans: ReceivedSpan[]): string[] {
  const names: string[] = [];
  for (let at = span; at.parentSpanId; ) {
    const parent = spans.find((s) => s.spanId === at.parentSpanId);
    if (!parent) throw new Error(`span ${at.name} (${at.spanId}) names a parent ${at.parentSpanId} that is not in its trace`);
    names.push(parent.name);
    at = parent;
  }
  return names;
}

/**
 * Tracing (docs/operations.md, "Tracing"): with OTEL_EXPORTER_OTLP_ENDPOINT set, the API and
 * worker processes export spans to an OTLP/HTTP receiver, and one trace runs from the event's
 * POST through its workflow start, its fan-out, and every attempt's HTTP request, retries in
 * their own DeliveryWorkflow included; their log lines carry its trace id.
 */
describe('tracing', () => {
  const ctx = useHarness({ worker: false, receivers: 2 });
  const otlp = new OtlpReceiver();
  const processes: ChildProcess[] = [];
  beforeAll(() => otlp.start());
  afterAll(async () => {
    await killWorkerProcesses(processes);
    await otlp.stop();
  });

  const tracedEnv = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' });
  /** The traced API and worker of the first test, and its tenant's key, for the tests after it. */
  let traced: { base: string; worker: ChildProcess; apiKey: string } | undefined;
  /**
   * The OpenTelemetry modules a process loaded, but the API package prom-client (our metrics)
   * always requires for its exemplars: a no-op facade until an SDK registers, which tracing off never does.
   */
  const otelModules = (output: Output) =>
    output.lines().filter((line) => line.startsWith('OTEL MODULE LOADED') && !line.endsWith('@opentelemetry/api by prom-client/lib/metrics/processCpuTotal.js'));

  it('follows one event in one trace from POST /v1/events to every attempt, and puts its trace id in the log lines', async () => {
    const [a, b] = ctx.receivers;
    b.respondWith({ status: 500, body: 'not yet' }, { status: 200, body: 'ok' });
    const { api, output: apiOutput, base } = await startApi(ctx.harness, { ...tracedEnv(), OTEL_SERVICE_NAME: 'tracing-test-api' });
    processes.push(api);
    const { worker, output: workerOutput } = startWorker(ctx.harness, tracedEnv());
    processes.push(worker);
    const apiKey = await tenantWithTwoWebhooks(ctx.harness, base, [a.url('/a'), b.url('/b')]);
    traced = { base, worker, apiKey };

    const sent = await call(base, 'POST', '/v1/events', apiKey, { type: 'order.created', data: { orderId: 'o_1' } });
    expect(sent.status).toBe(202);
    await eventually(() => (a.requests.length >= 1 && b.requests.length >= 2 ? true : undefined), 90_000, 'both deliveries, B retried');
    const idA = String(a.requests[0].headers['webhook-id']);
    const idB = String(b.requests[0].headers['webhook-id']);
    expect(requestsOf(b.requests, idB)).toHaveLength(2);

    const server = await eventually(() => otlp.spans.find((s) => s.kind === SERVER && s.name === 'POST /v1/events'), 30_000, "the API's span of the POST");
    expect(server).toMatchObject({ service: 'tracing-test-api', parentSpanId: '', attributes: expect.objectContaining({ 'http.route': '/v1/events', 'http.response.status_code': 202 }) });
    const inTrace = () => otlp.spans.filter((s) => s.traceId === server.traceId);
    // The retry's workflow span is exported when that workflow closes (after its second attempt was answered).
    await eventually(() => (inTrace().some((s) => s.name === 'RunWorkflow:DeliveryWorkflow') && inTrace().filter((s) => s.kind === CLIENT).length >= 3 ? true : undefined), 30_000, 'the spans of every attempt and of the retried delivery');
    const spans = inTrace();

    const start = spans.find((s) => s.name === 'StartWorkflow:EventFanoutWorkflow');
    expect(start).toMatchObject({ service: 'tracing-test-api', parentSpanId: server.spanId });
    const fanout = spans.find((s) => s.name === 'RunWorkflow:EventFanoutWorkflow');
    expect(fanout).toMatchObject({ service: 'webhook-worker', parentSpanId: start!.spanId });
    // One tree: every span's parent is in the trace, up to the API's span.
    for (const span of spans) if (span !== server) expect(ancestry(span, spans).at(-1)).toBe('POST /v1/events');

    const attempts = spans
      .filter((s) => s.kind === CLIENT)
      .map((s) => ({ deliveryId: s.attributes['webhook.delivery_id'], attempt: s.attributes['webhook.attempt'], status: s.attributes['http.response.status_code'], via: ancestry(s, spans) }))
      .sort((x, y) => String(x.deliveryId).localeCompare(String(y.deliveryId)) || Number(x.attempt) - Number(y.attempt));
    expect(attempts.map(({ deliveryId, attempt, status }) => ({ deliveryId, attempt, status }))).toEqual(
      [
        { deliveryId: idA, attempt: 1, status: 200 },
        { deliveryId: idB, attempt: 1, status: 500 },
        { deliveryId: idB, attempt: 2, status: 200 },
      ].sort((x, y) => x.deliveryId.localeCompare(y.deliveryId) || x.attempt - y.attempt),
    );
    for (const attempt of attempts) {
      expect(attempt.via[0]).toMatch(/^RunActivity:/);
      expect(attempt.via).toContain('RunWorkflow:EventFanoutWorkflow');
    }
    // The retry ran in the delivery's own workflow, started by the fan-out with the context in its headers.
    const retry = attempts.find((x) => x.deliveryId === idB && x.attempt === 2)!;
    expect(retry.via.slice(0, 3)).toEqual(['RunActivity:deliver', 'StartActivity:deliver', 'RunWorkflow:DeliveryWorkflow']);
    expect(retry.via).toContain('StartChildWorkflow:DeliveryWorkflow');
    const failed = spans.find((s) => s.kind === CLIENT && s.attributes['http.response.status_code'] === 500)!;
    expect(failed.attributes).toMatchObject({ 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'error.type': '500', 'webhook.id': expect.stringMatching(/./), 'webhook.event_id': sent.body.id });

    // The API's request line and the worker's activity lines for this event carry its trace id.
    const withTrace = (entries: Record<string, unknown>[]) => entries.filter((e) => e.trace_id === server.traceId);
    await eventually(() => (withTrace(apiOutput.entries()).some((e) => (e.req as { path?: string } | undefined)?.path === '/v1/events') ? true : undefined), 10_000, "the API's request line");
    const workerLines = withTrace(workerOutput.entries());
    expect(workerLines.filter((e) => e.msg === 'delivered').map((e) => e.deliveryId).sort()).toEqual([idA, idB].sort());
    expect(workerLines.some((e) => e.msg === 'attempt failed, retry scheduled' && e.deliveryId === idB)).toBe(true);
    // Tracing on loads OpenTelemetry, as the module report shows (the check of the test below is not blind).
    expect(otelModules(workerOutput)).toContain(`OTEL MODULE LOADED: @opentelemetry/sdk-trace-node by ${join(root, 'src/tracing/otel-tracing.ts')}`);
  }, 240_000);

  it("runs workflows on mixed workers: an untraced worker beside a traced one, then alone, ignores the traced starts' headers and loads nothing of OpenTelemetry", async () => {
    if (!traced) throw new Error('needs the traced API and worker of the first test');
    const [a, b] = ctx.receivers;
    b.respondPerDelivery({ status: 500, body: 'not yet' }, { status: 200, body: 'ok' });
    const { worker: plain, output } = startWorker(ctx.harness, {});
    processes.push(plain);
    const send = async (n: number) => {
      const res = await call(traced!.base, 'POST', '/v1/events', traced!.apiKey, { type: 'order.created', data: { n } });
      expect(res.status).toBe(202);
      return res.body.id as string;
    };
    const deliveredTo = (receiver: typeof a, eventId: string, requests: number) =>
      receiver.requests.filter((r) => r.headers['x-webhook-event-id'] === eventId).length >= requests ? true : undefined;
    const eventsDelivered = (ids: string[]) => eventually(() => (ids.every((id) => deliveredTo(a, id, 1) && deliveredTo(b, id, 2)) ? true : undefined), 90_000, 'every delivery, B retried');

    // Both workers poll the task queues: tasks of one workflow may go to either.
    await eventsDelivered(await Promise.all([1, 2, 3, 4].map(send)));
    // Then the untraced one alone: it runs fan-outs and retries started with trace context in their headers.
    await killWorkerProcesses([traced.worker]);
    const alone = await send(5);
    await eventsDelivered([alone]);
    expect(output.entries().some((e) => e.msg === 'delivered' && e.eventId === alone)).toBe(true);

    expect(otelModules(output)).toEqual([]);
    expect(output.entries().filter((e) => 'trace_id' in e)).toEqual([]);
    // The API's spans of that event are exported; none of the untraced worker's.
    const start = otlp.spans.find((s) => s.name === 'StartWorkflow:EventFanoutWorkflow' && String(s.attributes.temporalWorkflowId).endsWith(alone));
    expect(start).toBeDefined();
    expect(otlp.spans.filter((s) => s.traceId === start!.traceId && s.service === 'webhook-worker')).toEqual([]);
  }, 240_000);

  it('with OTEL_EXPORTER_OTLP_ENDPOINT unset, the API and the worker load nothing of OpenTelemetry and export nothing', async () => {
    const [a, b] = ctx.receivers;
    const { api, output: apiOutput, base } = await startApi(ctx.harness, {});
    processes.push(api);
    const { worker, output: workerOutput } = startWorker(ctx.harness, {});
    processes.push(worker);
    const apiKey = await tenantWithTwoWebhooks(ctx.harness, base, [a.url('/off-a'), b.url('/off-b')]);
    const exportsBefore = otlp.exports;
    const sent = await call(base, 'POST', '/v1/events', apiKey, { type: 'order.created', data: { off: true } });
    expect(sent.status).toBe(202);
    await eventually(() => (a.requests.some((r) => r.path === '/off-a' && r.headers['x-webhook-event-id'] === sent.body.id) ? true : undefined), 90_000, 'the delivery');

    expect(otelModules(apiOutput)).toEqual([]);
    expect(otelModules(workerOutput)).toEqual([]);
    expect([...apiOutput.entries(), ...workerOutput.entries()].filter((e) => 'trace_id' in e)).toEqual([]);
    // The only traced process left (the first test's API) had nothing to send meanwhile.
    expect(otlp.exports).toBe(exportsBefore);
  }, 240_000);
});
