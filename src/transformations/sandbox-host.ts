import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_SANDBOX_LIMITS, SandboxError, type SandboxLimits } from './sandbox';

export type SandboxRequest =
  | { id: number; kind: 'run'; version: string; code: string; input: string }
  | { id: number; kind: 'check'; code: string };

export type SandboxReply = { id: number; ok: true; output: string } | { id: number; ok: false; message: string; line?: number; limit?: 'time' | 'memory' };

type Request = SandboxRequest extends infer R ? (R extends SandboxRequest ? Omit<R, 'id'> : never) : never;

interface Job {
  request: SandboxRequest;
  resolve: (output: string) => void;
  reject: (err: SandboxError) => void;
  timer?: NodeJS.Timeout;
}

/**
 * How long a call may hold the sandbox's thread before the thread is ended: QuickJS stops plain
 * code at its time limit, but checks it only between operations, so a call spending its time in
 * built-ins (a sort, a fill of a large array, a heap near its limit) can overrun it many times.
 */
export const HARD_LIMIT_MS = 1000;

const FIRST_START_BACKOFF_MS = 100;
const MAX_START_BACKOFF_MS = 5000;

/** Runs this file's thread (sandbox-thread.ts): the compiled file, or the source through tsx where the service runs from source. */
function startThread(): Worker {
  const ext = extname(__filename);
  const entry = join(__dirname, `sandbox-thread${ext}`);
  // Its own JavaScript heap is small (a call's input and output); QuickJS's heaps are WebAssembly memory.
  const resourceLimits = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 };
  const worker =
    ext === '.ts'
      ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`, { eval: true, resourceLimits })
      : new Worker(entry, { resourceLimits });
  return worker;
}

/**
 * The process's sandbox thread: calls go to it one at a time (each is short), each with a hard
 * deadline past which the thread is ended and started again; calls queued behind it then run
 * on the new thread, whose compiled versions are rebuilt as they are needed.
 */
export class SandboxHost {
  private thread?: Worker;
  private readonly queue: Job[] = [];
  private busy?: Job;
  /** The thread has loaded its WebAssembly module: calls go to it from then on. */
  private ready = false;
  private nextId = 1;
  private closed = false;
  /** A thread that died before it was ready (a broken install) is started again after this, doubling. */
  private startBackoffMs = FIRST_START_BACKOFF_MS;
  private startAfter = 0;
  private startTimer?: NodeJS.Timeout;

  constructor(
    private readonly limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
    private readonly hardLimitMs = HARD_LIMIT_MS,
    private readonly start: () => Worker = startThread,
  ) {}

  /** The call's output (JSON text), or its `SandboxError`. */
  call(request: Request): Promise<string> {
    if (this.closed) return Promise.reject(new SandboxError('the sandbox is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { ...request, id: this.nextId++ } as SandboxRequest, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || !this.queue.length) return;
    const thread = this.running();
    if (!thread || !this.ready) return;
    const job = (this.busy = this.queue.shift() as Job);
    job.timer = setTimeout(() => this.restart(new SandboxError('time limit exceeded', undefined, 'time')), this.hardLimitMs);
    thread.postMessage({ ...job.request, limits: this.limits });
  }

  /** The thread, started now unless a start is backing off (then undefined, and pumped again later). */
  private running(): Worker | undefined {
    if (this.thread) return this.thread;
    const wait = this.startAfter - Date.now();
    if (wait > 0) {
      this.startTimer ??= setTimeout(() => {
        this.startTimer = undefined;
        this.pump();
      }, wait);
      return undefined;
    }
    const thread = (this.thread = this.start());
    thread.on('message', (reply: SandboxReply | { ready: true }) => {
      if (thread !== this.thread) return;
      if ('ready' in reply) {
        this.ready = true;
        this.startBackoffMs = FIRST_START_BACKOFF_MS;
        return this.pump();
      }
      const job = this.busy;
      if (thread !== this.thread || !job || job.request.id !== reply.id) return;
      clearTimeout(job.timer);
      this.busy = undefined;
      if (reply.ok) job.resolve(reply.output);
      else job.reject(new SandboxError(reply.message, reply.line, reply.limit));
      this.pump();
    });
    thread.on('error', (err) => {
      if (thread === this.thread) this.restart(new SandboxError(`the sandbox stopped: ${err.message}`));
    });
    thread.on('exit', () => {
      if (thread === this.thread && !this.closed) this.restart(new SandboxError('the sandbox stopped'));
    });
    // Never what keeps a process alive (after the listeners: adding a message listener refs it again).
    thread.unref();
    return thread;
  }

  /** Ends the thread, failing the call it was running with `error`; the queue goes on on a new one. */
  private restart(error: SandboxError): void {
    const thread = this.thread;
    this.thread = undefined;
    if (!this.ready) {
      // It never loaded its module: starting it again at once would spin; queued calls wait.
      this.startAfter = Date.now() + this.startBackoffMs;
      this.startBackoffMs = Math.min(this.startBackoffMs * 2, MAX_START_BACKOFF_MS);
    }
    this.ready = false;
    void thread?.terminate();
    const job = this.busy;
    this.busy = undefined;
    if (job) {
      clearTimeout(job.timer);
      job.reject(error);
    }
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.startTimer);
    for (const job of this.queue.splice(0)) job.reject(new SandboxError('the sandbox is closed'));
    const thread = this.thread;
    this.thread = undefined;
    await thread?.terminate();
  }
}
