/**
 * Asks `/readyz` once a second for the whole run and times every answer: while Temporal or the
 * database is down or frozen it must say 503 within a bound, never hang.
 */
import { request } from 'undici';
import { sleep } from '../bench/stats';
import { unanswered, type AnswerTally } from './producers';

export class ReadinessProbe {
  /** By status ('200', '503'; see `unanswered` for requests without an answer). */
  readonly answers: Record<string, AnswerTally> = {};
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly apiUrl: string,
    private readonly timeoutMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = performance.now();
        let key: string;
        try {
          const res = await request(`${this.apiUrl}/readyz`, { headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
          await res.body.text();
          key = String(res.statusCode);
        } catch (err) {
          key = unanswered(err);
        }
        const ms = Math.round(performance.now() - t);
        const tally = (this.answers[key] ??= { count: 0, maxMs: 0 });
        tally.count++;
        tally.maxMs = Math.max(tally.maxMs, ms);
        await sleep(Math.max(0, 1000 - ms));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
