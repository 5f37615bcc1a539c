/**
 * The bench's own embedded stack, started the way `npm start` starts it (scripts/start.ts):
 * the Temporal dev server on a SQLite file in a temp dir, the MongoDB-wire server, then the
 * worker and the API as child processes through tsx, plus the bench-only floor worker. Every
 * port is a free one on 127.0.0.1; `stop()` stops everything in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startMongoWireServer } from '../src/embedded/mongo-wire-server';
import { freePort } from '../src/embedded/ports';
import { ServiceProcess } from '../src/embedded/service-process';
import { startTemporalDevServer } from '../src/embedded/temporal-dev-server';
import { findChild } from './peak-rss';

export const FLOOR_TASK_QUEUE = 'bench-floor';
/** Key id of the secrets key the bench gives the API and worker (webhook-seed.ts encrypts with it). */
export const SECRETS_KEY_ID = 'k1';

const ROOT = join(__dirname, '..');
const API_ENTRY = join(ROOT, 'src/api/main.ts');
const WORKER_ENTRY = join(ROOT, 'src/worker/main.ts');
const FLOOR_ENTRY = join(ROOT, 'bench/floor-worker.ts');

export interface BenchStack {
  apiUrl: string;
  adminToken: string;
  secretsKey: Buffer;
  temporalAddress: string;
  mongodbUri: string;
  /** Pids of the tsx launchers of the API and the worker (their node process is a child). */
  apiPid?: number;
  workerPid?: number;
  /** Why the stack broke, if one of its processes exited early. */
  failure?: string;
}

export class StackRunner {
  private readonly started: Array<{ stop(graceMs?: number): Promise<void> }> = [];
  private stopping = false;

  constructor(private readonly workDir: string) {}

  async start(): Promise<BenchStack> {
    const logs = join(this.workDir, 'logs');
    const adminToken = randomBytes(24).toString('hex');
    const secretsKey = randomBytes(32);
    const temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port: await freePort(),
      dbFile: join(this.workDir, 'temporal.db'),
      namespace: 'default',
      logFile: join(logs, 'temporal.log'),
    });
    this.started.push(temporal.process);
    const mongo = await startMongoWireServer({
      port: await freePort(),
      dataDir: join(this.workDir, 'mongo'),
      logFile: join(logs, 'mongo.log'),
      tools: process.env,
    });
    this.started.push(mongo.process);

    const port = await freePort();
    const stack: BenchStack = {
      apiUrl: `http://127.0.0.1:${port}`,
      adminToken,
      secretsKey,
      temporalAddress: temporal.address,
      mongodbUri: mongo.uri('webhooks'),
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: join(this.workDir, 'data'),
      ADMIN_TOKEN: adminToken,
      SECRETS_KEY: secretsKey.toString('base64'),
      SECRETS_KEY_ID,
      TEMPORAL_ADDRESS: temporal.address,
      MONGODB_URI: stack.mongodbUri,
      WORKER_METRICS_PORT: String(await freePort()),
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
      // The producers are the load: no tenant rate limit in the way.
      API_RATE_LIMIT_PER_SECOND: '0',
      // A log line per request would be measured as well; BENCH_LOG_LEVEL=info to keep them.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      BENCH_FLOOR_TASK_QUEUE: FLOOR_TASK_QUEUE,
    };
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const services = [
      ['worker', WORKER_ENTRY],
      ['api', API_ENTRY],
      ['floor-worker', FLOOR_ENTRY],
    ] as const;
    let api: ServiceProcess | undefined;
    for (const [name, entry] of services) {
      const service = new ServiceProcess({ name, command: tsx, args: [entry], env, logFile: join(logs, `${name}.log`) });
      this.started.push(service);
      if (name === 'api') api = service;
      void service.exited.then((code) => {
        if (!this.stopping) stack.failure ??= `${name} exited (code ${code}); see ${join(logs, `${name}.log`)}`;
      });
    }
    await api!.waitForPort(port);
    stack.apiPid = findChild(API_ENTRY);
    stack.workerPid = findChild(WORKER_ENTRY);
    return stack;
  }

  /** Stops in reverse order: the workers and the API first, then the servers they use. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const service of this.started.splice(0).reverse()) await service.stop(5_000);
  }
}
