/**
 * The faults a chaos run injects into its own stack, each as an operator would meet it: the
 * worker SIGKILLed (the supervisor restarts it), the Temporal dev server frozen with SIGSTOP or
 * restarted on the same SQLite file, FerretDB killed and started again after a while. Each
 * returns once the stack is whole again; `heal()` undoes whatever is still broken, for a run
 * that stops half-way.
 */
import type { StackParts } from '../bench/stack';
import { sleep } from '../bench/stats';
import { ServiceProcess } from '../src/embedded/service-process';

export interface FaultLog {
  at: string;
  fault: string;
  /** How long the stack was broken. */
  ms: number;
}

export class Faults {
  readonly log: FaultLog[] = [];
  workerKills = 0;
  private frozen = false;
  /** Set by `heal()`: no fault starts a process after that (the stack is being stopped). */
  private healed = false;

  constructor(private readonly parts: StackParts) {}

  private async record(fault: string, run: () => Promise<void>): Promise<void> {
    const at = new Date().toISOString();
    const t = performance.now();
    try {
      await run();
    } finally {
      this.log.push({ at, fault, ms: Math.round(performance.now() - t) });
    }
  }

  /** SIGKILL to the worker's process group; the supervisor starts a new one. */
  killWorker(): void {
    const worker = this.parts.worker!.process;
    if (!worker.running || this.healed) return;
    worker.kill('SIGKILL');
    this.workerKills++;
    this.log.push({ at: new Date().toISOString(), fault: 'worker SIGKILL', ms: 0 });
  }

  /** Freezes the Temporal dev server (SIGSTOP) for `ms`, then lets it run again. */
  freezeTemporal(ms: number): Promise<void> {
    return this.record(`Temporal dev server frozen (SIGSTOP) for ${ms / 1000}s`, async () => {
      this.frozen = true;
      this.parts.temporal.process.kill('SIGSTOP');
      await sleep(ms);
      this.thaw();
    });
  }

  /** Stops the Temporal dev server and starts it again on the same port and SQLite file. */
  restartTemporal(): Promise<void> {
    return this.record('Temporal dev server restarted on its SQLite file', async () => {
      const old = this.parts.temporal.process;
      await old.stop(10_000);
      if (this.healed) return;
      const again = new ServiceProcess(old.options);
      this.parts.temporal.process = again;
      await again.waitForPort(Number(this.parts.temporal.address.split(':')[1]));
    });
  }

  /** Kills FerretDB (SIGKILL), waits `ms`, and starts it again on the same port. */
  stopDatabase(ms: number): Promise<void> {
    return this.record(`FerretDB killed and kept down for ${ms / 1000}s`, async () => {
      const old = this.parts.mongo.ferretdb;
      old.kill('SIGKILL');
      await old.exited;
      await sleep(ms);
      if (this.healed) return;
      const again = new ServiceProcess(old.options);
      this.parts.mongo.ferretdb = again;
      await again.waitForPort(Number(new URL(this.parts.mongo.uri('x')).port));
    });
  }

  private thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    this.parts.temporal.process.kill('SIGCONT');
  }

  /** Lets a frozen server run again, and keeps faults in progress from starting anything. */
  heal(): void {
    this.healed = true;
    this.thaw();
  }
}
