/**
 * A process `npm start` keeps running: when one it started dies (a crash, an OOM kill, a
 * SIGKILL: the API, the worker, the Temporal dev server, FerretDB or PostgreSQL), it is started
 * again after a back-off, so one crash never leaves the stack down until someone notices.
 * The back-off doubles while it keeps crashing soon after start, and resets once it has stayed up.
 */
import { ServiceProcess, type ServiceProcessOptions } from './service-process';

/** How a service is restarted; the same for every process `npm start` runs. */
export interface Supervision {
  /** First wait before a restart. @default 1000 */
  initialBackoffMs?: number;
  /** Longest wait before a restart. @default 30000 */
  maxBackoffMs?: number;
  /** Up this long, a process counts as healthy and the back-off starts over. @default 60000 */
  healthyAfterMs?: number;
  /** Told of every exit that leads to a restart. */
  onRestart?: (code: number | null, backoffMs: number, name: string) => void;
}

export interface SupervisedServiceOptions extends ServiceProcessOptions, Supervision {
  /** False: never started again (a process a test or the bench breaks on purpose). @default true */
  restart?: boolean;
  /** Runs before each restart, once what is left of the dead process is gone (stale lock files). */
  beforeRestart?: () => void | Promise<void>;
  /** Told of each new process after a restart (e.g. to wait until it serves). */
  onRestarted?: (process: ServiceProcess) => void;
}

export class SupervisedService {
  /** How many times it was started again after dying. */
  restarts = 0;
  private current: ServiceProcess;
  private stopping = false;
  private backoffMs: number;
  private timer?: NodeJS.Timeout;

  constructor(readonly options: SupervisedServiceOptions) {
    this.backoffMs = options.initialBackoffMs ?? 1000;
    this.current = this.spawn();
  }

  /** The process running now (a new one after each restart). */
  get process(): ServiceProcess {
    return this.current;
  }

  get name(): string {
    return this.options.name;
  }

  private spawn(): ServiceProcess {
    const service = new ServiceProcess(this.options);
    const startedAt = Date.now();
    void service.exited.then((code) => {
      if (this.stopping || this.options.restart === false) return;
      if (Date.now() - startedAt >= (this.options.healthyAfterMs ?? 60_000)) this.backoffMs = this.options.initialBackoffMs ?? 1000;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
      this.options.onRestart?.(code, wait, this.options.name);
      void (async () => {
        // What the dead process left in its group goes first: it may hold the ports or files
        // the new one needs. (A new postmaster that still finds the old one's backends attached
        // to its shared memory exits, and is started again after the next back-off.)
        await service.reapGroup();
        await new Promise<void>((resolve) => (this.timer = setTimeout(resolve, wait)));
        if (this.stopping) return;
        await this.options.beforeRestart?.();
        if (this.stopping) return;
        this.restarts++;
        this.current = this.spawn();
        this.options.onRestarted?.(this.current);
      })().catch((err: unknown) => {
        console.error(`${this.options.name}: restart failed: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
    return service;
  }

  /**
   * Resolves once the process running (this one or a restart of it) listens on `port`: one that
   * dies in its first seconds is started again, and the wait goes on through that back-off.
   * Rejects when time runs out, when stopped, or at the first exit of a service never restarted.
   */
  waitForPort(port: number, timeoutMs = 60_000, host = '127.0.0.1'): Promise<void> {
    return this.acrossRestarts(timeoutMs, (process, left) => process.waitForPort(port, left, host));
  }

  /** Resolves once `url` answers 200 from the process running, through restarts as waitForPort. */
  waitForOk(url: string, timeoutMs = 60_000): Promise<void> {
    return this.acrossRestarts(timeoutMs, (process, left) => process.waitForOk(url, left));
  }

  private async acrossRestarts(timeoutMs: number, wait: (process: ServiceProcess, leftMs: number) => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const process = this.current;
      try {
        return await wait(process, Math.max(deadline - Date.now(), 1));
      } catch (err) {
        // Still running means time ran out; a service never restarted has failed for good.
        if (process.running || this.stopping || this.options.restart === false || Date.now() >= deadline) throw err;
        while (this.current === process && !this.stopping && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (this.current === process) throw err;
      }
    }
  }

  /** Sends `signal` to the process running now (its group when it has one). */
  kill(signal: NodeJS.Signals): void {
    this.current.kill(signal);
  }

  /** Stops it for good: no restart after this, even one whose back-off is running. */
  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.current.stop(graceMs);
  }
}
