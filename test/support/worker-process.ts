import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness';
import { testStack } from './stack';

export interface SpawnWorkerOptions {
  stdio: StdioOptions;
  /** Its own process group (killed whole: the tsx launcher runs the worker in a child). @default false */
  detached?: boolean;
  /** The worker in one process (`node --import tsx`, no launcher): its exit code and signals are the worker's own. @default false */
  oneProcess?: boolean;
  /** The worker's entry, from the repository's root. @default 'src/worker/main.ts' */
  entry?: string;
}

/**
 * A worker process on the test stack, started as `npm run start:worker` starts one: through tsx,
 * configured from the environment only. `env` adds to (or overrides) the settings every test
 * worker has; `harnessWorkerEnv` gives it a harness's task queue, database and secrets key.
 */
export function spawnWorkerProcess(env: NodeJS.ProcessEnv, options: SpawnWorkerOptions): ChildProcess {
  const root = join(__dirname, '../..');
  const { oneProcess, entry = 'src/worker/main.ts', ...spawnOptions } = options;
  const [command, args] = oneProcess
    ? [process.execPath, ['--import', 'tsx', join(root, entry)]]
    : [join(root, 'node_modules/.bin/tsx'), [join(root, entry)]];
  // Not shown: its output. A worker that dies by itself would leave its test waiting for
  // deliveries that never come, so its last words are kept and printed when it exits so.
  const quiet = spawnOptions.stdio === 'ignore';
  const child = spawn(command, args, {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: testStack().temporalAddress,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    ...spawnOptions,
    ...(quiet ? { stdio: ['ignore', 'ignore', 'pipe'] as StdioOptions } : {}),
  });
  if (quiet) reportUnexpectedExit(child);
  return child;
}

/** Most of a quiet worker's standard error kept: its last words. */
const STDERR_KEPT_BYTES = 8192;

/** Prints the last of a worker's standard error when it exits with an error of its own (not a signal the test sent). */
function reportUnexpectedExit(child: ChildProcess): void {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_KEPT_BYTES);
  });
  child.once('exit', (code, signal) => {
    if (signal === null && code !== 0) console.error(`worker process ${child.pid} exited with code ${code}; its last standard error:\n${tail}`);
  });
}

/** The settings that make a worker process work for `harness`: its task queue, database and secrets key. */
export function harnessWorkerEnv(harness: Harness): NodeJS.ProcessEnv {
  return {
    ADMIN_TOKEN: harness.adminToken,
    SECRETS_KEY: harness.secretsKey.toString('base64'),
    SECRETS_KEY_ID: 'test',
    MONGODB_URI: harness.mongodbUri,
    TEMPORAL_TASK_QUEUE: harness.taskQueue,
  };
}

/** Kills each spawned worker still running, its whole process group (the tsx launcher runs the worker in a child), and waits for it to exit. */
export async function killWorkerProcesses(workers: readonly ChildProcess[]): Promise<void> {
  for (const worker of workers) {
    if (worker.exitCode !== null || worker.signalCode !== null) continue;
    const exited = new Promise((r) => worker.once('exit', r));
    try {
      process.kill(-(worker.pid as number), 'SIGKILL');
    } catch {
      worker.kill('SIGKILL'); // not a group leader (`oneProcess`, not detached)
    }
    await exited;
  }
}
