/**
 * The embedded stack of the bench and the chaos run, started the way `npm start` starts it
 * (scripts/start.ts): the Temporal dev server on a SQLite file in a temp dir, the MongoDB-wire
 * server, then the worker and the API as child processes (their compiled JavaScript, with node),
 * plus (bench only) the floor worker through tsx. Every port is a free one on 127.0.0.1;
 * `stop()` stops everything in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startMongoWireServer, type RunningMongo } from '../src/embedded/mongo-wire-server';
import { freePort } from '../src/embedded/ports';
import { serviceCommand, type Service } from '../src/embedded/service-command';
import { ServiceProcess } from '../src/embedded/service-process';
import { SupervisedService, type SupervisedServiceOptions } from '../src/embedded/supervised-service';
import { startTemporalDevServer, type RunningTemporal } from '../src/embedded/temporal-dev-server';
import { writeWorkflowBundle } from '../src/worker/workflow-bundle';

export const FLOOR_TASK_QUEUE = 'bench-floor';
/** Key id of the secrets key the bench gives the API and worker (webhook-seed.ts encrypts with it). */
export const SECRETS_KEY_ID = 'k1';

const ROOT = join(__dirname, '..');
const FLOOR_ENTRY = join(ROOT, 'bench/floor-worker.ts');

export interface BenchStack {
  apiUrl: string;
  adminToken: string;
  secretsKey: Buffer;
  temporalAddress: string;
  mongodbUri: string;
  /** Pids of the API's and the worker's processes (their first ones, when supervised). */
  apiPid?: number;
  workerPid?: number;
  /** Why the stack broke, if one of its processes exited early. */
  failure?: string;
}

export interface StackOptions {
  /** Start the bench-only floor worker. @default true */
  floorWorker?: boolean;
  /**
   * Run the API and the worker supervised, as `npm start` does (restarted after a crash, each in
   * its own process group), with these back-off settings.
   * @default unsupervised: an exit is a failure of the stack
   */
  supervise?: Pick<SupervisedServiceOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'healthyAfterMs' | 'onRestart'>;
  /** Settings added to (or overriding) the API's and worker's environment. @default none */
  env?: NodeJS.ProcessEnv;
}

/** The servers and services of a running stack, for a run that breaks them on purpose. */
export interface StackParts {
  temporal: RunningTemporal;
  mongo: RunningMongo;
  /** The supervised API and worker (with `supervise` only). */
  api?: SupervisedService;
  worker?: SupervisedService;
}

export class StackRunner {
  private readonly started: Array<{ stop(graceMs?: number): Promise<void> }> = [];
  private stopping = false;
  /** Set by `start()`. */
  parts?: StackParts;

  constructor(
    private readonly workDir: string,
    private readonly options: StackOptions = {},
  ) {}

  get logDir(): string {
    return join(this.workDir, 'logs');
  }

  async start(): Promise<BenchStack> {
    const logs = this.logDir;
    const adminToken = randomBytes(24).toString('hex');
    const secretsKey = randomBytes(32);
    const temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port: await freePort(),
      dbFile: join(this.workDir, 'temporal.db'),
      namespace: 'default',
      logFile: join(logs, 'temporal.log'),
      // Supervised like the API and the worker: a chaos run kills the servers too.
      supervise: this.options.supervise,
    });
    this.track(temporal.service);
    const mongo = await startMongoWireServer({
      port: await freePort(),
      dataDir: join(this.workDir, 'mongo'),
      logFile: join(logs, 'mongo.log'),
      tools: process.env,
      supervise: this.options.supervise,
    });
    this.track(mongo.process);
    this.parts = { temporal, mongo };

    const port = await freePort();
    const stack: BenchStack = {
      apiUrl: `http://127.0.0.1:${port}`,
      adminToken,
      secretsKey,
      temporalAddress: temporal.address,
      mongodbUri: mongo.uri('webhooks'),
    };
    // Bundled once, as `npm start` does, for the worker and each restart of it.
    const workflowBundleFile = join(this.workDir, 'workflow-bundle.js');
    await writeWorkflowBundle(workflowBundleFile);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WORKFLOW_BUNDLE_FILE: workflowBundleFile,
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
      ...this.options.env,
    };
    const services: [Service | 'floor-worker', { command: string; args: string[] }][] = [
      ['worker', serviceCommand('worker', env)],
      ['api', serviceCommand('api', env)],
    ];
    if (this.options.floorWorker ?? true) services.push(['floor-worker', { command: join(ROOT, 'node_modules', '.bin', 'tsx'), args: [FLOOR_ENTRY] }]);
    const processes: Record<string, ServiceProcess> = {};
    for (const [name, command] of services) {
      const options = { name, ...command, env, logFile: join(logs, `${name}.log`) };
      if (this.options.supervise && name !== 'floor-worker') {
        const service = this.track(new SupervisedService({ ...options, ...this.options.supervise, processGroup: true }));
        this.parts[name] = service;
        processes[name] = service.process;
        continue;
      }
      const service = this.track(new ServiceProcess(options));
      processes[name] = service;
      void service.exited.then((code) => {
        if (!this.stopping) stack.failure ??= `${name} exited (code ${code}); see ${join(logs, `${name}.log`)}`;
      });
    }
    // Ready, not only listening: until MongoDB and Temporal answer, the API answers 503.
    await processes.api.waitForOk(`http://127.0.0.1:${port}/readyz`);
    if (this.stopping) throw new Error('the stack was stopped while it started');
    stack.apiPid = processes.api.pid;
    stack.workerPid = processes.worker.pid;
    return stack;
  }

  /** Adds what was started to what `stop()` stops; after a stop began, it is stopped at once. */
  private track<T extends { stop(graceMs?: number): Promise<void> }>(service: T): T {
    if (this.stopping) void service.stop(5_000);
    else this.started.push(service);
    return service;
  }

  /**
   * Stops in reverse order: the workers and the API first, then the servers they use. One that
   * fails to stop does not keep the others running.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const errors: unknown[] = [];
    for (const service of this.started.splice(0).reverse()) await service.stop(5_000).catch((err: unknown) => errors.push(err));
    if (errors.length) throw errors[0];
  }
}
