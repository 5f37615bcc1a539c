/**
 * `npm run bench`: starts its own embedded stack and a receiver on 127.0.0.1, measures the
 * baselines and the product in one run (see bench/README.md for every figure), writes
 * bench/results/<date>.json and a latency-by-load SVG, and prints a markdown table with the
 * issue's targets as pass/short. Every phase is bounded in count and time; whatever happens
 * (failure, Ctrl-C, the run's own time cap) it stops everything it started.
 */
import { portalPage } from './portal-page';
import { logPages } from './log-pages';
import { actionsOf, clusterCapacity, meteredRound, tierCpu, type CapacityResults } from './capacity';
import { Client, Connection } from '@temporalio/client';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchApiClient } from './api-client';
import { floorResult, floorRound, floorUnloaded, rawPosts, rawStartsResult, rawStartsRound } from './baselines';
import { latencyChart } from './chart';
import { peakRssMb } from './peak-rss';
import { EVENT_TYPE, bigFanout, deliveryResult, endToEndAtRate, endToEndRound, ingestFixedRate, ingestResult, ingestSaturationRound, oneProducer, retryStorm, tenantWithWebhooks } from './product';
import { mergeLoads } from './load';
import { neighboursRound } from './noisy-neighbours';
import { BenchReceiver } from './receiver';
import type { PhaseRunner } from './capacity';
import { transformedRound } from './transformed';
import { OtlpSink } from './otlp-sink';
import { tracingResult, tracingRound } from './tracing';
import { capacityTable, figures, markdownTable, type PhaseResults } from './report';
import { benchSettings, type ClosedLoopPhase } from './settings';
import { FLOOR_TASK_QUEUE, StackRunner, type BenchStack } from './stack';
import { settle } from './settle';
import { sleep } from './stats';
import { webhookSeeder } from './webhook-seed';

const RESULTS_DIR = join(__dirname, 'results');
/** The first event and the first floor workflow also wait for the worker to bundle its workflows. */
const WARMUP_CAP_MS = 180_000;

const settings = benchSettings(process.argv.slice(2), process.env);
const work = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
// PostgreSQL runs as its own user when this is root, and must be able to enter this directory.
chmodSync(work, 0o755);
const stackRunner = new StackRunner(work);
const receiver = new BenchReceiver();
/** The never-answering neighbour's receiver: an origin of its own, as another customer's endpoint is (the product pools connections per origin). */
const silentReceiver = new BenchReceiver();
const closers: (() => Promise<unknown>)[] = [];
const warnings: string[] = [];
let stopping: Promise<void> | undefined;
/** The work dir (logs, databases) is removed unless the run failed or BENCH_KEEP_LOGS=1. */
let keepWork = process.env.BENCH_KEEP_LOGS === '1';
/** The cluster's stack, while the capacity phases run. */
let clusterRunner: StackRunner | undefined;

/** Stops everything this run started, once, whoever asks first. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await clusterRunner?.stop().catch(() => undefined);
    await stackRunner.stop();
    await receiver.stop();
    await silentReceiver.stop();
    if (keepWork) console.error(`bench: logs and data kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  })();
  return stopping;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function waitFor(what: string, check: () => boolean, capMs: number): Promise<void> {
  const deadline = performance.now() + capMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${capMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadavgAtStart = loadavg();
  const tag = startedAt.getTime().toString(36);
  console.log(`bench: ${settings.quick ? 'QUICK run (tiny phases: checks the harness, figures are not comparable)' : 'full run'}; work dir ${work}`);
  await receiver.start();
  await silentReceiver.start();
  console.log('bench: starting the Temporal dev server, the MongoDB-wire server, the worker, the API and the floor worker…');
  const stackStart = performance.now();
  const stack: BenchStack = await stackRunner.start();
  const api = new BenchApiClient(stack.apiUrl, stack.adminToken);
  closers.push(() => api.close());
  const connection = await Connection.connect({ address: stack.temporalAddress });
  closers.push(() => connection.close());
  const client = new Client({ connection, namespace: 'default' });

  // Warm-up: one delivery through the product and one floor workflow prove the path works.
  const warm = await tenantWithWebhooks(api, receiver, 'warmup', 1);
  const warmArrivals = receiver.phase('warmup');
  await api.sendEvent(warm, EVENT_TYPE, { warmup: true });
  await waitFor('the warm-up delivery (is the worker running? see its log)', () => warmArrivals.delivered === 1 || !!stack.failure, WARMUP_CAP_MS);
  const floorWarm = client.workflow.execute('floorFanoutWorkflow', { taskQueue: FLOOR_TASK_QUEUE, workflowId: `floor-warmup-${tag}`, args: [1] });
  await Promise.race([floorWarm, sleep(WARMUP_CAP_MS).then(() => Promise.reject(new Error('the floor worker did not run its warm-up workflow')))]);
  if (stack.failure) throw new Error(stack.failure);
  const startupMs = Math.round(performance.now() - stackStart);
  console.log(`bench: stack up and warm in ${(startupMs / 1000).toFixed(1)}s`);

  const s = settings;
  const peakRss = () => ({ api: stack.apiPid ? peakRssMb(stack.apiPid) : null, worker: stack.workerPid ? peakRssMb(stack.workerPid) : null });
  const capacity: CapacityResults = { devServer: {} };
  const r: PhaseResults = { loadSteps: [], peakRssMb: { api: null, worker: null }, peakRssAfterStartupMb: peakRss(), peakRssAfterPhaseMb: [], capacity };
  let failedPhases = 0;
  /** Runs a phase of the stack `on`: skipped unless --only names it, after the previous phases' workflows closed. */
  const phaseOn = (on: { stack: BenchStack; client: Client }): PhaseRunner => async (name, run) => {
    if (settings.only && !settings.only.some((word) => name.toLowerCase().includes(word))) return undefined;
    if (on.stack.failure) throw new Error(on.stack.failure);
    const { terminated } = await settle(on.client, settings.settleMs);
    if (terminated) warnings.push(`before ${name}: terminated ${terminated} workflows still running after ${settings.settleMs / 1000}s`);
    const t = performance.now();
    process.stdout.write(`bench: ${name}… `);
    try {
      const result = await run();
      console.log(`${((performance.now() - t) / 1000).toFixed(1)}s`);
      return result;
    } catch (err) {
      console.log(`FAILED: ${message(err)}`);
      warnings.push(`${name} failed: ${message(err)}`);
      failedPhases++;
      return undefined;
    } finally {
      if (on.stack.failure) warnings.push(on.stack.failure);
      if (on.stack === stack) r.peakRssAfterPhaseMb.push({ phase: name, ...peakRss() });
    }
  };
  const phase = phaseOn({ stack, client });

  r.rawPosts = await phase('raw signed POSTs', () => rawPosts(receiver, s.rawPosts));
  r.floorUnloaded = await phase('local-activity floor, one at a time', () => floorUnloaded(client, s.oneProducer.count, s.oneProducer.capMs, tag));
  // Each baseline and the product figure compared with it take turns, so a ratio compares the two
  // in the same minutes of this machine: measured a minute apart, raw starts alone moved 1.5x
  // between runs of one hour, and the floors 1.2-1.5x.
  const round = <T extends ClosedLoopPhase>(phaseSettings: T): T => ({ ...phaseSettings, count: Math.ceil(phaseSettings.count / s.rounds) });
  const inTurns = async <B, P>(baseline: (n: number) => Promise<B | undefined>, product: (n: number) => Promise<P | undefined>) => {
    const baselines: B[] = [];
    const products: P[] = [];
    for (let n = 1; n <= s.rounds; n++) {
      const b = await baseline(n);
      if (b) baselines.push(b);
      const p = await product(n);
      if (p) products.push(p);
    }
    return { baselines, products };
  };
  const ingestTenant = await api.createTenant('bench ingest (no webhooks)');
  const starts = await inTurns(
    (n) => phase(`raw workflow starts, round ${n}`, () => rawStartsRound(client, round(s.rawStarts), `${tag}-${n}`)),
    (n) => phase(`ingest at saturation, round ${n}`, () => ingestSaturationRound(api, ingestTenant, round(s.ingestSaturation))),
  );
  if (starts.baselines.length) r.rawStarts = rawStartsResult(mergeLoads(starts.baselines));
  if (starts.products.length) r.ingestSaturation = ingestResult(mergeLoads(starts.products));
  const ingestRate = Math.max(1, Math.round((r.ingestSaturation?.eventsPerSecond ?? 10) * s.ingestFixed.fraction));
  r.ingestFixed = await phase(`ingest open loop at ${ingestRate}/s`, () => ingestFixedRate(api, ingestTenant, ingestRate, s.ingestFixed.durationMs));
  for (const [fanOut, floorSettings, e2eSettings] of [
    [1, s.floor1, s.e2e1],
    [10, s.floor10, s.e2e10],
  ] as const) {
    const turns = await inTurns(
      (n) => phase(`local-activity floor, fan-out ${fanOut}, round ${n}`, () => floorRound(client, round(floorSettings), fanOut, `${tag}-${n}`)),
      // Metered: each tier's CPU from before the round to after its workflows closed.
      (n) =>
        phase(`end to end, fan-out ${fanOut}, round ${n}`, () =>
          meteredRound(() => stackRunner.tierPids(), client, s.settleMs, () => endToEndRound(api, receiver, `e2e${fanOut}-${n}`, fanOut, round(e2eSettings))),
        ),
    );
    const floorFigure = turns.baselines.length ? floorResult(turns.baselines) : undefined;
    const e2eFigure = turns.products.length ? deliveryResult(turns.products) : undefined;
    if (e2eFigure) {
      capacity.devServer[fanOut === 1 ? 'fanOut1' : 'fanOut10'] = {
        deliveriesPerSecond: e2eFigure.deliveriesPerSecond,
        cpu: tierCpu(turns.products),
        actions: await actionsOf(client, turns.products),
      };
    }
    if (fanOut === 1) [r.floor1, r.e2e1] = [floorFigure, e2eFigure];
    else [r.floor10, r.e2e10] = [floorFigure, e2eFigure];
  }
  r.oneProducer = await phase('one producer', () => oneProducer(api, receiver, s.oneProducer.count, s.oneProducer.capMs));
  const saturating = r.e2e1?.eventsPerSecond || 1;
  for (const fraction of s.loadSteps.fractions) {
    const rate = Math.max(0.5, Math.round(saturating * fraction * 10) / 10);
    const step = await phase(`fan-out 1 open loop at ${rate} events/s (${fraction} x saturation)`, () =>
      endToEndAtRate(api, receiver, `load${String(fraction).replace('.', '')}`, rate, s.loadSteps.durationMs, s.loadSteps.drainMs),
    );
    if (step) r.loadSteps.push({ ...step, fraction });
  }
  r.retryStorm = await phase('retry storm', () => retryStorm(api, receiver, s.retryStorm, 10));
  if (r.retryStorm) capacity.devServer.retryStorm = await actionsOf(client, [r.retryStorm]);
  const quiet = await phase('noisy neighbours: ten healthy webhooks', () => neighboursRound(api, receiver, silentReceiver, 'neighbours-quiet', false, s.neighbours));
  const noisy = await phase('noisy neighbours: one of ten never answers, one is limited to 5/s', () => neighboursRound(api, receiver, silentReceiver, 'neighbours-noisy', true, s.neighbours));
  r.neighbours = { quiet, noisy };
  const plain = await phase('transformations: ten plain webhooks', () => transformedRound(api, receiver, 'transform-plain', false, s.transformed));
  const transformed = await phase('transformations: ten with a trivial transformation', () => transformedRound(api, receiver, 'transform-trivial', true, s.transformed));
  r.transformations = { plain, transformed };
  // Tracing off (the stack's API and worker) and on (a traced pair beside them, started with the first traced round), in turns.
  const sink = new OtlpSink();
  let tracedServices: Promise<{ api: BenchApiClient; apiPid?: number; workerPid?: number }> | undefined;
  const startTraced = () =>
    (tracedServices ??= (async () => {
      await sink.start();
      closers.push(() => sink.stop());
      const started = await stackRunner.startTracedServices(sink.endpoint);
      const tracedApi = new BenchApiClient(started.apiUrl, stack.adminToken);
      closers.push(() => tracedApi.close());
      // Warm-up, as the stack's own: the traced worker's first fan-out is not measured.
      const warmTraced = await tenantWithWebhooks(tracedApi, receiver, 'warmup-traced', 1);
      const arrivals = receiver.phase('warmup-traced');
      await tracedApi.sendEvent(warmTraced, EVENT_TYPE, { warmup: true });
      await waitFor('the traced warm-up delivery', () => arrivals.delivered === 1 || !!stack.failure, WARMUP_CAP_MS);
      // And a round, not measured: the traced pair starts cold for this phase (its code not yet
      // optimised, its workflow cache empty), and a cold process is slower whatever it traces.
      await tracingRound(tracedApi, receiver, 'warmup-traced-round', true, round(s.tracing), sink);
      return { api: tracedApi, apiPid: started.apiPid, workerPid: started.workerPid };
    })());
  // The stack's own pair gets the same unmeasured round (warm already after the earlier phases, not with --only).
  await phase('tracing: off, warm-up round (not measured)', () => tracingRound(api, receiver, 'warmup-untraced-round', false, round(s.tracing), sink));
  const tracingTurns = await inTurns(
    (n) => phase(`tracing: off, fan-out 10, round ${n}`, () => tracingRound(api, receiver, `trace-off-${n}`, false, round(s.tracing), sink)),
    (n) => phase(`tracing: on, fan-out 10, round ${n}`, async () => tracingRound((await startTraced()).api, receiver, `trace-on-${n}`, true, round(s.tracing), sink)),
  );
  if (tracingTurns.baselines.length || tracingTurns.products.length) {
    const traced = tracedServices && (await tracedServices.catch(() => undefined));
    r.tracing = {
      off: tracingResult(tracingTurns.baselines),
      on: tracingResult(tracingTurns.products),
      tracedPeakRssMb: { api: traced?.apiPid ? peakRssMb(traced.apiPid) : null, worker: traced?.workerPid ? peakRssMb(traced.workerPid) : null },
      exports: sink.exports,
      spans: sink.spans,
    };
  }
  r.bigFanout = await phase(`one event to ${s.bigFanout.webhooks} webhooks`, () =>
    bigFanout(api, receiver, s.bigFanout.webhooks, s.bigFanout.capMs, webhookSeeder(stack, s.bigFanout.webhooks, EVENT_TYPE)),
  );
  r.portalPage = await phase(`portal deliveries page, ${s.portalPage.deliveries} deliveries`, () => portalPage(api, stack, s.portalPage.deliveries, s.portalPage.loads));
  r.logPages = await phase(`tenant logs, ${s.logPages.deliveries} deliveries`, () => logPages(api, stack, s.logPages));
  r.peakRssMb = peakRss();
  // The capacity model on the cluster: the dev server's stack is stopped first, so the machine is the cluster's alone.
  if (!s.only || s.only.some((word) => 'cluster'.includes(word) || word.includes('cluster'))) {
    await stackRunner.stop();
    try {
      capacity.cluster = await clusterCapacity({
        workDir: work,
        receiver,
        rounds: s.rounds,
        e2e1: s.e2e1,
        e2e10: s.e2e10,
        settleMs: s.settleMs,
        phaseOn,
        onStack: (runner) => (clusterRunner = runner),
      });
    } catch (err) {
      warnings.push(`the cluster's capacity phases failed: ${message(err)}`);
      failedPhases++;
    }
  }
  if (receiver.strays) warnings.push(`${receiver.strays} requests reached the receiver outside any phase`);

  const list = figures(r, s.quick);
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z') + (s.quick ? '-quick' : '') + (s.only ? `-only-${s.only.join('-')}` : '');
  mkdirSync(RESULTS_DIR, { recursive: true });
  const chartFile = join(RESULTS_DIR, `${stamp}-latency.svg`);
  const jsonFile = join(RESULTS_DIR, `${stamp}.json`);
  const steps = [...r.loadSteps].sort((a, b) => (a.offeredPerSecond ?? 0) - (b.offeredPerSecond ?? 0));
  writeFileSync(
    chartFile,
    latencyChart('202-to-arrival and ingest latency by offered load, fan-out 1', `${stamp}: ${cpus().length} CPUs; saturating rate ${saturating} events/s`, [
      { name: '202→arrival p50', color: '#1f77b4', points: steps.map((x) => [x.offeredPerSecond ?? 0, x.acceptedToArrivalMs.p50]) },
      { name: '202→arrival p95', color: '#ff7f0e', points: steps.map((x) => [x.offeredPerSecond ?? 0, x.acceptedToArrivalMs.p95]) },
      { name: '202→arrival p99', color: '#d62728', points: steps.map((x) => [x.offeredPerSecond ?? 0, x.acceptedToArrivalMs.p99]) },
      { name: 'ingest (202) p50', color: '#2ca02c', points: steps.map((x) => [x.offeredPerSecond ?? 0, x.ingestLatencyMs.p50]) },
    ]),
  );
  const finishedAt = new Date();
  writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        quick: s.quick,
        machine: { cpus: cpus().length, loadavgAtStart, loadavgAtEnd: loadavg() },
        startupMs,
        settings: s,
        figures: list,
        phases: r,
        warnings,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\n## Benchmark ${stamp} (${Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)} s, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
  console.log(markdownTable(list));
  console.log(`\n### Capacity model inputs (docs/scaling.md)\n\n${capacityTable(capacity)}`);
  for (const w of warnings) console.log(`\nwarning: ${w}`);
  console.log(`\nresults: ${jsonFile}\nchart:   ${chartFile}`);
  if (failedPhases && !stopping) keepWork = true;
  return failedPhases ? 1 : 0;
}

// `on`, not `once`: Ctrl-C reaches this process twice (directly and relayed by tsx).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.error('\nbench: interrupted; stopping everything it started…');
    void stopAll().then(() => process.exit(130));
  });
}
const runCap = setTimeout(() => {
  console.error(`\nbench: the run exceeded its cap of ${settings.runCapMs / 60_000} minutes; stopping everything it started…`);
  void stopAll().then(() => process.exit(1));
}, settings.runCapMs);

void main()
  .catch((err: unknown) => {
    if (stopping) return 130; // interrupted: the failure is only the stack going away
    console.error(`bench: ${message(err)}`);
    keepWork = true;
    return 1;
  })
  .then(async (code) => {
    clearTimeout(runCap);
    await stopAll();
    process.exit(code);
  });
