/**
 * A service `npm start` keeps running: when the API or the worker dies (a crash, an OOM kill, a
 * SIGKILL), it is started again after a back-off, so one crash never stops ingestion or delivery.
 * The back-off doubles while it keeps crashing soon after start, and resets once it has stayed up.
 */
import { ServiceProcess, type ServiceProcessOptions } from './service-process';

export interface SupervisedServiceOptions extends ServiceProcessOptions {
  /** First wait before a restart. @default 1000 */
  initialBackoffMs?: number;
  /** Longest wait before a restart. @default 30000 */
  maxBackoffMs?: number;
  /** Up this long, a process counts as healthy and the back-off starts over. @default 60000 */
  healthyAfterMs?: number;
  /** Told of every exit that leads to a restart. */
  onRestart?: (code: number | null, backoffMs: number) => void;
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

  private spawn(): ServiceProcess {
    const service = new ServiceProcess(this.options);
    const startedAt = Date.now();
    void service.exited.then((code) => {
      if (this.stopping) return;
      if (Date.now() - startedAt >= (this.options.healthyAfterMs ?? 60_000)) this.backoffMs = this.options.initialBackoffMs ?? 1000;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
      this.options.onRestart?.(code, wait);
      this.timer = setTimeout(() => {
        if (this.stopping) return;
        this.restarts++;
        this.current = this.spawn();
      }, wait);
    });
    return service;
  }

  async stop(graceMs?: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.current.stop(graceMs);
  }
}
