/**
 * How much each benchmark phase does and how long it may take, in a full run and in the quick
 * run (BENCH_QUICK=1 or --quick) that only checks the harness works. Every phase has a count and
 * a time cap, so the whole run is bounded (about 10 minutes on 2 cores, 1-2 minutes quick).
 */
import type { LogPagesSettings } from './log-pages';

export interface ClosedLoopPhase {
  /** Requests (or workflows, or events) sent at most. */
  count: number;
  /** Sending stops after this long even if `count` is not reached. */
  capMs: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export interface DeliveryPhase extends ClosedLoopPhase {
  /** After sending, how long to wait for the last deliveries to arrive. */
  drainMs: number;
}

export interface BenchSettings {
  quick: boolean;
  /**
   * `--only <word>[,<word>...]`: run only the phases whose name contains one of these words
   * (e.g. `--only portal`); the others are skipped and reported missing. Null: every phase.
   */
  only: string[] | null;
  /** Raw signed undici POSTs to the receiver. */
  rawPosts: ClosedLoopPhase;
  /** Raw workflow starts of an empty workflow on the bench-only task queue (`count` over all rounds). */
  rawStarts: ClosedLoopPhase;
  /**
   * Rounds in which each baseline and the product figure compared with it take turns (raw starts
   * and ingest at saturation; the floor and end to end at fan-out 1, then at fan-out 10), each
   * round a share of the phase's `count`.
   */
  rounds: number;
  /** The local-activity floor: `count` no-op workflows at fan-out 1, then at fan-out 10 (over all rounds). */
  floor1: DeliveryPhase;
  floor10: DeliveryPhase;
  /** POST /v1/events to a tenant with no webhook, closed-loop at saturation (`count` over all rounds). */
  ingestSaturation: ClosedLoopPhase;
  /** Then open-loop at this fraction of the saturating rate, for this long. */
  ingestFixed: { fraction: number; durationMs: number };
  /**
   * End to end, one tenant with 1 (then 10) webhooks: `concurrency` producers, each sending its
   * next event once every delivery of the previous one arrived (`drainMs`: the wait after sending;
   * `count` over all rounds, a new tenant each round).
   */
  e2e1: DeliveryPhase;
  e2e10: DeliveryPhase;
  /** Open-loop steps at these fractions of the fan-out-1 saturating event rate (the chart). */
  loadSteps: { fractions: number[]; durationMs: number; drainMs: number };
  /** One producer, one event at a time, each waiting for its arrival (and the floor's one at a time). */
  oneProducer: { count: number; capMs: number };
  /** Retry storm at fan-out 10: this share of first attempts answers 500, the retry 200. */
  retryStorm: DeliveryPhase & { failShare: number };
  /** Noisy neighbours: fan-out-10 events, ten healthy webhooks, then one never answering and one limited (`count` events each). */
  neighbours: DeliveryPhase;
  /** A transformation's cost: fan-out-10 events to ten plain webhooks, then to ten with a trivial transformation (`count` events each). */
  transformed: DeliveryPhase;
  /** Tracing's cost: fan-out-10 events through the untraced API and worker, and through traced ones, in turns (`count` over all rounds of each). */
  tracing: DeliveryPhase;
  /** One event to this many webhooks. */
  bigFanout: { webhooks: number; capMs: number };
  /** The portal's deliveries page of a webhook with this many deliveries, loaded this many times. */
  portalPage: { deliveries: number; loads: number };
  /** The tenant's event list and delivery log with this many deliveries (a seed), against a tenant with `baselineDeliveries`. */
  logPages: LogPagesSettings;
  /** Between phases, wait at most this long for the previous phase's workflows to close, then terminate them. */
  settleMs: number;
  /** The whole run is aborted (and everything stopped) after this long. */
  runCapMs: number;
}

const FULL: BenchSettings = {
  quick: false,
  only: null,
  rawPosts: { count: 20_000, capMs: 5_000, concurrency: 64 },
  rawStarts: { count: 2_400, capMs: 15_000, concurrency: 32 },
  rounds: 3,
  floor1: { count: 900, capMs: 15_000, concurrency: 32, drainMs: 30_000 },
  floor10: { count: 300, capMs: 15_000, concurrency: 32, drainMs: 30_000 },
  ingestSaturation: { count: 2_400, capMs: 15_000, concurrency: 32 },
  ingestFixed: { fraction: 0.5, durationMs: 10_000 },
  e2e1: { count: 900, capMs: 30_000, concurrency: 32, drainMs: 20_000 },
  e2e10: { count: 300, capMs: 30_000, concurrency: 16, drainMs: 20_000 },
  loadSteps: { fractions: [0.25, 0.5, 1, 1.5], durationMs: 10_000, drainMs: 15_000 },
  oneProducer: { count: 20, capMs: 40_000 },
  retryStorm: { count: 150, capMs: 30_000, concurrency: 16, drainMs: 30_000, failShare: 0.3 },
  neighbours: { count: 150, capMs: 30_000, concurrency: 16, drainMs: 20_000 },
  transformed: { count: 150, capMs: 30_000, concurrency: 16, drainMs: 20_000 },
  tracing: { count: 300, capMs: 30_000, concurrency: 16, drainMs: 20_000 },
  bigFanout: { webhooks: 10_000, capMs: 90_000 },
  portalPage: { deliveries: 1000, loads: 20 },
  logPages: { deliveries: 100_000, baselineDeliveries: 300, loads: 20 },
  settleMs: 15_000,
  runCapMs: 15 * 60_000,
};

const QUICK: BenchSettings = {
  quick: true,
  only: null,
  rawPosts: { count: 2_000, capMs: 2_000, concurrency: 64 },
  rawStarts: { count: 100, capMs: 5_000, concurrency: 16 },
  rounds: 2,
  floor1: { count: 50, capMs: 5_000, concurrency: 16, drainMs: 10_000 },
  floor10: { count: 10, capMs: 5_000, concurrency: 16, drainMs: 10_000 },
  ingestSaturation: { count: 100, capMs: 5_000, concurrency: 16 },
  ingestFixed: { fraction: 0.5, durationMs: 3_000 },
  e2e1: { count: 30, capMs: 10_000, concurrency: 8, drainMs: 10_000 },
  e2e10: { count: 8, capMs: 10_000, concurrency: 4, drainMs: 10_000 },
  loadSteps: { fractions: [0.5, 1], durationMs: 3_000, drainMs: 10_000 },
  oneProducer: { count: 5, capMs: 15_000 },
  retryStorm: { count: 8, capMs: 10_000, concurrency: 4, drainMs: 15_000, failShare: 0.3 },
  neighbours: { count: 8, capMs: 10_000, concurrency: 4, drainMs: 10_000 },
  transformed: { count: 8, capMs: 10_000, concurrency: 4, drainMs: 10_000 },
  tracing: { count: 16, capMs: 10_000, concurrency: 4, drainMs: 10_000 },
  bigFanout: { webhooks: 200, capMs: 30_000 },
  portalPage: { deliveries: 1000, loads: 5 },
  logPages: { deliveries: 5_000, baselineDeliveries: 300, loads: 3 },
  settleMs: 10_000,
  runCapMs: 4 * 60_000,
};

export function benchSettings(argv: readonly string[], env: NodeJS.ProcessEnv): BenchSettings {
  const quick = argv.includes('--quick') || env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const at = argv.indexOf('--only');
  const words = at >= 0 ? (argv[at + 1] ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean) : [];
  if (at >= 0 && !words.length) throw new Error('--only needs a phase word, e.g. --only portal');
  return { ...(quick ? QUICK : FULL), only: at >= 0 ? words : null };
}
