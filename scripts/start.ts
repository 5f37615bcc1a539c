/**
 * `npm start`, the embedded default: the Temporal dev server (SQLite under DATA_DIR, Web UI on),
 * the MongoDB-wire database (FerretDB on a private PostgreSQL cluster, state under DATA_DIR), then
 * the API and the worker, every one of them supervised (restarted after a crash). SIGINT (Ctrl-C)
 * or SIGTERM to this process or to `npm start`'s stop everything it started, and so does
 * the death of whatever started it; the next start finds the same data (scripts/supervised-stack.ts).
 * TEMPORAL_ADDRESS or MONGODB_URI use those servers instead of starting one.
 */
import { join } from 'node:path';
import { startTemporalDevServer } from '../src/embedded/temporal-dev-server';
import { runSupervisedStack } from './supervised-stack';

runSupervisedStack({
  command: 'npm start',
  temporalName: 'the Temporal dev server',
  // One build at a time here: the build started is the current one, a restarted older one too.
  workerPromote: 'always',
  startTemporal: async ({ config, dataDir, logs, supervise }) => {
    const temporal = await startTemporalDevServer({
      cli: process.env.TEMPORAL_CLI as string,
      port: config.embedded.temporalPort,
      uiPort: config.embedded.temporalUiPort,
      dbFile: join(dataDir, 'temporal.db'),
      namespace: config.temporal.namespace,
      logFile: join(logs, 'temporal.log'),
      supervise,
      retentionDays: config.retentionDays,
    });
    return { address: temporal.address, uiUrl: temporal.uiUrl, stop: () => temporal.service.stop() };
  },
});
