import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
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

/**
 * setpriv (util-linux) sets the parent-death signal before it executes the service: the kernel
 * sends the service its stop signal when this process dies, even by SIGKILL, so nothing it
 * started is left running without it. Elsewhere (no setpriv) only a clean stop stops them.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p) && supportsPdeathsig(p));

/** How much of a log's end an error about its process quotes. */
const LOG_TAIL_CHARS = 2000;

/** util-linux before 2.33 has setpriv without --pdeathsig. */
function supportsPdeathsig(setpriv: string): boolean {
  try {
    return execFileSync(setpriv, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('--pdeathsig');
  } catch {
    return false;
  }
}

/** What was started and whether it had its own process group: every one, for a check that none is left. */
export interface SpawnedProcess {
  name: string;
  pid: number;
  processGroup: boolean;
}

/** A server process this project started and must stop. */
export class ServiceProcess {
  /** Every process this Node process started through this class, oldest first. */
  static readonly spawned: SpawnedProcess[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  /** Its log file has everything the process wrote (its output closed). */
  private readonly logWritten: Promise<void> = Promise.resolve();

  constructor(readonly options: ServiceProcessOptions) {
    let stdio: 'inherit' | ['ignore', 'pipe', 'pipe'] = 'inherit';
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      stdio = ['ignore', 'pipe', 'pipe'];
    }
    const [command, args] = SETPRIV
      ? [SETPRIV, ['--pdeathsig', (options.stopSignal ?? 'SIGTERM').replace(/^SIG/, ''), '--', options.command, ...options.args]]
      : [options.command, options.args];
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio,
      uid: options.user?.uid,
      gid: options.user?.gid,
      detached: options.processGroup ?? false,
    });
    if (this.child.pid !== undefined) ServiceProcess.spawned.push({ name: options.name, pid: this.child.pid, processGroup: options.processGroup ?? false });
    if (options.logFile) {
      const log = createWriteStream(options.logFile, { flags: 'a' });
      // Ended once both streams have closed: the first to end must not end the file under the
      // other (a Temporal service's last lines crashed this process with "write after end").
      this.child.stdout?.pipe(log, { end: false });
      this.child.stderr?.pipe(log, { end: false });
      this.child.once('close', () => log.end());
      this.logWritten = new Promise((resolve) => log.once('finish', resolve));
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
    if (this.running) {
      this.kill(this.options.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.reapGroup(graceMs);
  }

  /**
   * With its own process group, what is left of the group once its leader exited is killed, and
   * this resolves once the group is gone. (PostgreSQL's backends are not in it: each starts a
   * session of its own, and exits by itself when it sees its postmaster gone.)
   */
  async reapGroup(timeoutMs = 10_000): Promise<void> {
    const pid = this.child.pid;
    if (!this.options.processGroup || pid === undefined) return;
    const deadline = Date.now() + timeoutMs;
    while (groupAlive(pid)) {
      signalGroup(pid, 'SIGKILL');
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` to the process, or to its whole group when it has one. */
  kill(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    if (this.options.processGroup) signalGroup(this.child.pid, signal);
    else this.child.kill(signal);
  }

  /**
   * Where its log is, and the log's last lines: the file may be gone (a test's temporary
   * directory, a CI machine) by the time someone reads the error.
   */
  private async seeLog(): Promise<string> {
    const { logFile } = this.options;
    if (!logFile) return '';
    // A process it started may hold the output open: its last lines are not waited for long.
    await Promise.race([this.logWritten, new Promise((r) => setTimeout(r, 1000).unref())]);
    let tail = '';
    try {
      tail = readFileSync(logFile, 'utf8').slice(-LOG_TAIL_CHARS).trimEnd();
    } catch {
      // not written yet
    }
    return ` (see ${logFile}${tail ? `; it ends:\n${tail}` : ''})`;
  }

  /** Resolves once `host:port` accepts connections; rejects if the process exits or time runs out. */
  async waitForPort(port: number, timeoutMs = 60_000, host = '127.0.0.1'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.options.name} exited before listening on ${host}:${port}${await this.seeLog()}`);
      if (await portOpen(port, host)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.options.name} did not listen on ${host}:${port} within ${timeoutMs / 1000}s${await this.seeLog()}`);
  }

  /** Waits until `url` answers 200: the API listens before its database answers, and is ready only then. */
  async waitForOk(url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.options.name} exited before ${url} answered 200${await this.seeLog()}`);
      const ok = await fetch(url, { signal: AbortSignal.timeout(5000) }).then((res) => (void res.body?.cancel(), res.ok), () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${this.options.name}: ${url} did not answer 200 within ${timeoutMs / 1000}s${await this.seeLog()}`);
  }
}

/** Whether something accepts connections on `host:port`. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

/** Whether any process of group `pgid` is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether process `pid` is alive: a zombie (exited, not yet reaped by its parent) is not. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}
