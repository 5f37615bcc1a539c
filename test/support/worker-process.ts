import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness';
import { testStack } from './stack';

/**
 * A worker process on the test stack, started as `npm run start:worker` starts one: through tsx,
 * configured from the environment only. `env` adds to (or overrides) the settings every test
 * worker has; `harnessWorkerEnv` gives it a harness's task queue, database and secrets key.
 */
export function spawnWorkerProcess(env: NodeJS.ProcessEnv, options: { stdio: StdioOptions; detached?: boolean }): ChildProcess {
  const root = join(__dirname, '../..');
  return spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/worker/main.ts')], {
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
    ...options,
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
