/**
 * What a chaos run does and when: the full run of `npm run chaos` (issue 10: 5,000 events, the
 * worker killed every few seconds, the Temporal dev server frozen; issue 22: the Temporal dev
 * server, FerretDB, PostgreSQL's postmaster and the API SIGKILLed, each brought back by its
 * supervisor) and the small one inside `npm test`. Times of faults count from the first event.
 */

/** A process a run SIGKILLs (the supervisor restarts it). */
export type KillTarget = 'temporal' | 'ferretdb' | 'postgres' | 'api';
export interface ChaosSettings {
  name: 'full' | 'small';
  events: number;
  tenants: number;
  /** Event types of each webhook of a tenant; every tenant gets the same set. */
  webhookSubscriptions: string[][];
  /** Event types sent, in turn. */
  eventTypes: string[];
  /** Events released per second (producers retry refused ones on top). */
  ingestPerSecond: number;
  /** Requests in flight at once, at most. */
  producers: number;
  /** A producer's wait for one answer before it counts the request as unanswered. */
  requestTimeoutMs: number;
  /** Share of receiver requests that fail (half 500, half hang past the timeout). */
  faultShare: number;
  /** Webhooks' per-attempt timeout; hanging requests are held a second longer. */
  webhookTimeoutSeconds: number;
  /** Webhooks' retry schedule: short, so retries end inside the run. */
  retrySchedule: string[];
  /** While ingesting, SIGKILL each worker once it has been delivering this long. */
  workerKillEveryMs: number;
  /** At most this many worker kills. */
  workerKills: number;
  temporalFreeze?: { atMs: number; forMs: number };
  /** SIGKILLs of the servers and the API, each awaited until its supervisor has it serving again. */
  kills: { atMs: number; target: KillTarget; /** PostgreSQL only: its restart waits this long. */ downMs?: number }[];
  /** A refused ingestion (503) or readiness answer must come within this. */
  refusalBoundMs: number;
  /** The whole run, start-up to report, stops by itself after this. */
  runCapMs: number;
  /**
   * Left of the cap for the books and the stop; the listing of what is still running must end
   * by cap - reserve/2. The books took 11-23 s in the full runs of 2026-12-01, with 219 to 5,492
   * deliveries still on their way.
   */
  reserveMs: number;
}

const COMMON = {
  webhookSubscriptions: [['*'], ['order.*'], ['order.created', 'user.*']],
  eventTypes: ['order.created', 'order.paid', 'user.signup'],
  requestTimeoutMs: 30_000,
  faultShare: 0.2,
  webhookTimeoutSeconds: 2,
  retrySchedule: ['1s', '2s', '4s', '5s'],
  // START_DEADLINE_MS (10 s) of a hung Temporal, plus the way there and back on a loaded machine.
  refusalBoundMs: 15_000,
};

export const FULL: ChaosSettings = {
  ...COMMON,
  name: 'full',
  events: 5000,
  tenants: 4,
  ingestPerSecond: 15,
  producers: 32,
  workerKillEveryMs: 10_000,
  workerKills: 100,
  temporalFreeze: { atMs: 40_000, forMs: 30_000 },
  kills: [
    { atMs: 100_000, target: 'ferretdb' },
    { atMs: 130_000, target: 'postgres', downMs: 20_000 },
    { atMs: 160_000, target: 'temporal' },
    { atMs: 190_000, target: 'api' },
    { atMs: 250_000, target: 'postgres' },
  ],
  runCapMs: 10 * 60_000,
  reserveMs: 60_000,
};

export const SMALL: ChaosSettings = {
  ...COMMON,
  name: 'small',
  events: 200,
  tenants: 2,
  ingestPerSecond: 10,
  producers: 8,
  workerKillEveryMs: 3_000,
  workerKills: 1,
  kills: [
    { atMs: 3_000, target: 'ferretdb' },
    { atMs: 7_000, target: 'postgres', downMs: 8_000 },
    // While PostgreSQL is down: the restarted API listens and answers 503 until the database answers.
    { atMs: 10_000, target: 'api' },
  ],
  runCapMs: 200_000,
  reserveMs: 40_000,
};

/** `CHAOS_EVENTS` scales the full run down (or up) without changing its faults; `CHAOS_CAP_SECONDS` sets its cap. */
export function chaosSettings(argv: readonly string[], env: NodeJS.ProcessEnv): ChaosSettings {
  const base = argv.includes('--small') ? SMALL : FULL;
  const events = env.CHAOS_EVENTS ? Number(env.CHAOS_EVENTS) : base.events;
  if (!Number.isInteger(events) || events < 1) throw new Error('CHAOS_EVENTS must be a positive integer');
  const capSeconds = env.CHAOS_CAP_SECONDS ? Number(env.CHAOS_CAP_SECONDS) : undefined;
  if (capSeconds === undefined) return { ...base, events };
  if (!Number.isInteger(capSeconds) || capSeconds < 1) throw new Error('CHAOS_CAP_SECONDS must be a positive integer');
  // A shorter cap (e.g. to see a run stopped at its cap) keeps the same share of it for the books.
  return { ...base, events, runCapMs: capSeconds * 1000, reserveMs: Math.round((base.reserveMs * capSeconds * 1000) / base.runCapMs) };
}
