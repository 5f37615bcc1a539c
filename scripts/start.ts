/**
 * `npm start`, the embedded default: the Temporal dev server (SQLite under DATA_DIR, Web UI on),
 * the MongoDB-wire database (FerretDB on a private PostgreSQL cluster, state under DATA_DIR), then the API and the worker. Ctrl-C stops
 * everything it started; the next start finds the same data. TEMPORAL_ADDRESS or MONGODB_URI
 * use those servers instead of starting one.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../src/config/config';
import { DEV_SECRETS_FILE } from '../src/config/dev-secrets';
import { startMongoWireServer } from '../src/embedded/mongo-wire-server';
import { assertPortFree } from '../src/embedded/ports';
import { serviceCommand } from '../src/embedded/service-command';
import { SupervisedService } from '../src/embedded/supervised-service';
import { startTemporalDevServer } from '../src/embedded/temporal-dev-server';
import { writeWorkflowBundle } from '../src/worker/workflow-bundle';

const started: Array<{ stop(): Promise<void> }> = [];
let stopping = false;

/** Stops in reverse order: API and worker first, then the servers they use. */
async function stopAll(): Promise<void> {
  stopping = true;
  for (const service of started.reverse()) await service.stop();
}

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = resolve(config.dataDir);
  const logs = join(dataDir, 'logs');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ADMIN_TOKEN: config.adminToken,
    SECRETS_KEY: config.secretsKey.toString('base64'),
  };
  await assertPortFree(config.port, 'PORT');

  let uiUrl: string | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    await assertPortFree(config.embedded.temporalPort, 'TEMPORAL_PORT');
    await assertPortFree(config.embedded.temporalUiPort, 'TEMPORAL_UI_PORT');
    console.log('starting the Temporal dev server…');
    const temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port: config.embedded.temporalPort,
      uiPort: config.embedded.temporalUiPort,
      dbFile: join(dataDir, 'temporal.db'),
      namespace: config.temporal.namespace,
      logFile: join(logs, 'temporal.log'),
      retentionDays: config.retentionDays,
    });
    started.push(temporal.process);
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
    });
    started.push(mongo.process);
    env.MONGODB_URI = mongo.uri('webhooks');
  }

  console.log('bundling the workflows…');
  // Once for every worker this starts: a worker restarted after a crash polls again in seconds.
  mkdirSync(dataDir, { recursive: true });
  env.WORKFLOW_BUNDLE_FILE = join(dataDir, 'workflow-bundle.js');
  await writeWorkflowBundle(env.WORKFLOW_BUNDLE_FILE);

  let api: SupervisedService | undefined;
  for (const name of ['worker', 'api'] as const) {
    // A crashed API or worker is started again: accepted events wait in Temporal meanwhile.
    const service = new SupervisedService({
      name,
      ...serviceCommand(name, env),
      env,
      onRestart: (code, backoffMs) => console.error(`${name} exited (code ${code}); restarting in ${backoffMs / 1000}s`),
    });
    started.push(service);
    if (name === 'api') api = service;
  }
  await api?.process.waitForPort(config.port);

  const apiUrl = `http://${config.host}:${config.port}`;
  console.log(`
webhook service is running
  API             ${apiUrl}   (docs: ${apiUrl}/docs)
  Temporal Web UI ${uiUrl ?? '(external Temporal: ' + env.TEMPORAL_ADDRESS + ')'}
  data            ${dataDir}

Create the first tenant (the admin token was generated into ${join(config.dataDir, DEV_SECRETS_FILE)} unless ADMIN_TOKEN is set):
  source ${join(config.dataDir, DEV_SECRETS_FILE)}
  curl -s -X POST ${apiUrl}/v1/admin/tenants -H "Authorization: Bearer $ADMIN_TOKEN" \\
       -H 'Content-Type: application/json' -d '{"name": "Acme"}'

The bundled Temporal CLI (inspect, reset and retry deliveries; see docs/operations.md):
  alias temporal='${process.env.TEMPORAL_CLI ?? 'temporal'}'
  temporal workflow list --address ${env.TEMPORAL_ADDRESS} --query 'WorkflowType = "DeliveryWorkflow"'

Ctrl-C stops everything; a crashed API or worker is restarted.`);
}

// `on`, not `once`: Ctrl-C reaches this process twice (directly and relayed by tsx), and a
// second signal must not kill it before it has stopped the servers it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.log('\nstopping…');
    void stopAll().then(() => process.exit(0));
  });
}

main().catch(async (err: unknown) => {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
  console.error(`npm start: ${message}`);
  await stopAll();
  process.exit(1);
});
