import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { SecretBox } from '../crypto/secret-box';
import { httpClientFromConfig } from '../delivery/http-client';
import { createLogger } from '../logging/logger';
import { connectWhenReachable } from '../models/connect-when-reachable';
import { startRetentionSweep } from '../models/retention-sweep';
import { startLedgerSweep } from '../delivery/ledger-sweep';
import { ensureSearchAttributes } from '../temporal/ensure-search-attributes';
import { retryTaskQueue } from '../temporal/task-queues';
import { createWorkers, runWorkers } from './create-worker';
import { startMetricsServer } from './metrics-server';
import { freePort } from '../embedded/ports';
import { runMain } from '../run-main';
import { startTracing } from '../tracing/tracing';
import { hostname } from 'node:os';
import type { WorkerVersioningSettings } from '../config/config';
import { adoptPinnedRuns, promoteVersion, type DeploymentVersion } from '../temporal/worker-deployment';

runMain('worker', async () => {
  const config = loadConfig();
  // Null, and nothing of OpenTelemetry loaded, unless an OTLP endpoint is set (docs/operations.md, "Tracing").
  const tracing = startTracing({ defaultServiceName: 'webhook-worker' });
  const logger = createLogger(config.logLevel, 'worker', tracing?.logFields);
  const sdkMetricsPort = await freePort();
  // The SDK's own logs (worker state, workflow bundle) and its native core's (forwarded; by
  // default it prints them to the console in its own format) go through the same JSON logger.
  const sdkLevel = (['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(config.logLevel.toUpperCase()) ? config.logLevel.toUpperCase() : 'WARN') as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, ({ level, message, meta }) => logger[level.toLowerCase() as 'info'](meta ?? {}, message)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      metrics: config.workerMetricsPort ? { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } : undefined,
    },
  });
  const metricsServer = config.workerMetricsPort
    ? await startMetricsServer(config.host, config.workerMetricsPort, `http://127.0.0.1:${sdkMetricsPort}/metrics`)
    : undefined;

  // The database before Temporal: a worker started during its outage waits for it (as the API
  // does) and polls only once its activities can read and record. A signal meanwhile ends it at
  // once: nothing has been polled, so no task is left half done.
  const stopping = new AbortController();
  const stopWhileWaiting = () => {
    stopping.abort();
    process.exit(0);
  };
  process.once('SIGTERM', stopWhileWaiting);
  process.once('SIGINT', stopWhileWaiting);
  const { conn, models } = await connectWhenReachable(config.mongodbUri, logger, stopping.signal);
  // From here the SDK's own handlers stop the workers, once in-flight tasks are done.
  process.removeListener('SIGTERM', stopWhileWaiting);
  process.removeListener('SIGINT', stopWhileWaiting);
  // Deliveries and event payloads older than RETENTION_DAYS, needed by no live delivery, go hourly.
  const sweeper = startRetentionSweep(models, config.retentionDays, logger);
  // Counter ledger keys a killed worker forgot to release go every ten minutes.
  const ledgerSweeper = startLedgerSweep(models, logger);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  await registerSearchAttributes(config.temporal.address, config.temporal.namespace, logger);
  // Every attempt this process can run at once (first attempts, and attempts on both queues)
  // gets its own connection: none waits for one.
  const http = httpClientFromConfig(config, 2 * config.worker.maxConcurrentActivities + config.worker.maxConcurrentLocalActivities);
  try {
    const { workers, version } = await createWorkers({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      concurrency: config.worker,
      workflowBundleFile: config.workflowBundleFile,
      versioning: config.workerVersioning,
      tracing,
      deps: {
        models,
        secretBox: new SecretBox(config.secretsKeyId, config.secretsKey),
        http,
        retryAfterMaxMs: config.retryAfterMaxMs,
        autoDisable: config.autoDisable,
        circuit: config.circuit,
      },
    });
    const taskQueues = [config.temporal.taskQueue, retryTaskQueue(config.temporal.taskQueue)];
    logger.info({ taskQueues, namespace: config.temporal.namespace, version }, 'worker started');
    const running = runWorkers(workers); // returns after SIGINT/SIGTERM, once in-flight tasks are done
    if (version) void promote(config.temporal.address, config.temporal.namespace, version, config.workerVersioning!.promote, logger);
    await running;
  } finally {
    clearInterval(sweeper);
    clearInterval(ledgerSweeper);
    metricsServer?.close();
    await connection.close();
    await http.close();
    await conn.close();
    await tracing?.shutdown();
  }
});

/**
 * Makes this build current as WORKER_PROMOTE says, once the server has seen it poll; in the
 * background (the workers poll meanwhile). A failure is logged: new executions then wait for an
 * operator to make a version current (docs/operations.md).
 */
async function promote(address: string, namespace: string, version: DeploymentVersion, mode: WorkerVersioningSettings['promote'], logger: ReturnType<typeof createLogger>): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const outcome = await promoteVersion(connection, namespace, version, mode, `worker ${hostname()}:${process.pid}`);
    logger.info({ version, outcome }, outcome === 'promoted' ? 'this build is now the current version' : 'this build was not made current');
    // One build at a time: the runs of earlier builds have no worker left but this one.
    if (mode === 'always') {
      const adopted = await adoptPinnedRuns(new Client({ connection, namespace }), version);
      if (adopted) logger.info({ version, adopted }, 'runs pinned to earlier builds moved to this one');
    }
  } catch (err) {
    logger.error({ err, version }, 'could not make this build the current version; make it current as docs/operations.md says');
  } finally {
    await connection.close();
  }
}

/** Best effort: a cluster that refuses (e.g. no operator permission) must have them registered by its operator. */
async function registerSearchAttributes(address: string, namespace: string, logger: ReturnType<typeof createLogger>): Promise<void> {
  const client = await Connection.connect({ address });
  try {
    const added = await ensureSearchAttributes(client, namespace);
    if (added.length) logger.info({ added }, 'registered custom search attributes');
  } catch (err) {
    logger.warn({ err }, 'could not register custom search attributes; register them as the README says');
  } finally {
    await client.close();
  }
}
