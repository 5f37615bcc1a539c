/**
 * The capacity model's inputs (docs/scaling.md): the CPU each tier spends per delivery in the
 * end-to-end phases, from /proc (cpu-meter.ts), and the Temporal Cloud Actions per delivery,
 * from the phases' histories (cloud-actions.ts); on the dev server (the phases of the main run)
 * and on the Temporal cluster (`npm run cluster`'s topology), where one more worker process and
 * one more history process are measured too.
 */
import { Client, Connection } from '@temporalio/client';
import { join } from 'node:path';
import { BenchApiClient } from './api-client';
import { perDelivery, tenantActions, type ActionCount } from './cloud-actions';
import { addCpu, cpuBetween, readCpu, TIERS, type CpuReading, type TierPids } from './cpu-meter';
import { deliveryResult, endToEndRound, EVENT_TYPE, tenantWithWebhooks, type DeliveryResult, type DeliveryRound } from './product';
import type { BenchReceiver } from './receiver';
import type { DeliveryPhase } from './settings';
import { settle } from './settle';
import { StackRunner, type BenchStack } from './stack';
import { sleep } from './stats';

/** Runs one named phase: undefined when skipped (--only) or failed (a warning says why). */
export type PhaseRunner = <T>(name: string, run: () => Promise<T>) => Promise<T | undefined>;

/** CPU per delivery by tier, over the rounds of one phase. */
export interface TierCpu {
  fanOut: number;
  deliveries: number;
  /** CPU ms of each tier over the phase's rounds. */
  cpuMs: CpuReading;
  /** The same per delivery, and their sum (the bench's own receiver and producers left out). */
  perDeliveryMs: CpuReading & { services: number };
}

export interface ActionsPerDelivery {
  deliveries: number;
  workflows: number;
  total: number;
  byKind: Record<string, number>;
}

/** One end-to-end round's CPU by tier, read from before it started to after its workflows closed. */
export interface MeteredRound extends DeliveryRound {
  cpuMs: CpuReading;
}

/** Waits for the phase's workflows to close (their last records come after the arrivals), for at most `settleMs`. */
export async function meteredRound(tiers: () => TierPids, client: Client, settleMs: number, run: () => Promise<DeliveryRound>): Promise<MeteredRound> {
  const before = readCpu(tiers());
  const round = await run();
  await settle(client, settleMs);
  return { ...round, cpuMs: cpuBetween(before, readCpu(tiers())) };
}

export function tierCpu(rounds: readonly MeteredRound[]): TierCpu | undefined {
  if (!rounds.length) return undefined;
  const cpuMs = addCpu(...rounds.map((r) => r.cpuMs));
  const deliveries = rounds.reduce((n, r) => n + r.delivered, 0);
  const per = (ms: number) => (deliveries ? Math.round((ms / deliveries) * 100) / 100 : 0);
  const perDeliveryMs = Object.fromEntries(TIERS.map((tier) => [tier, per(cpuMs[tier])])) as CpuReading;
  const services = per(TIERS.filter((t) => t !== 'bench').reduce((n, t) => n + cpuMs[t], 0));
  return { fanOut: rounds[0]!.fanOut, deliveries, cpuMs: Object.fromEntries(TIERS.map((t) => [t, Math.round(cpuMs[t])])) as CpuReading, perDeliveryMs: { ...perDeliveryMs, services } };
}

/** The Actions of the rounds' tenants' workflows, per delivery. */
export async function actionsOf(client: Client, rounds: readonly Pick<DeliveryRound, 'tenantId' | 'delivered'>[]): Promise<ActionsPerDelivery | undefined> {
  const tenantIds = rounds.flatMap((r) => (r.tenantId ? [r.tenantId] : []));
  if (!tenantIds.length) return undefined;
  const count: ActionCount = await tenantActions(client, tenantIds);
  const deliveries = rounds.reduce((n, r) => n + r.delivered, 0);
  return { deliveries, workflows: count.workflows, ...perDelivery(count, deliveries) };
}

/** The model's inputs from one Temporal: CPU by tier and Actions, per delivery. */
export interface CapacityFigure {
  deliveriesPerSecond: number;
  cpu?: TierCpu;
  actions?: ActionsPerDelivery;
}

/** Everything the capacity model reads (bench/README.md, docs/scaling.md). */
export interface CapacityResults {
  devServer: { fanOut1?: CapacityFigure; fanOut10?: CapacityFigure; retryStorm?: ActionsPerDelivery };
  cluster?: ClusterCapacity;
}

/** What the cluster measured: the topology of `npm run cluster`, then one worker less, then one history process less. */
export interface ClusterCapacity {
  fanOut1?: DeliveryResult & CapacityFigure;
  fanOut10?: DeliveryResult & CapacityFigure;
  /** Fan-out 1 at saturation in each topology, in the order measured. */
  scale: ScaleStep[];
  startupMs: number;
}

export interface ScaleStep {
  historyProcesses: number;
  workers: number;
  result: DeliveryResult;
  cpu?: TierCpu;
}

export interface ClusterRunOptions {
  workDir: string;
  receiver: BenchReceiver;
  rounds: number;
  e2e1: DeliveryPhase;
  e2e10: DeliveryPhase;
  settleMs: number;
  /** Runs named phases on a stack the way the main run does (--only, settling, timing, failure handling). */
  phaseOn: (on: { stack: BenchStack; client: Client }) => PhaseRunner;
  /** Stops what it started when the run is interrupted. */
  onStack: (runner: StackRunner) => void;
}

const WARMUP_CAP_MS = 180_000;

/**
 * Starts the cluster stack (two history processes, two workers, the API, the MongoDB-wire
 * server), measures fan-out 1 and 10 as the main run does, then fan-out 1 with one worker, then
 * with one history process too, and stops it all.
 */
export async function clusterCapacity(options: ClusterRunOptions): Promise<ClusterCapacity> {
  const { receiver } = options;
  const runner = new StackRunner(join(options.workDir, 'cluster-stack'), { temporal: 'cluster', workers: 2, floorWorker: false });
  options.onStack(runner);
  const startedAt = performance.now();
  const stack = await runner.start();
  const api = new BenchApiClient(stack.apiUrl, stack.adminToken);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  const phase = options.phaseOn({ stack, client });
  try {
    const warm = async (name: string) => {
      const tenant = await tenantWithWebhooks(api, receiver, name, 1);
      const arrivals = receiver.phase(name);
      await api.sendEvent(tenant, EVENT_TYPE, { warmup: true });
      const deadline = performance.now() + WARMUP_CAP_MS;
      while (arrivals.delivered < 1) {
        if (stack.failure) throw new Error(stack.failure);
        if (performance.now() > deadline) throw new Error(`the cluster's warm-up delivery (${name}) did not arrive`);
        await sleep(50);
      }
    };
    await warm('cluster-warmup');
    const result: ClusterCapacity = { scale: [], startupMs: Math.round(performance.now() - startedAt) };
    const tiers = () => runner.tierPids();
    const rounds = async (label: string, fanOut: number, settings: DeliveryPhase, count: number) => {
      const done: MeteredRound[] = [];
      for (let n = 1; n <= count; n++) {
        const round = await phase(`cluster: ${label}, fan-out ${fanOut}, round ${n}`, () =>
          meteredRound(tiers, client, options.settleMs, () => endToEndRound(api, receiver, `c${label.replace(/\W/g, '')}${fanOut}-${n}`, fanOut, { ...settings, count: Math.ceil(settings.count / options.rounds) })),
        );
        if (round) done.push(round);
      }
      return done;
    };
    const step = async (historyProcesses: number, workers: number, label: string) => {
      const done = await rounds(label, 1, options.e2e1, 1);
      if (done.length) result.scale.push({ historyProcesses, workers, result: deliveryResult(done), cpu: tierCpu(done) });
    };

    for (const [fanOut, settings] of [
      [1, options.e2e1],
      [10, options.e2e10],
    ] as const) {
      const done = await rounds('end to end', fanOut, settings, options.rounds);
      if (!done.length) continue;
      const actions = await actionsOf(client, done);
      const figure = { ...deliveryResult(done), cpu: tierCpu(done), actions };
      if (fanOut === 1) result.fanOut1 = figure;
      else result.fanOut10 = figure;
    }
    await step(2, 2, '2 history 2 workers');
    await runner.removeWorker();
    await step(2, 1, '2 history 1 worker');
    // The second history process leaves; its shards move to the first before anything is measured.
    const history = runner.parts?.cluster?.services.history;
    if (history && history.length > 1) {
      await history[1]!.stop();
      await warm('cluster-one-history');
      await step(1, 1, '1 history 1 worker');
    }
    return result;
  } finally {
    await connection.close();
    await api.close();
    await runner.stop();
  }
}
