import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';

export interface ServiceProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go. @default inherited from this process */
  logFile?: string;
  /** Run as this user (PostgreSQL refuses root). @default this process's user */
  user?: { uid: number; gid: number };
  /** The signal that asks for a clean, prompt stop. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
  /** Start it in its own process group, so that `stop` and `kill` reach its children too. @default false */
  processGroup?: boolean;
}

/** A server process this project started and must stop. */
export class ServiceProcess {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(readonly options: ServiceProcessOptions) {
    let stdio: 'inherit' | ['ignore', 'pipe', 'pipe'] = 'inherit';
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      stdio = ['ignore', 'pipe', 'pipe'];
    }
    this.child = spawn(options.command, options.args, {
      env: options.env ?? process.env,
      stdio,
      uid: options.user?.uid,
      gid: options.user?.gid,
      detached: options.processGroup ?? false,
    });
    if (options.logFile) {
      const log = createWriteStream(options.logFile, { flags: 'a' });
      this.child.stdout?.pipe(log);
      this.child.stderr?.pipe(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.once('error', () => resolve(-1));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The stop signal, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.kill(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Sends `signal` to the process, or to its whole group when it has one. */
  kill(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    if (this.options.processGroup) {
      try {
        process.kill(-this.child.pid, signal);
      } catch {
        // the group is gone already
      }
    } else {
      this.child.kill(signal);
    }
  }

  /** Resolves once `host:port` accepts connections; rejects if the process exits or time runs out. */
  async waitForPort(port: number, timeoutMs = 60_000, host = '127.0.0.1'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const where = this.options.logFile ? ` (see ${this.options.logFile})` : '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.options.name} exited before listening on ${host}:${port}${where}`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, host);
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => (socket.destroy(), resolve(false)));
      });
      if (open) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.options.name} did not listen on ${host}:${port} within ${timeoutMs / 1000}s${where}`);
  }
}
