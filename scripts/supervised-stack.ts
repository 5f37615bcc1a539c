/**
 * What `npm start` and `npm run cluster` share: the whole service run on this machine from a
 * terminal, every process supervised (restarted after a crash, with one back-off), the
 * MongoDB-wire database (FerretDB on a private PostgreSQL cluster under DATA_DIR), the API and the
 * worker processes, the URLs printed once the API is ready. SIGINT (Ctrl-C) or SIGTERM to this
 * process, or to the npm process that relays it, stops everything it started, and so does the
 * death of whatever started it; the next start finds the same data. Each command brings its own
 * Temporal (the dev server, or the cluster of separate services); TEMPORAL_ADDRESS or MONGODB_URI
 * use those servers instead of starting one.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../src/config/config';
import { DEV_SECRETS_FILE } from '../src/config/dev-secrets';
import { startMongoWireServer } from '../src/embedded/mongo-wire-server';
import { assertPortFree, freePort } from '../src/embedded/ports';
import { serviceCommand } from '../src/embedded/service-command';
import { processAlive, ServiceProcess, type SpawnedProcess } from '../src/embedded/service-process';
import { SupervisedService, type Supervision } from '../src/embedded/supervised-service';
import { writeWorkflowBundle } from '../src/worker/workflow-bundle';

/** What a command's Temporal tier is started with. */
export interface TemporalTierContext {
  config: Config;
  /** DATA_DIR, absolute. */
  dataDir: string;
  /** Where each server's log file goes. */
  logs: string;
  /** The supervision every process gets. */
  supervise: Supervision;
}

/** A started Temporal tier: where clients connect, its Web UI, and how it stops (in order). */
export interface TemporalTier {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface SupervisedStackOptions {
  /** How a user starts it, in its messages: `npm start`, `npm run cluster`. */
  command: string;
  /** What it is starting Temporal as, for the progress line: `the Temporal dev server`. */
  temporalName: string;
  /** Starts Temporal on TEMPORAL_PORT (and its Web UI on TEMPORAL_UI_PORT), supervised; skipped when TEMPORAL_ADDRESS is set. */
  startTemporal(context: TemporalTierContext): Promise<TemporalTier>;
  /** Worker processes, each supervised on its own: the first gets WORKER_METRICS_PORT, the others free ports. @default 1 */
  workers?: number;
  /** WORKER_PROMOTE when the environment sets none (src/config/config.ts). */
  workerPromote: 'new' | 'always';
  /** A line printed under the URLs: what runs. @default none */
  topology?: string;
}

const started: Array<{ stop(): Promise<void> }> = [];
let stopping: Promise<void> | undefined;

/** The same back-off for every process: 1 s, doubling to 30 s while it keeps dying at start. */
const supervise: Supervision = {
  onRestart: (code, backoffMs, name) => console.error(`${name} exited (code ${code}); restarting in ${backoffMs / 1000}s`),
};

/**
 * Stops in reverse order: API and workers first, then the servers they use. A process started
 * but not yet handed over (a signal during start-up) is stopped by its pid.
 */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
    const left = ServiceProcess.spawned.filter((p) => processAlive(p.pid));
    const signal = (p: SpawnedProcess, s: NodeJS.Signals) => {
      try {
        process.kill(p.processGroup ? -p.pid : p.pid, s);
      } catch {
        // gone meanwhile
      }
    };
    for (const p of left) signal(p, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (left.some((p) => processAlive(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const p of left.filter((x) => processAlive(x.pid))) signal(p, 'SIGKILL');
  })();
  return stopping;
}

/** Adds a started service to those `stopAll` stops; one that comes after a stop began is stopped at once. */
function track<T extends { stop(): Promise<void> }>(service: T): T {
  if (stopping) void service.stop();
  else started.push(service);
  return service;
}

async function main(options: SupervisedStackOptions): Promise<void> {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const logs = join(dataDir, 'logs');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ADMIN_TOKEN: config.adminToken,
    SECRETS_KEY: config.secretsKey.toString('base64'),
    WORKER_PROMOTE: process.env.WORKER_PROMOTE ?? options.workerPromote,
  };
  await assertPortFree(config.port, 'PORT');

  let uiUrl: string | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    await assertPortFree(config.embedded.temporalPort, 'TEMPORAL_PORT');
    await assertPortFree(config.embedded.temporalUiPort, 'TEMPORAL_UI_PORT');
    console.log(`starting ${options.temporalName}…`);
    const temporal = track(await options.startTemporal({ config, dataDir, logs, supervise }));
    env.TEMPORAL_ADDRESS = temporal.address;
    uiUrl = temporal.uiUrl;
  }
  if (!process.env.MONGODB_URI) {
    await assertPortFree(config.embedded.mongoPort, 'MONGO_PORT');
    console.log('starting the database (FerretDB on PostgreSQL)…');
    const mongo = await startMongoWireServer({
      port: config.embedded.mongoPort,
      dataDir: join(dataDir, 'mongo'),
      logFile: join(logs, 'mongo.log'),
      tools: process.env,
      supervise,
    });
    track(mongo.process);
    env.MONGODB_URI = mongo.uri('webhooks');
  }

  console.log('bundling the workflows…');
  // Once for every worker this starts: a worker restarted after a crash polls again in seconds.
  mkdirSync(dataDir, { recursive: true });
  env.WORKFLOW_BUNDLE_FILE = join(dataDir, 'workflow-bundle.js');
  await writeWorkflowBundle(env.WORKFLOW_BUNDLE_FILE);
  if (stopping) return;

  // A crashed API or worker is started again: accepted events wait in Temporal meanwhile. Each in
  // its own process group, as every server above: Ctrl-C reaches this process only, which stops
  // them in order.
  const workers = options.workers ?? 1;
  for (let i = 1; i <= workers; i++) {
    // The first worker's metrics on WORKER_METRICS_PORT (0: none), the others' on free ports.
    const metricsPort = i === 1 || config.workerMetricsPort === 0 ? config.workerMetricsPort : await freePort();
    const workerEnv = { ...env, WORKER_METRICS_PORT: String(metricsPort) };
    const name = workers === 1 ? 'worker' : `worker ${i}`;
    track(new SupervisedService({ name, ...serviceCommand('worker', workerEnv), env: workerEnv, processGroup: true, ...supervise }));
  }
  const api = track(new SupervisedService({ name: 'api', ...serviceCommand('api', env), env, processGroup: true, ...supervise }));
  // Ready, not only listening: until MongoDB and Temporal answer, the API answers 503.
  await api.waitForOk(`http://127.0.0.1:${config.port}/readyz`, 120_000);

  const apiUrl = `http://${config.host}:${config.port}`;
  console.log(`
webhook service is running
  API             ${apiUrl}   (docs: ${apiUrl}/docs)
  Temporal Web UI ${uiUrl ?? '(external Temporal: ' + env.TEMPORAL_ADDRESS + ')'}
  data            ${dataDir}${options.topology ? `\n  running         ${options.topology}` : ''}

Create the first tenant (the admin token was generated into ${join(config.dataDir, DEV_SECRETS_FILE)} unless ADMIN_TOKEN is set):
  source ${join(config.dataDir, DEV_SECRETS_FILE)}
  curl -s -X POST ${apiUrl}/v1/admin/tenants -H "Authorization: Bearer $ADMIN_TOKEN" \\
       -H 'Content-Type: application/json' -d '{"name": "Acme"}'

The bundled Temporal CLI (inspect, reset and retry deliveries; see docs/operations.md):
  alias temporal='${process.env.TEMPORAL_CLI ?? 'temporal'}'
  temporal workflow list --address ${env.TEMPORAL_ADDRESS} --query 'WorkflowType = "DeliveryWorkflow"'

Ctrl-C (or SIGTERM to ${options.command}) stops everything; a process that dies is restarted.`);
}

function shutdown(why: string, code: number): void {
  if (stopping) return;
  console.log(`\n${why}; stopping…`);
  void stopAll().then(() => process.exit(code));
}

/** Runs the stack until a signal, or the death of what started it; exits once everything is stopped. */
export function runSupervisedStack(options: SupervisedStackOptions): void {
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by npm), and
  // a second signal must not kill it before it has stopped the servers it started. Not SIGHUP: a
  // closed terminal kills npm, which the parent check below sees, and `nohup npm start` must live on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown(signal, 0));

  // Whatever started this (npm, a shell, a supervisor) dying, even by SIGKILL, makes this an orphan:
  // stop, rather than keep the ports of the next start. (This process's own death is covered by the
  // parent-death signal each service gets: src/embedded/service-process.ts.)
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) shutdown(`the process that started this (pid ${parent}) is gone`, 1);
  }, 500).unref();

  main(options).catch((err: unknown) => {
    const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
    console.error(`${options.command}: ${message}`);
    if (!stopping) void stopAll().then(() => process.exit(1));
  });
}
