/**
 * The configuration file of one process of the embedded Temporal cluster: PostgreSQL persistence
 * and SQL visibility, every listener on 127.0.0.1, no metrics listener, no version check sent
 * out. Every process gets the same file but for the ports of the service it runs, so two history
 * processes can run side by side (the file names the ports each service of the process binds;
 * processes find each other through the membership table in the database).
 */

/** Environment variable the server reads the database password from (never written to a file). */
export const DATABASE_PASSWORD_ENV = 'TEMPORAL_SQL_PASSWORD';

/** The two databases of a Temporal cluster on SQL, created by the schema tool. */
export const TEMPORAL_DATABASES = { persistence: 'temporal', visibility: 'temporal_visibility' } as const;

/** The ports a Temporal service binds: gRPC, ring membership, and (frontend only) the HTTP API. */
export interface TemporalServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

export interface TemporalServerConfigOptions {
  /** PostgreSQL's port on 127.0.0.1. */
  databasePort: number;
  /** The role that logs in to both databases; its password comes from DATABASE_PASSWORD_ENV. */
  databaseUser: string;
  /** History shards: fixed for the cluster's life (the database keeps them). */
  numHistoryShards: number;
  /** The ports of each service, the history entry being this process's (when it runs one). */
  ports: Record<'frontend' | 'history' | 'matching' | 'worker', TemporalServicePorts>;
  /** The dynamic configuration file the server polls. */
  dynamicConfigFile: string;
  /** @default 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** Connections per process to each database: 5 processes stay within PostgreSQL's 200. */
const MAX_CONNS = { persistence: 20, visibility: 10 } as const;

/** The server's YAML, templated only for the password (`# enable-template`). */
export function renderServerConfig(options: TemporalServerConfigOptions): string {
  const { ports } = options;
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: 127.0.0.1:${options.databasePort}
        connectProtocol: tcp
        user: ${options.databaseUser}
        password: {{ env "${DATABASE_PASSWORD_ENV}" | quote }}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (p: TemporalServicePorts) => `
    rpc:
      bindOnIP: 127.0.0.1
      grpcPort: ${p.grpc}
      membershipPort: ${p.membership}${p.http ? `\n      httpPort: ${p.http}` : ''}`;
  return `# enable-template
# Written by src/embedded/temporal-cluster.ts at each start; edits are overwritten.
log:
  stdout: true
  level: ${options.logLevel ?? 'warn'}

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: ${options.numHistoryShards}
  datastores:
    postgres-default:${datastore(TEMPORAL_DATABASES.persistence, MAX_CONNS.persistence)}
    postgres-visibility:${datastore(TEMPORAL_DATABASES.visibility, MAX_CONNS.visibility)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1

services:
  frontend:${service(ports.frontend)}
  history:${service(ports.history)}
  matching:${service(ports.matching)}
  worker:${service(ports.worker)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${ports.frontend.grpc}
      httpAddress: 127.0.0.1:${ports.frontend.http}

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: ${JSON.stringify(options.dynamicConfigFile)}
  pollInterval: 10s
`;
}

/**
 * How often each service reloads its namespaces (their search attributes among them): a
 * registration is known everywhere within this, not at once. The server's default, stated.
 */
export const NAMESPACE_CACHE_REFRESH_MS = 2000;

/** Dynamic configuration: the frontend's periodic version check would call an outside host. */
export function renderDynamicConfig(): string {
  return `# Written by src/embedded/temporal-cluster.ts at each start; edits are overwritten.
frontend.enableServerVersionCheck:
  - value: false
system.namespaceCacheRefreshInterval:
  - value: ${NAMESPACE_CACHE_REFRESH_MS / 1000}s
`;
}
