/**
 * A real Temporal cluster on this machine, without Docker, shaped as production runs one: the
 * server built from its Go module (scripts/provision-cluster.sh) on a private PostgreSQL cluster
 * (persistence and SQL visibility), its services in processes of their own on 127.0.0.1
 * (frontend, two history processes sharing the shards, matching, the internal worker), the
 * namespace registered with the service's retention and the custom search attributes added as the
 * worker adds them in production. The dev server (temporal-dev-server.ts) runs all of that in one
 * process on SQLite; this is what the service is deployed on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { grpc } from '@temporalio/proto';
import { ensureSearchAttributes } from '../temporal/ensure-search-attributes';
import { freePorts } from './ports';
import { startPostgres } from './postgres-server';
import { ServiceGroup } from './service-group';
import { SupervisedService, type Supervision } from './supervised-service';
import { RETENTION_DAYS } from './temporal-dev-server';
import { ensureNamespace } from './temporal-namespace';
import { setUpTemporalSchemas } from './temporal-schema';
import {
  DATABASE_PASSWORD_ENV,
  NAMESPACE_CACHE_REFRESH_MS,
  renderDynamicConfig,
  renderServerConfig,
  type TemporalServicePorts,
} from './temporal-server-config';
import { startTemporalUiServer } from './temporal-ui-server';

/** The PostgreSQL role the Temporal services and the schema tool log in as. */
const DATABASE_ROLE = 'temporal';

/** The gRPC health service name the frontend answers for once it serves. */
const FRONTEND_HEALTH_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

const SERVING = grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING;

/**
 * Where membership ports are chosen: the PostgreSQL schema stores them as a smallint (at most
 * 32767; a process with a higher one dies at start), below Linux's ephemeral range (32768-60999),
 * so no outgoing connection takes one meanwhile.
 */
const MEMBERSHIP_PORT_RANGE: [number, number] = [20_000, 32_767];

export interface TemporalClusterOptions {
  /**
   * What the provisioning scripts printed: TEMPORAL_SERVER, TEMPORAL_SQL_TOOL and
   * TEMPORAL_SCHEMA_DIR (scripts/provision-cluster.sh), POSTGRES_BIN_DIR (scripts/provision.sh),
   * and TEMPORAL_UI_SERVER when `uiPort` is set.
   */
  tools: NodeJS.ProcessEnv;
  /** State that survives restarts: the PostgreSQL cluster and the services' configuration. */
  dataDir: string;
  /** The frontend's gRPC port (the address clients use). */
  port: number;
  /** The Web UI's port. @default no Web UI */
  uiPort?: number;
  /** The namespace registered for the service. @default 'default' */
  namespace?: string;
  /** Days the namespace keeps closed workflows' histories. @default RETENTION_DAYS */
  retentionDays?: number;
  /** History processes, sharing the shards. @default 2 */
  historyProcesses?: number;
  /** History shards; fixed once the cluster's databases exist. @default 4 */
  numHistoryShards?: number;
  /** One log file per process here. @default inherited stdout */
  logDir?: string;
  /** Restart each process (PostgreSQL included) when it dies, on the same ports. @default never restarted */
  supervise?: Supervision;
  /** How long the whole start may take. @default 120000 */
  timeoutMs?: number;
}

/** The cluster's processes, one supervised service each. */
export interface TemporalClusterServices {
  postgres: SupervisedService;
  frontend: SupervisedService;
  history: SupervisedService[];
  matching: SupervisedService;
  worker: SupervisedService;
  ui?: SupervisedService;
}

export interface RunningTemporalCluster {
  /** The frontend's gRPC address. */
  address: string;
  namespace: string;
  uiUrl?: string;
  services: TemporalClusterServices;
  /** Each history process's ports, in the order of `services.history`, kept by a restart: its host is 127.0.0.1:<grpc>. */
  historyPorts: TemporalServicePorts[];
  /** Everything, stopped in order: the Web UI, the internal worker, frontend, history, matching, then PostgreSQL. */
  process: ServiceGroup;
}

/** Thrown when the embedded Temporal cluster is not provisioned or does not come up, naming what to do or where to look. */
export class TemporalClusterError extends Error {
  override readonly name = 'TemporalClusterError';
}

type TemporalService = 'frontend' | 'history' | 'matching' | 'worker';

/**
 * Starts PostgreSQL (creating the cluster on first use), sets up the Temporal databases, starts
 * every Temporal service, registers the namespace and the search attributes, and resolves once
 * the frontend answers its health check. Stops what it started if any step fails.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<RunningTemporalCluster> {
  const { TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, TEMPORAL_SCHEMA_DIR, TEMPORAL_UI_SERVER, POSTGRES_BIN_DIR } = options.tools;
  if (!TEMPORAL_SERVER || !TEMPORAL_SQL_TOOL || !TEMPORAL_SCHEMA_DIR || !POSTGRES_BIN_DIR) {
    throw new TemporalClusterError('the Temporal cluster was not provisioned: run scripts/provision-cluster.sh and scripts/provision.sh, and pass what they print');
  }
  if (options.uiPort && !TEMPORAL_UI_SERVER) {
    throw new TemporalClusterError('the Temporal Web UI server was not provisioned: run scripts/provision-cluster.sh, or start the cluster without uiPort');
  }
  const namespace = options.namespace ?? 'default';
  const historyCount = options.historyProcesses ?? 2;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const log = (name: string) => options.logDir && join(options.logDir, `${name}.log`);
  const configDir = join(options.dataDir, 'config');
  mkdirSync(configDir, { recursive: true });
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });

  const taken = [options.port, ...(options.uiPort ? [options.uiPort] : [])];
  // PostgreSQL's, the frontend's HTTP port, and each other process's gRPC port.
  const ports = await freePorts(2 + historyCount + 2, { taken });
  // Each process's membership port: the SQL schema keeps them in a smallint.
  const membershipPorts = await freePorts(3 + historyCount, { taken: [...taken, ...ports], range: MEMBERSHIP_PORT_RANGE });
  const [postgresPort] = ports.splice(0, 1) as [number];
  const next = () => ports.shift() as number;
  const nextMembership = () => membershipPorts.shift() as number;
  const postgres = await startPostgres({
    binDir: POSTGRES_BIN_DIR,
    dataDir: join(options.dataDir, 'postgres'),
    port: postgresPort,
    role: DATABASE_ROLE,
    logFile: log('temporal-postgres'),
    supervise: options.supervise,
  });
  const started: SupervisedService[] = [];
  const stopTemporal = () => Promise.all(started.map((s) => s.stop())).then(() => undefined);
  try {
    const password = decodeURIComponent(new URL(postgres.url).password);
    await setUpTemporalSchemas({
      sqlTool: TEMPORAL_SQL_TOOL,
      schemaDir: TEMPORAL_SCHEMA_DIR,
      database: { port: postgresPort, user: DATABASE_ROLE, password },
      markerFile: join(options.dataDir, 'databases-created'),
      logFile: log('temporal-sql-tool'),
    });

    const servicePorts = {
      frontend: { grpc: options.port, membership: nextMembership(), http: next() },
      history: Array.from({ length: historyCount }, (): TemporalServicePorts => ({ grpc: next(), membership: nextMembership() })),
      matching: { grpc: next(), membership: nextMembership() },
      worker: { grpc: next(), membership: nextMembership() },
    };
    const dynamicConfigFile = join(configDir, 'dynamic-config.yaml');
    writeFileSync(dynamicConfigFile, renderDynamicConfig());
    const env = {
      PATH: process.env.PATH,
      // By environment: the configuration file reads it from there, and no file holds it.
      [DATABASE_PASSWORD_ENV]: password,
      // The frontend's periodic version check calls an outside host (off in the dynamic config too).
      TEMPORAL_VERSION_CHECK_DISABLED: '1',
    };
    /** `historyPorts`: the history ports in this process's file (its own, when it runs history). */
    const startService = (service: TemporalService, name: string, historyPorts: TemporalServicePorts) => {
      const configFile = join(configDir, `${name}.yaml`);
      writeFileSync(
        configFile,
        renderServerConfig({
          databasePort: postgresPort,
          databaseUser: DATABASE_ROLE,
          numHistoryShards: options.numHistoryShards ?? 4,
          ports: { ...servicePorts, history: historyPorts },
          dynamicConfigFile,
        }),
      );
      const supervised = new SupervisedService({
        ...options.supervise,
        restart: options.supervise !== undefined,
        name: `Temporal ${name}`,
        // Supervised, it is stopped by its supervisor, in order: a Ctrl-C in the terminal must not reach it first.
        processGroup: options.supervise !== undefined,
        command: TEMPORAL_SERVER,
        args: ['--config-file', configFile, '--allow-no-auth', 'start', '--service', service],
        env,
        logFile: log(`temporal-${name}`),
      });
      started.push(supervised);
      return supervised;
    };

    // A process listens on its membership port once it has joined (the worker service serves no gRPC).
    const joined = (service: SupervisedService, ports: TemporalServicePorts) => service.waitForPort(ports.membership, Math.max(deadline - Date.now(), 1));
    // The first process writes the cluster's metadata into new databases: started together, the
    // processes race to write it and the losers exit. The others start once it has joined.
    const [firstHistory, ...moreHistory] = servicePorts.history as [TemporalServicePorts, ...TemporalServicePorts[]];
    const history = [startService('history', 'history-1', firstHistory)];
    await joined(history[0]!, firstHistory);
    history.push(...moreHistory.map((ports, i) => startService('history', `history-${i + 2}`, ports)));
    const matching = startService('matching', 'matching', firstHistory);
    const frontend = startService('frontend', 'frontend', firstHistory);
    const worker = startService('worker', 'worker', firstHistory);
    for (const [i, ports] of moreHistory.entries()) await joined(history[i + 1]!, ports);
    await joined(matching, servicePorts.matching);
    await joined(frontend, servicePorts.frontend);
    await joined(worker, servicePorts.worker);

    const address = `127.0.0.1:${options.port}`;
    await prepareNamespace(address, namespace, options.retentionDays ?? RETENTION_DAYS, deadline, frontend);

    let ui: SupervisedService | undefined;
    let uiUrl: string | undefined;
    if (options.uiPort) {
      const running = await startTemporalUiServer({
        binary: TEMPORAL_UI_SERVER as string,
        temporalAddress: address,
        port: options.uiPort,
        configDir: join(options.dataDir, 'ui'),
        namespace,
        logFile: log('temporal-ui'),
        supervise: options.supervise,
      });
      ui = running.service;
      uiUrl = running.url;
    }
    const services: TemporalClusterServices = { postgres: postgres.service, frontend, history, matching, worker, ui };
    return {
      address,
      namespace,
      uiUrl,
      services,
      historyPorts: servicePorts.history,
      process: new ServiceGroup([
        ...(ui ? [ui] : []),
        // In this order each stops within milliseconds: the internal worker while the frontend
        // still answers it (after it, it is killed after 10 s), matching once no history process
        // waits on it (before them, it waits 2 s).
        worker,
        frontend,
        { stop: (graceMs?: number) => Promise.all(history.map((h) => h.stop(graceMs))).then(() => undefined) },
        matching,
        postgres.service,
      ]),
    };
  } catch (err) {
    await stopTemporal();
    await postgres.service.stop();
    throw err;
  }
}

/**
 * Starts history process `index` (0-based) again, on its ports and configuration, once the one
 * before has exited (a fault a test or the bench injects), and resolves once it has joined the
 * cluster; the shards are then shared again. For a cluster started without `supervise` (a
 * supervised one restarts its processes itself); `process.stop()` stops the new one.
 */
export async function restartHistoryProcess(cluster: RunningTemporalCluster, index: number, timeoutMs = 60_000): Promise<SupervisedService> {
  const dead = cluster.services.history[index];
  const ports = cluster.historyPorts[index];
  if (!dead || !ports) throw new TemporalClusterError(`the cluster has no history process ${index + 1}`);
  if (dead.options.restart !== false) throw new TemporalClusterError('the cluster is supervised: its history processes restart by themselves');
  if (dead.process.running) throw new TemporalClusterError(`history process ${index + 1} is still running: wait for its exit first`);
  await dead.process.reapGroup();
  const restarted = new SupervisedService(dead.options);
  // The cluster's stop (its ServiceGroup) reads this array when it runs.
  cluster.services.history[index] = restarted;
  await restarted.waitForPort(ports.membership, timeoutMs);
  return restarted;
}

/** Waits for the frontend's health check, then registers the namespace and the search attributes (retrying while the services come up). */
async function prepareNamespace(address: string, namespace: string, retentionDays: number, deadline: number, frontend: SupervisedService): Promise<void> {
  const connection = await retryUntil(deadline, frontend, 'the frontend to accept a connection', () => Connection.connect({ address }));
  try {
    await retryUntil(deadline, frontend, 'the frontend to answer its health check', async () => {
      const { status } = await connection.healthService.check({ service: FRONTEND_HEALTH_SERVICE });
      if (status !== SERVING) throw new TemporalClusterError(`the frontend answers its health check with status ${status}`);
    });
    await retryUntil(deadline, frontend, `namespace ${namespace} to be registered`, () => ensureNamespace(connection, namespace, retentionDays));
    let added = false;
    await retryUntil(deadline, frontend, 'the search attributes to be registered', async () => {
      if ((await ensureSearchAttributes(connection, namespace)).length) added = true;
    });
    // A service that has not reloaded the namespace refuses a start naming them ("no mapping
    // defined for search attribute"): wait two reloads, as Temporal's own tests do.
    if (added) await new Promise((r) => setTimeout(r, 2 * NAMESPACE_CACHE_REFRESH_MS));
  } finally {
    await connection.close();
  }
}

/** Calls `step` until it succeeds; fails with its last error once `deadline` passes or the frontend exits. */
async function retryUntil<T>(deadline: number, frontend: SupervisedService, what: string, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      if (!frontend.process.running) throw new TemporalClusterError(`the Temporal frontend exited while waiting for ${what} (see its log): ${why}`);
      if (Date.now() > deadline) throw new TemporalClusterError(`timed out waiting for ${what}: ${why}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
