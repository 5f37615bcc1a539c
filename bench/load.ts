/**
 * Load generators. Closed loop: `concurrency` senders, each sending its next request when the
 * previous one answered (finds the saturating rate). Open loop: requests are sent on a fixed
 * schedule whatever the answers, and latency is measured from the scheduled time, so a slow
 * server cannot hide its queueing (no coordinated omission).
 */
import type { ClosedLoopPhase } from './settings';
import { sleep } from './stats';

export interface LoadResult {
  /** Requests that completed without throwing. */
  ok: number;
  failed: number;
  /** Latency of each successful request, in ms. */
  latenciesMs: number[];
  /** From the first send to the last answer, in ms. */
  elapsedMs: number;
  /** Open loop only: requests not sent because `maxInFlight` were already waiting. */
  skipped: number;
  /** The first error seen, so a broken phase says why. */
  firstError?: string;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs `send(i)` for i = 0..count-1 with `concurrency` in flight, stopping new sends after capMs. */
export async function closedLoop(phase: ClosedLoopPhase, send: (i: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: 0, latenciesMs: [], elapsedMs: 0, skipped: 0 };
  const started = performance.now();
  const stopAt = started + phase.capMs;
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < phase.count && performance.now() < stopAt; i = next++) {
      const t = performance.now();
      try {
        await send(i);
        result.latenciesMs.push(performance.now() - t);
        result.ok++;
      } catch (err) {
        result.failed++;
        result.firstError ??= errorText(err);
      }
    }
  };
  await Promise.all(Array.from({ length: phase.concurrency }, sender));
  result.elapsedMs = performance.now() - started;
  return result;
}

/** Rounds of one closed-loop phase as one: their requests, latencies and time added up. */
export function mergeLoads(loads: readonly LoadResult[]): LoadResult {
  return {
    ok: loads.reduce((n, l) => n + l.ok, 0),
    failed: loads.reduce((n, l) => n + l.failed, 0),
    latenciesMs: loads.flatMap((l) => l.latenciesMs),
    elapsedMs: loads.reduce((n, l) => n + l.elapsedMs, 0),
    skipped: loads.reduce((n, l) => n + l.skipped, 0),
    firstError: loads.find((l) => l.firstError)?.firstError,
  };
}

export interface OpenLoopOptions {
  /** Requests per second offered. */
  ratePerSecond: number;
  durationMs: number;
  /** Beyond this many unanswered requests, scheduled ones are skipped (and counted). */
  maxInFlight: number;
  /** How long to wait for the answers still pending when the schedule ends. */
  answerCapMs: number;
}

/** Sends `send(i)` at `ratePerSecond` for `durationMs`; latency from each request's scheduled time. */
export async function openLoop(options: OpenLoopOptions, send: (i: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: 0, latenciesMs: [], elapsedMs: 0, skipped: 0 };
  const total = Math.max(1, Math.floor((options.ratePerSecond * options.durationMs) / 1000));
  const intervalMs = 1000 / options.ratePerSecond;
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  let closed = false; // answers after the cap are counted as failed, not late successes
  for (let i = 0; i < total; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (pending.size >= options.maxInFlight) {
      result.skipped++;
      continue;
    }
    const request = send(i).then(
      () => {
        if (closed) return;
        result.latenciesMs.push(performance.now() - due);
        result.ok++;
      },
      (err: unknown) => {
        if (closed) return;
        result.failed++;
        result.firstError ??= errorText(err);
      },
    );
    const tracked = request.finally(() => pending.delete(tracked));
    pending.add(tracked);
  }
  await Promise.race([Promise.all(pending), sleep(options.answerCapMs)]);
  closed = true;
  result.failed += pending.size; // unanswered within the cap
  result.elapsedMs = performance.now() - started;
  return result;
}
