/**
 * The faults a chaos run injects into its own stack, each as an operator would meet it: a
 * process SIGKILLed (the worker, the API, the Temporal dev server, FerretDB, PostgreSQL's
 * postmaster), each brought back by its supervisor as `npm start` does, and the Temporal dev
 * server frozen with SIGSTOP. Each kill but the worker's returns once the supervisor has the
 * process serving again; `heal()` undoes whatever is still broken, for a run that stops half-way.
 */
import type { StackParts } from '../bench/stack';
import { sleep } from '../bench/stats';
import { portOpen } from '../src/embedded/service-process';
import type { SupervisedService } from '../src/embedded/supervised-service';

export interface FaultLog {
  at: string;
  fault: string;
  /** How long the stack was broken. */
  ms: number;
}

/** The longest a killed server may take to serve again before the fault gives up waiting. */
const HEAL_CAP_MS = 120_000;

export class Faults {
  readonly log: FaultLog[] = [];
  workerKills = 0;
  private frozen = false;
  /** Set by `heal()`: no fault waits any longer (the stack is being stopped). */
  private healed = false;

  constructor(
    private readonly parts: StackParts,
    /** Where the API listens: a killed API is back once it accepts connections again. */
    private readonly apiPort: number,
  ) {}

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
      this.parts.temporal!.process.kill('SIGSTOP');
      await sleep(ms);
      this.thaw();
    });
  }

  killTemporal(): Promise<void> {
    return this.killAndAwait('Temporal dev server SIGKILL', this.parts.temporal!.service, Number(this.parts.temporal!.address.split(':')[1]));
  }

  killFerretDB(): Promise<void> {
    return this.killAndAwait('FerretDB SIGKILL', this.parts.mongo.services.ferretdb, Number(new URL(this.parts.mongo.uri('x')).port));
  }

  /**
   * SIGKILL to the postmaster alone, as the OOM killer does: its backends are left to notice.
   * With `downMs`, its restart waits that long first (an outage longer than a retry's delay).
   */
  async killPostgres(downMs = 0): Promise<void> {
    const postgres = this.parts.mongo.services.postgres;
    const args = postgres.options.args;
    const beforeRestart = postgres.options.beforeRestart;
    if (downMs) {
      postgres.options.beforeRestart = async () => {
        postgres.options.beforeRestart = beforeRestart;
        if (!this.healed) await sleep(downMs);
        await beforeRestart?.();
      };
    }
    const label = `PostgreSQL postmaster SIGKILL${downMs ? `, kept down ${downMs / 1000}s` : ''}`;
    await this.killAndAwait(label, postgres, Number(args[args.indexOf('-p') + 1]), true);
  }

  killApi(): Promise<void> {
    return this.killAndAwait('API SIGKILL', this.parts.api!, this.apiPort);
  }

  /** SIGKILLs the service's process (its group, unless `leaderOnly`) and waits until the supervisor has a new one listening on `port`. */
  private killAndAwait(fault: string, service: SupervisedService, port: number, leaderOnly = false): Promise<void> {
    return this.record(fault, async () => {
      const old = service.process;
      if (!old.running || this.healed) return;
      if (leaderOnly) process.kill(old.pid!, 'SIGKILL');
      else old.kill('SIGKILL');
      await old.exited;
      const deadline = performance.now() + HEAL_CAP_MS;
      while (!this.healed && !(service.process !== old && service.process.running && (await portOpen(port)))) {
        if (performance.now() > deadline) throw new Error(`${fault}: not serving again within ${HEAL_CAP_MS / 1000}s`);
        await sleep(100);
      }
    });
  }

  private thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    this.parts.temporal!.process.kill('SIGCONT');
  }

  /** Lets a frozen server run again, and keeps faults in progress from waiting on anything. */
  heal(): void {
    this.healed = true;
    this.thaw();
  }
}
