/**
 * `npm run cluster`: the service on a real Temporal cluster, as production runs it, on this
 * machine: the Temporal server's services in processes of their own on a private PostgreSQL
 * cluster with SQL visibility (frontend on TEMPORAL_PORT, two history processes, matching, the
 * internal worker; src/embedded/temporal-cluster.ts) and its Web UI on TEMPORAL_UI_PORT, the
 * MongoDB-wire database, two worker processes and the API, every one supervised and stopped as
 * `npm start` does (scripts/supervised-stack.ts). State stays in DATA_DIR/temporal-cluster.
 */
import { join } from 'node:path';
import { startTemporalCluster } from '../src/embedded/temporal-cluster';
import { runSupervisedStack } from './supervised-stack';

/** Two, so that one dying (or being deployed) leaves the other polling. */
const WORKER_PROCESSES = 2;

runSupervisedStack({
  command: 'npm run cluster',
  temporalName: 'the Temporal cluster (frontend, 2 history, matching, worker on PostgreSQL)',
  workers: WORKER_PROCESSES,
  // Several workers of one build, as in production: each finds its build current or makes it so.
  // Not `always`, which also moves runs pinned to other builds onto it: that is for one build at a time.
  workerPromote: 'new',
  topology: `Temporal frontend, 2 history, matching and worker services on PostgreSQL; ${WORKER_PROCESSES} worker processes; the API`,
  startTemporal: async ({ config, dataDir, logs, supervise }) => {
    const cluster = await startTemporalCluster({
      tools: process.env,
      dataDir: join(dataDir, 'temporal-cluster'),
      port: config.embedded.temporalPort,
      uiPort: config.embedded.temporalUiPort,
      namespace: config.temporal.namespace,
      retentionDays: config.retentionDays,
      logDir: logs,
      supervise,
    });
    return { address: cluster.address, uiUrl: cluster.uiUrl, stop: () => cluster.process.stop() };
  },
});
