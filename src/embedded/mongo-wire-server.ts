/**
 * The embedded MongoDB-wire database: FerretDB v1 on a private PostgreSQL cluster, both bound
 * to 127.0.0.1. PostgreSQL (not FerretDB's SQLite backend) because it pushes field filters down
 * and uses the indexes the models declare; SQLite scans whole collections for anything but
 * `{_id}` (measured in docs/database.md).
 */
import { join } from 'node:path';
import { freePort } from './ports';
import { startPostgres } from './postgres-server';
import { ServiceGroup } from './service-group';
import type { ServiceProcess } from './service-process';
import { SupervisedService, type Supervision } from './supervised-service';

export interface MongoWireServerOptions {
  port: number;
  /** Directory of the state that survives restarts (the PostgreSQL cluster). */
  dataDir: string;
  /** FerretDB's log; PostgreSQL's goes beside it as `postgres.log`. @default inherited stdout */
  logFile?: string;
  /** What scripts/provision.sh printed: FERRETDB_BIN and POSTGRES_BIN_DIR. */
  tools: NodeJS.ProcessEnv;
  /** Restart FerretDB and PostgreSQL whenever either dies. @default never restarted */
  supervise?: Supervision;
}

export interface RunningMongo {
  uri: (database: string) => string;
  /** FerretDB then PostgreSQL, stopped in that order. */
  process: ServiceGroup;
  services: { ferretdb: SupervisedService; postgres: SupervisedService };
  /** The processes running now (new ones after a supervised restart). */
  readonly ferretdb: ServiceProcess;
  readonly postgres: ServiceProcess;
}

/** Starts PostgreSQL (creating its cluster on first use), then FerretDB on it. */
export async function startMongoWireServer(options: MongoWireServerOptions): Promise<RunningMongo> {
  const { FERRETDB_BIN, POSTGRES_BIN_DIR } = options.tools;
  if (!FERRETDB_BIN || !POSTGRES_BIN_DIR) {
    throw new Error('FerretDB and PostgreSQL were not provisioned: run scripts/provision.sh, or set MONGODB_URI');
  }
  const logDir = options.logFile ? join(options.logFile, '..') : undefined;
  const postgres = await startPostgres({
    binDir: POSTGRES_BIN_DIR,
    dataDir: join(options.dataDir, 'postgres'),
    port: await freePort(),
    logFile: logDir && join(logDir, 'postgres.log'),
    supervise: options.supervise,
  });
  const ferretdb = new SupervisedService({
    ...options.supervise,
    restart: options.supervise !== undefined,
    name: 'FerretDB',
    // Supervised, it is stopped by its supervisor, in order: a Ctrl-C in the terminal must not reach it first.
    processGroup: options.supervise !== undefined,
    command: FERRETDB_BIN,
    args: [`--listen-addr=127.0.0.1:${options.port}`],
    // By environment: a password on the command line is visible to every user of the machine.
    env: { PATH: process.env.PATH, FERRETDB_POSTGRESQL_URL: postgres.url },
    logFile: options.logFile,
  });
  try {
    await ferretdb.waitForPort(options.port);
  } catch (err) {
    await ferretdb.stop();
    await postgres.service.stop();
    throw err;
  }
  const services = { ferretdb, postgres: postgres.service };
  return {
    uri: (database) => `mongodb://127.0.0.1:${options.port}/${database}`,
    process: new ServiceGroup([ferretdb, postgres.service]),
    services,
    get ferretdb() {
      return services.ferretdb.process;
    },
    get postgres() {
      return services.postgres.process;
    },
  };
}
