/**
 * One chaos run, start to report: its own embedded stack (every process supervised as
 * `npm start` runs them), the fault receiver, tenants and webhooks made through the API, then
 * the producers post every event while the faults of the settings hit the stack; then it waits
 * until every delivery owed was received or recorded failed (or time is up) and balances the
 * books. `run()` gives up at the settings' cap; `stop()` stops everything it started, whenever
 * it is called, and notes what was still alive after it (a check of its own).
 */
import { Client, Connection } from '@temporalio/client';
import { BenchApiClient, type Tenant } from '../bench/api-client';
import { StackRunner } from '../bench/stack';
import { sleep } from '../bench/stats';
import { maxAttempts } from '../src/delivery/retry-schedule';
import { groupAlive, portOpen, processAlive, ServiceProcess } from '../src/embedded/service-process';
import { FaultReceiver } from './fault-receiver';
import { Faults, type FaultLog } from './faults';
import { NO_ANSWER, REFUSED, produce, type AnswerTally, type IngestionResult, type PlannedEvent } from './producers';
import { ReadinessProbe } from './readiness-probe';
import type { ChaosSettings } from './settings';
import { WARMUP_KEY, failedDeliveries, inFlightDeliveries, owedDeliveries, receivedDeliveries, requestsByPair, tally, type ChaosWebhook, type Tally } from './tally';

/** The first delivery also waits for the worker to bundle its workflow code. */
const WARMUP_CAP_MS = 180_000;
/** Counter writes are batched (a short linger): once the books balance, this is ample for them to land. */
const COUNTERS_WAIT_MS = 15_000;

export interface ChaosCheck {
  name: string;
  pass: boolean;
  detail: string;
}

export interface ChaosResult {
  settings: ChaosSettings;
  startedAt: string;
  finishedAt: string;
  startupMs: number;
  ingestMs: number;
  /** From the last event accepted to the books balancing (or time running out). */
  drainMs: number;
  accepted: number;
  ingestion: Omit<IngestionResult, 'accepted'>;
  readiness: Record<string, AnswerTally>;
  faults: FaultLog[];
  workerKills: number;
  workerRestarts: number;
  apiRestarts: number;
  receiver: { requests: number; errors: number; hangs: number; strays: number };
  tally: Tally;
  /** What the product itself counts (GET /v1/stats, summed over tenants). */
  recorded: { total: number; successful: number; failed: number };
  /** Deliveries recorded failed with fewer HTTP requests at the receiver than their schedule's attempts. */
  failedShort: { delivery: string; requests: number; attempts: number }[];
  /** Webhooks whose counters (GET /v1/webhooks/{id}) disagree with the receiver. */
  counterMismatches: { webhook: string; product: { success: number; failure: number }; receiver: { success: number; failure: number } }[];
  /** Faults that did not complete (a killed process not serving again in time). */
  faultErrors: string[];
  /** Processes and ports of the run still alive after its stop (see `leftoverCheck`). */
  leftAfterStop?: { processes: string[]; ports: number[] };
  checks: ChaosCheck[];
  passed: boolean;
}

export class ChaosRun {
  private readonly receiver: FaultReceiver;
  private readonly stackRunner: StackRunner;
  private readonly closers: (() => Promise<unknown>)[] = [];
  private faults?: Faults;
  private probe?: ReadinessProbe;
  private stopping?: Promise<void>;
  private restarts = { worker: 0, api: 0 };
  /** Processes of ServiceProcess.spawned from here on are this run's. */
  private readonly firstSpawned = ServiceProcess.spawned.length;
  private ports: number[] = [];
  /** What `stop()` found still alive; the leftover check reads it. */
  leftAfterStop?: { processes: string[]; ports: number[] };

  constructor(
    private readonly settings: ChaosSettings,
    workDir: string,
    private readonly say: (line: string) => void = console.log,
  ) {
    this.receiver = new FaultReceiver({ faultShare: settings.faultShare, hangMs: settings.webhookTimeoutSeconds * 1000 + 1000, sparedKey: WARMUP_KEY });
    this.stackRunner = new StackRunner(workDir, {
      floorWorker: false,
      // Restarted quickly, as the kills come every few seconds; npm start backs off longer.
      supervise: {
        initialBackoffMs: 500,
        maxBackoffMs: 4000,
        healthyAfterMs: 5000,
      },
      // No circuit breaker: the run's receiver lives in this process, and a stall of it on a loaded
      // machine (CI, 2026-12-06) timed out one webhook's requests ten times in a row; the open
      // circuit then failed deliveries of the run's seconds-long schedule without a request (as
      // documented), and 20 of those auto-disabled the webhook. The breaker has its own tests;
      // here every failed delivery must have made its whole schedule.
      env: { LOG_LEVEL: 'warn', CIRCUIT_BREAKER: 'false' },
    });
  }

  get logDir(): string {
    return this.stackRunner.logDir;
  }

  /** The run, given up (rejected) once it passes the settings' cap; `stop()` then stops what it started. */
  async run(): Promise<ChaosResult> {
    const body = this.runToBooks();
    body.catch(() => undefined); // past the cap it fails as the stack stops under it: nobody waits for it
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the run exceeded its cap of ${this.settings.runCapMs / 60_000} minutes`)), this.settings.runCapMs);
    });
    try {
      return await Promise.race([body, cap]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async runToBooks(): Promise<ChaosResult> {
    const s = this.settings;
    const runStart = performance.now();
    const startedAt = new Date().toISOString();
    await this.receiver.start();
    this.say('chaos: starting the Temporal dev server, FerretDB on PostgreSQL, the worker and the API (supervised)…');
    const stack = await this.stackRunner.start();
    const parts = this.stackRunner.parts!;
    for (const name of ['worker', 'api'] as const) {
      const service = parts[name]!;
      service.options.onRestart = () => void this.restarts[name]++;
    }
    const apiPort = Number(new URL(stack.apiUrl).port);
    const postgresArgs = parts.mongo.services.postgres.options.args;
    this.ports = [apiPort, Number(stack.temporalAddress.split(':')[1]), Number(new URL(stack.mongodbUri).port), Number(postgresArgs[postgresArgs.indexOf('-p') + 1])];
    const faults = (this.faults = new Faults(parts, apiPort));
    const api = new BenchApiClient(stack.apiUrl, stack.adminToken);
    this.closers.push(() => api.close());

    const tenants: Tenant[] = [];
    const webhooks: ChaosWebhook[] = [];
    for (let t = 0; t < s.tenants; t++) {
      const tenant = await api.createTenant(`chaos tenant ${t}`);
      tenants.push(tenant);
      for (const [w, events] of s.webhookSubscriptions.entries()) {
        const key = `t${t}-w${w}`;
        const id = await api.createWebhook(tenant, { url: this.receiver.url(key), events, retrySchedule: s.retrySchedule, timeoutSeconds: s.webhookTimeoutSeconds });
        webhooks.push({ tenantIndex: t, key, id, events });
      }
    }
    // A warm-up delivery on a tenant of its own proves the worker runs before the clock starts.
    const warm = await api.createTenant('chaos warm-up');
    await api.createWebhook(warm, { url: this.receiver.url(WARMUP_KEY), events: ['*'], retrySchedule: ['1s'], timeoutSeconds: s.webhookTimeoutSeconds });
    await api.sendEvent(warm, 'warmup.done', {});
    const warmDeadline = performance.now() + WARMUP_CAP_MS;
    while (![...this.receiver.deliveries.values()].some((d) => d.webhookKey === WARMUP_KEY && d.successes > 0)) {
      if (performance.now() > warmDeadline) throw new Error(`no warm-up delivery within ${WARMUP_CAP_MS / 1000}s: see the worker's log in ${this.logDir}`);
      await sleep(200);
    }
    const startupMs = Math.round(performance.now() - runStart);
    this.say(`chaos: stack up and warm in ${(startupMs / 1000).toFixed(1)}s; ${s.events} events to ${s.tenants} tenants, ${webhooks.length} webhooks`);

    const events: PlannedEvent[] = Array.from({ length: s.events }, (_, i) => ({
      tenantIndex: i % s.tenants,
      id: `chaos-${i}`,
      type: s.eventTypes[i % s.eventTypes.length],
    }));
    const probe = (this.probe = new ReadinessProbe(stack.apiUrl, s.requestTimeoutMs));
    probe.start();

    // The faults, on their schedule from the first event; worker kills while the producers run.
    const t0 = performance.now();
    const at = (ms: number, what: string, run: () => Promise<void>) =>
      sleep(ms).then(() => {
        this.say(`chaos: +${Math.round((performance.now() - t0) / 1000)}s ${what}`);
        return run();
      });
    const scheduled: Promise<void>[] = [];
    if (s.temporalFreeze) scheduled.push(at(s.temporalFreeze.atMs, 'freezing the Temporal dev server', () => faults.freezeTemporal(s.temporalFreeze!.forMs)));
    const kill = { temporal: () => faults.killTemporal(), ferretdb: () => faults.killFerretDB(), postgres: (downMs?: number) => faults.killPostgres(downMs), api: () => faults.killApi() };
    for (const { atMs, target, downMs } of s.kills) scheduled.push(at(atMs, `SIGKILL to ${target}${downMs ? ` (down ${downMs / 1000}s)` : ''}`, () => kill[target](downMs)));
    // Handled here: a fault that fails while the producers still run must not crash the run.
    const faultErrors: string[] = [];
    const faultsDone = scheduled.map((p) => p.catch((err: unknown) => void faultErrors.push(err instanceof Error ? err.message : String(err))));
    let producing = true;
    // Each worker is killed once it has worked a while (a new request reached the receiver):
    // on a loaded machine a restart takes longer than the kill period, and a worker killed
    // before it ever polls would test nothing but start-up.
    const killer = (async () => {
      while (producing && faults.workerKills < s.workerKills) {
        await sleep(1000); // requests the dead worker had already sent may still arrive
        const seen = this.receiver.requests;
        while (producing && this.receiver.requests === seen) await sleep(200);
        await sleep(s.workerKillEveryMs);
        if (producing) faults.killWorker();
      }
    })();

    const deadline = runStart + s.runCapMs - s.reserveMs;
    const ingestion = await produce({
      apiUrl: stack.apiUrl,
      tenants,
      events,
      perSecond: s.ingestPerSecond,
      concurrency: s.producers,
      requestTimeoutMs: s.requestTimeoutMs,
      deadline,
    });
    producing = false;
    const ingestMs = Math.round(performance.now() - t0);
    this.say(`chaos: ${ingestion.accepted.size} of ${s.events} events accepted in ${(ingestMs / 1000).toFixed(1)}s; waiting for the faults to end and every delivery to settle…`);
    await Promise.all([killer, ...faultsDone]);

    const owed = owedDeliveries(events, ingestion.accepted, webhooks);
    const drainStart = performance.now();
    let failed = new Set<string>();
    for (let round = 0; ; round++) {
      const received = receivedDeliveries(this.receiver);
      const missing = [...owed].filter((k) => !received.has(k));
      if (missing.length) failed = await failedDeliveries(api, tenants, webhooks).catch(() => failed);
      const open = missing.filter((k) => !failed.has(k)).length;
      if (open === 0 || performance.now() > deadline) break;
      if (round % 6 === 0) this.say(`chaos: ${open} deliveries neither received nor failed yet`);
      await sleep(5000);
    }
    const drainMs = Math.round(performance.now() - drainStart);
    // The product's own records may trail the receiver (a 2xx whose worker died is retried and
    // recorded later): wait for them too, which also leaves time for late duplicates to arrive.
    let recorded = await recordedCounts(api, tenants);
    while (recorded.successful + recorded.failed < owed.size && performance.now() < deadline) {
      await sleep(2000);
      recorded = await recordedCounts(api, tenants);
    }
    await probe.stop();
    // What is neither received nor failed yet is either still on its way in Temporal, or lost.
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const unsettled = () => {
      const received = receivedDeliveries(this.receiver);
      return [...owed].filter((k) => !received.has(k) && !failed.has(k));
    };
    const listingDeadline = runStart + s.runCapMs - s.reserveMs / 2;
    const inFlight = await inFlightDeliveries(new Client({ connection }), webhooks, unsettled, listingDeadline).finally(() => connection.close());
    // Received or failed after the listing counts as such: the books are taken last.
    failed = await failedDeliveries(api, tenants, webhooks).catch(() => failed);
    const books = tally(owed, receivedDeliveries(this.receiver), failed, this.receiver, inFlight);
    const failedShort = shortOfSchedule(failed, requestsByPair(this.receiver), maxAttempts(s.retrySchedule));
    const counterMismatches = await webhookCounters(api, tenants, webhooks, this.receiver, failed, Math.min(performance.now() + COUNTERS_WAIT_MS, runStart + s.runCapMs - s.reserveMs / 4));

    const { accepted, ...ingestionRest } = ingestion;
    const result: ChaosResult = {
      settings: s,
      startedAt,
      finishedAt: new Date().toISOString(),
      startupMs,
      ingestMs,
      drainMs,
      accepted: accepted.size,
      ingestion: ingestionRest,
      readiness: probe.answers,
      faults: faults.log,
      workerKills: faults.workerKills,
      workerRestarts: this.restarts.worker,
      apiRestarts: this.restarts.api,
      receiver: { requests: this.receiver.requests, errors: this.receiver.errors, hangs: this.receiver.hangs, strays: this.receiver.strays },
      tally: books,
      recorded,
      failedShort,
      counterMismatches,
      faultErrors,
      checks: [],
      passed: false,
    };
    result.checks = checks(result);
    result.passed = result.checks.every((c) => c.pass);
    return result;
  }

  /**
   * Stops everything this run started, once, whoever asks first: the stack before the clients
   * (a run past its cap is still using them), each step whatever the others did. What is still
   * alive after that is noted in `leftAfterStop` and then SIGKILLed.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const step = (what: string) => (err: unknown) => this.say(`chaos: stopping ${what}: ${err instanceof Error ? err.message : String(err)}`);
      this.faults?.heal();
      await this.stackRunner.stop().catch(step('the stack'));
      await this.probe?.stop().catch(step('the readiness probe'));
      for (const close of this.closers.splice(0).reverse()) await close().catch(step('a client'));
      await this.receiver.stop().catch(step('the receiver'));
      const mine = ServiceProcess.spawned.slice(this.firstSpawned);
      const alive = mine.filter((p) => processAlive(p.pid) || (p.processGroup && groupAlive(p.pid)));
      const ports: number[] = [];
      for (const port of this.ports) if (await portOpen(port)) ports.push(port);
      this.leftAfterStop = { processes: alive.map((p) => `${p.name} (pid ${p.pid})`), ports };
      for (const p of alive) {
        try {
          process.kill(p.processGroup ? -p.pid : p.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    })();
    return this.stopping;
  }
}

/** The check of what `stop()` left running (after the stop, so not in `run()`'s checks). */
export function leftoverCheck(left: ChaosRun['leftAfterStop']): ChaosCheck {
  const processes = left?.processes ?? ['(stop() not run)'];
  const ports = left?.ports ?? [];
  return {
    name: 'nothing left running after the stop',
    pass: processes.length === 0 && ports.length === 0,
    detail: processes.length + ports.length === 0 ? 'no process of the run alive, every port of it closed' : `alive: ${processes.join(', ') || 'none'}; ports open: ${ports.join(', ') || 'none'}`,
  };
}

/** Deliveries recorded failed whose receiver saw fewer requests than the schedule's attempts: an attempt spent without an HTTP request. */
export function shortOfSchedule(failed: ReadonlySet<string>, requests: ReadonlyMap<string, number>, attempts: number): ChaosResult['failedShort'] {
  const short: ChaosResult['failedShort'] = [];
  for (const delivery of failed) {
    const seen = requests.get(delivery) ?? 0;
    if (seen < attempts) short.push({ delivery, requests: seen, attempts });
  }
  return short;
}

/**
 * Each webhook's counters (GET /v1/webhooks/{id}) against the receiver: successes = its
 * deliveries the receiver answered 2xx, failures = those recorded failed that it never answered
 * 2xx. Counter writes are batched: asked again until they agree or `deadline` passes.
 */
async function webhookCounters(
  api: BenchApiClient,
  tenants: readonly Tenant[],
  webhooks: readonly ChaosWebhook[],
  receiver: FaultReceiver,
  failed: ReadonlySet<string>,
  deadline: number,
): Promise<ChaosResult['counterMismatches']> {
  const received = receivedDeliveries(receiver);
  for (;;) {
    const mismatches: ChaosResult['counterMismatches'] = [];
    for (const webhook of webhooks) {
      const own = (key: string) => key.startsWith(`${webhook.key} `);
      const expected = { success: [...received].filter(own).length, failure: [...failed].filter((k) => own(k) && !received.has(k)).length };
      const got = await api.client(tenants[webhook.tenantIndex].apiKey).getWebhook(webhook.id);
      const product = { success: got.deliverySuccessCount, failure: got.deliveryFailureCount };
      if (product.success !== expected.success || product.failure !== expected.failure) mismatches.push({ webhook: webhook.key, product, receiver: expected });
    }
    if (mismatches.length === 0 || performance.now() > deadline) return mismatches;
    await sleep(1000);
  }
}

/** The product's own count of deliveries (GET /v1/stats), summed over the tenants. */
async function recordedCounts(api: BenchApiClient, tenants: readonly Tenant[]): Promise<ChaosResult['recorded']> {
  const recorded = { total: 0, successful: 0, failed: 0 };
  for (const tenant of tenants) {
    const stats = await api.client(tenant.apiKey).get('/v1/stats');
    recorded.total += stats.deliveries24h.total;
    recorded.successful += stats.deliveries24h.successful;
    recorded.failed += stats.deliveries24h.failed;
  }
  return recorded;
}

/** What must hold after a run: the issue's conditions, each with the figure behind it. */
function checks(r: ChaosResult): ChaosCheck[] {
  const s = r.settings;
  const refusals = Object.entries(r.ingestion.answers).filter(([status]) => status !== '202');
  const slowest = Math.max(0, ...refusals.map(([, t]) => t.maxMs));
  const readySlowest = Math.max(0, ...Object.values(r.readiness).map((t) => t.maxMs));
  const serverErrors = refusals.filter(([status]) => status.startsWith('5') && status !== '503');
  const apiKilled = s.kills.some((k) => k.target === 'api');
  const readyErrors = Object.entries(r.readiness).filter(([status]) => status.startsWith('5') && status !== '503');
  const temporalOut = !!s.temporalFreeze || s.kills.some((k) => k.target === 'temporal');
  const list: ChaosCheck[] = [
    {
      name: 'lost = 0',
      pass: r.tally.lost === 0,
      detail: `${r.tally.lost} of ${r.tally.expected} owed deliveries neither received, nor recorded failed, nor still on their way`,
    },
    {
      name: 'every owed delivery received or recorded failed',
      pass: r.tally.delivered + r.tally.failed === r.tally.expected,
      detail: `${r.tally.delivered} received + ${r.tally.failed} failed of ${r.tally.expected}; ${r.tally.inFlight} still on their way at the end, ${r.tally.unchecked} not looked up in time`,
    },
    {
      name: "the product's counts agree",
      pass: r.recorded.total === r.tally.expected && r.recorded.successful + r.recorded.failed === r.tally.expected,
      detail: `GET /v1/stats: ${r.recorded.total} deliveries, ${r.recorded.successful} successful, ${r.recorded.failed} failed; ${r.tally.expected} owed`,
    },
    { name: 'every event accepted in the end', pass: r.ingestion.notAccepted === 0, detail: `${r.accepted} accepted, ${r.ingestion.notAccepted} never` },
    {
      name: `refused ingestion answered within ${s.refusalBoundMs / 1000}s`,
      pass: slowest <= s.refusalBoundMs,
      detail: refusals.map(([status, t]) => `${status}: ${t.count}, max ${t.maxMs} ms`).join('; ') || 'none refused',
    },
    {
      name: 'no 500 (no 5xx but 503) to producers or /readyz',
      pass: serverErrors.length === 0 && readyErrors.length === 0,
      detail: [...serverErrors.map(([status, t]) => `ingestion ${status} x${t.count}`), ...readyErrors.map(([status, t]) => `/readyz ${status} x${t.count}`)].join(', ') || 'none',
    },
    {
      name: 'every failed delivery made its full schedule of HTTP attempts',
      pass: r.failedShort.length === 0,
      detail: r.failedShort.length
        ? `${r.failedShort.length} recorded failed with fewer requests at the receiver than ${r.failedShort[0].attempts} attempts: ${r.failedShort.slice(0, 5).map((f) => `${f.delivery} (${f.requests})`).join(', ')}`
        : `none of ${r.tally.failed} failed short of its schedule`,
    },
    {
      name: "webhook counters agree with the receiver",
      pass: r.counterMismatches.length === 0,
      detail: r.counterMismatches.length
        ? r.counterMismatches.slice(0, 6).map((m) => `${m.webhook}: ${m.product.success}/${m.product.failure} counted, ${m.receiver.success}/${m.receiver.failure} seen`).join('; ')
        : 'deliverySuccessCount / deliveryFailureCount of every webhook = its 2xx / failed deliveries at the receiver',
    },
    {
      name: `/readyz answered within ${s.refusalBoundMs / 1000}s${apiKilled ? ' (or refused while the API was down)' : ''}`,
      pass: readySlowest <= s.refusalBoundMs && !r.readiness[NO_ANSWER] && (apiKilled || !r.readiness[REFUSED]),
      detail: Object.entries(r.readiness).map(([status, t]) => `${status}: ${t.count}, max ${t.maxMs} ms`).join('; '),
    },
  ];
  if (temporalOut) {
    list.push({ name: 'ingestion said 503 while Temporal was down', pass: (r.ingestion.answers['503']?.count ?? 0) > 0, detail: `${r.ingestion.answers['503']?.count ?? 0} answers 503` });
    list.push({ name: '/readyz said 503 while Temporal was down', pass: (r.readiness['503']?.count ?? 0) > 0, detail: `${r.readiness['503']?.count ?? 0} answers 503` });
  }
  if (s.kills.length) {
    const killed = r.faults.filter((f) => f.fault.includes('SIGKILL') && f.fault !== 'worker SIGKILL');
    list.push({
      name: 'every server killed served again (supervised)',
      pass: killed.length === s.kills.length && r.faultErrors.length === 0,
      detail: r.faultErrors.join('; ') || killed.map((f) => `${f.fault}: back in ${(f.ms / 1000).toFixed(1)} s`).join(', '),
    });
  }
  if (s.workerKills > 0) list.push({ name: 'the worker was killed and restarted', pass: r.workerKills > 0 && r.workerRestarts >= r.workerKills, detail: `${r.workerKills} kills, ${r.workerRestarts} restarts` });
  return list;
}
