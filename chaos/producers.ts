/**
 * The producers of a chaos run: they post the events at a steady rate through the public API,
 * as a well-behaved producer does: a 503 or a dropped connection is retried with the same event
 * id (ingestion is idempotent) until a 202 comes. Every answer is timed, so the run can say how
 * fast a refusal came while Temporal or the database was down.
 */
import { Pool } from 'undici';
import type { Tenant } from '../bench/api-client';
import { sleep } from '../bench/stats';

export interface PlannedEvent {
  tenantIndex: number;
  id: string;
  type: string;
}

/** How one kind of answer went: how many, and the slowest. */
export interface AnswerTally {
  count: number;
  maxMs: number;
}

export interface IngestionResult {
  /** Event ids that got a 202. */
  accepted: Set<string>;
  /** Events that never got a 202 before the producers had to stop. */
  notAccepted: number;
  /** By status ('202', '503', ...; NO_ANSWER for a timed-out request, REFUSED for a refused or reset connection). */
  answers: Record<string, AnswerTally>;
  /** Retries after a refusal or no answer. */
  retries: number;
}

/** An answer key: no answer within the timeout (a hang), and no connection at all (the API process down). */
export const NO_ANSWER = 'no answer';
export const REFUSED = 'refused (API down)';

/** What a request that got no HTTP answer counts as. */
export function unanswered(err: unknown): string {
  const codes = [(err as { code?: string }).code, (err as { cause?: { code?: string } }).cause?.code];
  return codes.some((c) => c === 'ECONNREFUSED' || c === 'ECONNRESET' || c === 'UND_ERR_SOCKET') ? REFUSED : NO_ANSWER;
}

function tally(answers: Record<string, AnswerTally>, key: string, ms: number): void {
  const t = (answers[key] ??= { count: 0, maxMs: 0 });
  t.count++;
  t.maxMs = Math.max(t.maxMs, Math.round(ms));
}

export interface ProducerOptions {
  apiUrl: string;
  tenants: Tenant[];
  events: PlannedEvent[];
  perSecond: number;
  concurrency: number;
  requestTimeoutMs: number;
  /** Producers give up on what is not accepted by then (performance.now()). */
  deadline: number;
}

export async function produce(options: ProducerOptions): Promise<IngestionResult> {
  const pool = new Pool(options.apiUrl, { connections: options.concurrency, keepAliveTimeout: 10_000 });
  const result: IngestionResult = { accepted: new Set(), notAccepted: 0, answers: {}, retries: 0 };
  const start = performance.now();
  let next = 0;
  const send = async (event: PlannedEvent): Promise<boolean> => {
    const t = performance.now();
    try {
      const res = await pool.request({
        method: 'POST',
        path: '/v1/events',
        headers: { authorization: `Bearer ${options.tenants[event.tenantIndex].apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: event.id, type: event.type, data: { chaos: true, id: event.id } }),
        headersTimeout: options.requestTimeoutMs,
        bodyTimeout: options.requestTimeoutMs,
      });
      await res.body.text();
      tally(result.answers, String(res.statusCode), performance.now() - t);
      return res.statusCode === 202;
    } catch (err) {
      tally(result.answers, unanswered(err), performance.now() - t);
      return false;
    }
  };
  const producer = async () => {
    for (let i = next++; i < options.events.length; i = next++) {
      const due = start + (i * 1000) / options.perSecond;
      if (due > performance.now()) await sleep(due - performance.now());
      const event = options.events[i];
      for (;;) {
        if (await send(event)) {
          result.accepted.add(event.id);
          break;
        }
        if (performance.now() > options.deadline) {
          result.notAccepted++;
          break;
        }
        result.retries++;
        await sleep(1000);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, producer));
  } finally {
    await pool.close();
  }
  return result;
}
