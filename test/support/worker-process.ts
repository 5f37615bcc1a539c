import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness';
import { testStack } from './stack';

/**
 * A worker process of the harness's own (its task queue, database and secrets key), started as
 * `npm run start:worker` starts one: through tsx, configured from the environment only.
 */
export function spawnWorkerProcess(harness: Harness, options: { stdio: StdioOptions; detached?: boolean }): ChildProcess {
  const root = join(__dirname, '../..');
  return spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/worker/main.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ADMIN_TOKEN: harness.adminToken,
      SECRETS_KEY: harness.secretsKey.toString('base64'),
      SECRETS_KEY_ID: 'test',
      TEMPORAL_ADDRESS: testStack().temporalAddress,
      MONGODB_URI: harness.mongodbUri,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    ...options,
  });
}
