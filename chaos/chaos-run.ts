/**
 * One chaos run, start to report: its own embedded stack (API and worker supervised as
 * `npm start` runs them), the fault receiver, tenants and webhooks made through the API, then
 * the producers post every event while the faults of the settings hit the stack; then it waits
 * until every delivery owed was received or recorded failed (or time is up) and balances the
 * books. `stop()` stops everything it started, whenever it is called.
 */
import { Client, Connection } from '@temporalio/client';
import { BenchApiClient, type Tenant } from '../bench/api-client';
import { StackRunner } from '../bench/stack';
import { sleep } from '../bench/stats';
import { FaultReceiver } from './fault-receiver';
import { Faults, type FaultLog } from './faults';
import { produce, type AnswerTally, type IngestionResult, type PlannedEvent } from './producers';
import { ReadinessProbe } from './readiness-probe';
import type { ChaosSettings } from './settings';
import { WARMUP_KEY, failedDeliveries, inFlightDeliveries, owedDeliveries, receivedDeliveries, tally, type ChaosWebhook, type Tally } from './tally';

/** The first delivery also waits for the worker to bundle its workflow code. */
const WARMUP_CAP_MS = 180_000;

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
      env: { LOG_LEVEL: 'warn' },
    });
  }

  get logDir(): string {
    return this.stackRunner.logDir;
  }

  async run(): Promise<ChaosResult> {
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
    const faults = (this.faults = new Faults(parts));
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
    if (s.databaseStop) scheduled.push(at(s.databaseStop.atMs, 'killing FerretDB', () => faults.stopDatabase(s.databaseStop!.forMs)));
    if (s.temporalRestartAtMs !== undefined) scheduled.push(at(s.temporalRestartAtMs, 'restarting the Temporal dev server', () => faults.restartTemporal()));
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
    await Promise.all([killer, ...scheduled]);

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
      checks: [],
      passed: false,
    };
    result.checks = checks(result);
    result.passed = result.checks.every((c) => c.pass);
    return result;
  }

  /** Stops everything this run started, once, whoever asks first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.faults?.heal();
      await this.probe?.stop();
      for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
      await this.stackRunner.stop();
      await this.receiver.stop();
    })();
    return this.stopping;
  }
}

/** The product's own count of deliveries (GET /v1/stats), summed over the tenants. */
async function recordedCounts(api: BenchApiClient, tenants: readonly Tenant[]): Promise<ChaosResult['recorded']> {
  const recorded = { total: 0, successful: 0, failed: 0 };
  for (const tenant of tenants) {
    const stats = await api.get<{ deliveries24h: ChaosResult['recorded'] }>(tenant, '/v1/stats');
    recorded.total += stats.deliveries24h.total;
    recorded.successful += stats.deliveries24h.successful;
    recorded.failed += stats.deliveries24h.failed;
  }
  return recorded;
}

/** What must hold after a run: the conditions, each with the figure behind it. */
function checks(r: ChaosResult): ChaosCheck[] {
  const s = r.settings;
  const refusals = Object.entries(r.ingestion.answers).filter(([status]) => status !== '202');
  const slowest = Math.max(0, ...refusals.map(([, t]) => t.maxMs));
  const readySlowest = Math.max(0, ...Object.values(r.readiness).map((t) => t.maxMs));
  const serverErrors = refusals.filter(([status]) => status.startsWith('5') && status !== '503');
  const temporalOut = !!s.temporalFreeze || s.temporalRestartAtMs !== undefined;
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
    { name: 'no 5xx but 503', pass: serverErrors.length === 0, detail: serverErrors.map(([status, t]) => `${status} x${t.count}`).join(', ') || 'none' },
    {
      name: `/readyz answered within ${s.refusalBoundMs / 1000}s`,
      pass: readySlowest <= s.refusalBoundMs && !r.readiness['no answer'],
      detail: Object.entries(r.readiness).map(([status, t]) => `${status}: ${t.count}, max ${t.maxMs} ms`).join('; '),
    },
  ];
  if (temporalOut) {
    list.push({ name: 'ingestion said 503 while Temporal was down', pass: (r.ingestion.answers['503']?.count ?? 0) > 0, detail: `${r.ingestion.answers['503']?.count ?? 0} answers 503` });
    list.push({ name: '/readyz said 503 while Temporal was down', pass: (r.readiness['503']?.count ?? 0) > 0, detail: `${r.readiness['503']?.count ?? 0} answers 503` });
  }
  if (s.workerKills > 0) list.push({ name: 'the worker was killed and restarted', pass: r.workerKills > 0 && r.workerRestarts >= r.workerKills, detail: `${r.workerKills} kills, ${r.workerRestarts} restarts` });
  return list;
}
