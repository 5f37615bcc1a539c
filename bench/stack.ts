/**
 * The embedded stack of the bench and the chaos run, started the way `npm start` starts it
 * (scripts/start.ts): the Temporal dev server on a SQLite file in a temp dir (or, for the bench's
 * capacity phases, the Temporal cluster as `npm run cluster` runs it), the MongoDB-wire server,
 * then the worker(s) and the API as child processes (their compiled JavaScript, with node), plus
 * (bench only) the floor worker through tsx. Every port is a free one on 127.0.0.1; `stop()` stops
 * everything in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startMongoWireServer, type RunningMongo } from '../src/embedded/mongo-wire-server';
import { freePort } from '../src/embedded/ports';
import { serviceCommand, type Service } from '../src/embedded/service-command';
import { ServiceProcess } from '../src/embedded/service-process';
import { SupervisedService, type SupervisedServiceOptions } from '../src/embedded/supervised-service';
import { startTemporalCluster, type RunningTemporalCluster } from '../src/embedded/temporal-cluster';
import { startTemporalDevServer, type RunningTemporal } from '../src/embedded/temporal-dev-server';
import type { TierPids } from './cpu-meter';
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
  /** The Temporal the stack runs on: the dev server (as `npm start`) or the cluster (as `npm run cluster`). @default 'dev-server' */
  temporal?: 'dev-server' | 'cluster';
  /** The cluster's history processes. @default 2 */
  historyProcesses?: number;
  /** Worker processes. @default 1 */
  workers?: number;
}

/** The servers and services of a running stack, for a run that breaks them on purpose. */
export interface StackParts {
  /** The dev server (the default). */
  temporal?: RunningTemporal;
  /** The cluster (`temporal: 'cluster'`). */
  cluster?: RunningTemporalCluster;
  mongo: RunningMongo;
  /** The supervised API and worker (with `supervise` only). */
  api?: SupervisedService;
  worker?: SupervisedService;
  /** Every worker process, unsupervised or not, the first one first. */
  workers: ServiceProcess[];
  apiProcess: ServiceProcess;
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
    let temporal: RunningTemporal | undefined;
    let cluster: RunningTemporalCluster | undefined;
    if (this.options.temporal === 'cluster') {
      cluster = await startTemporalCluster({
        tools: process.env,
        dataDir: join(this.workDir, 'temporal-cluster'),
        port: await freePort(),
        historyProcesses: this.options.historyProcesses,
        logDir: logs,
      });
      this.track(cluster.process);
    } else {
      temporal = await startTemporalDevServer({
        cli: process.env.TEMPORAL_CLI as string,
        port: await freePort(),
        dbFile: join(this.workDir, 'temporal.db'),
        namespace: 'default',
        logFile: join(logs, 'temporal.log'),
        // Supervised like the API and the worker: a chaos run kills the servers too.
        supervise: this.options.supervise,
      });
      this.track(temporal.service);
    }
    const temporalAddress = (cluster?.address ?? temporal?.address) as string;
    const mongo = await startMongoWireServer({
      port: await freePort(),
      dataDir: join(this.workDir, 'mongo'),
      logFile: join(logs, 'mongo.log'),
      tools: process.env,
      supervise: this.options.supervise,
    });
    this.track(mongo.process);
    const parts: Partial<StackParts> = { temporal, cluster, mongo, workers: [] };

    const port = await freePort();
    const stack: BenchStack = {
      apiUrl: `http://127.0.0.1:${port}`,
      adminToken,
      secretsKey,
      temporalAddress,
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
      TEMPORAL_ADDRESS: temporalAddress,
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
    this.env = env;
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
        parts[name] = service;
        processes[name] = service.process;
        continue;
      }
      processes[name] = this.unsupervised(stack, name, command, env);
    }
    parts.apiProcess = processes.api;
    parts.workers = [processes.worker!];
    this.parts = parts as StackParts;
    this.stack = stack;
    for (let i = 2; i <= (this.options.workers ?? 1); i++) await this.addWorker();
    // Ready, not only listening: until MongoDB and Temporal answer, the API answers 503.
    await processes.api.waitForOk(`http://127.0.0.1:${port}/readyz`);
    if (this.stopping) throw new Error('the stack was stopped while it started');
    stack.apiPid = processes.api.pid;
    stack.workerPid = processes.worker.pid;
    return stack;
  }

  private env?: NodeJS.ProcessEnv;
  private stack?: BenchStack;

  /** A child process whose exit, unless the stack is stopping, is the stack's failure. */
  private unsupervised(stack: BenchStack, name: string, command: { command: string; args: string[] }, env: NodeJS.ProcessEnv): ServiceProcess {
    const service = this.track(new ServiceProcess({ name, ...command, env, logFile: join(this.logDir, `${name}.log`) }));
    void service.exited.then((code) => {
      if (!this.stopping && !this.retired.has(service)) stack.failure ??= `${name} exited (code ${code}); see ${join(this.logDir, `${name}.log`)}`;
    });
    return service;
  }

  private readonly retired = new Set<ServiceProcess>();

  /** Starts one more worker process (unsupervised), with metrics on a port of its own. */
  async addWorker(): Promise<ServiceProcess> {
    if (!this.parts || !this.stack || !this.env) throw new Error('the stack is not started');
    const n = this.parts.workers.length + 1;
    const env = { ...this.env, WORKER_METRICS_PORT: String(await freePort()) };
    const worker = this.unsupervised(this.stack, `worker-${n}`, serviceCommand('worker', env), env);
    this.parts.workers.push(worker);
    return worker;
  }

  /**
   * A traced API and worker beside the untraced ones (`--only tracing`, bench/tracing.ts): on the
   * same servers, on a task queue of their own, exporting spans to `otlpEndpoint`, their workflow
   * bundle written with the tracing interceptors (a worker refuses a bundle of the other kind).
   */
  async startTracedServices(otlpEndpoint: string): Promise<{ apiUrl: string; apiPid?: number; workerPid?: number }> {
    if (!this.stack || !this.env) throw new Error('the stack is not started');
    const bundleFile = join(this.workDir, 'workflow-bundle-traced.js');
    await writeWorkflowBundle(bundleFile, true);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...this.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
      WORKFLOW_BUNDLE_FILE: bundleFile,
      TEMPORAL_TASK_QUEUE: 'bench-traced',
      PORT: String(port),
      WORKER_METRICS_PORT: String(await freePort()),
    };
    const worker = this.unsupervised(this.stack, 'worker-traced', serviceCommand('worker', env), env);
    const api = this.unsupervised(this.stack, 'api-traced', serviceCommand('api', env), env);
    await api.waitForOk(`http://127.0.0.1:${port}/readyz`);
    return { apiUrl: `http://127.0.0.1:${port}`, apiPid: api.pid, workerPid: worker.pid };
  }

  /** Stops the last worker process this stack started (not the first), gracefully. */
  async removeWorker(): Promise<void> {
    const worker = this.parts && this.parts.workers.length > 1 ? this.parts.workers.pop() : undefined;
    if (!worker) throw new Error('no worker to remove: the first one stays');
    this.retired.add(worker);
    await worker.stop(30_000);
  }

  /** The processes of each tier now, for the CPU meter: the services, Temporal's and the database's. */
  tierPids(): TierPids {
    const parts = this.parts;
    if (!parts) return {};
    const pid = (p: { pid?: number } | undefined) => (p?.pid ? [p.pid] : []);
    const cluster = parts.cluster?.services;
    return {
      api: pid(parts.apiProcess),
      worker: parts.workers.flatMap((w) => (w.running ? pid(w) : [])),
      temporal: cluster
        ? [cluster.frontend, ...cluster.history, cluster.matching, cluster.worker].flatMap((s) => (s.process.running ? pid(s.process) : []))
        : pid(parts.temporal?.process),
      // The dev server keeps its state in SQLite, inside its own process.
      temporalDatabase: cluster ? pid(cluster.postgres.process) : [],
      database: [...pid(parts.mongo.ferretdb), ...pid(parts.mongo.postgres)],
    };
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
