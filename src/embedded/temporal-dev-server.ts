import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { freePort } from './ports';
import type { ServiceProcess } from './service-process';
import { SupervisedService, type Supervision } from './supervised-service';

/** Workflow histories (the delivery audit log) are kept this long after a workflow closes, unless RETENTION_DAYS says otherwise. */
export const RETENTION_DAYS = 30;

export interface TemporalDevServerOptions {
  /** Path of the `temporal` CLI (see scripts/provision.sh). */
  cli: string;
  /** Front-end gRPC port. */
  port: number;
  /** Web UI port; none starts it headless. */
  uiPort?: number;
  /** SQLite file for state that survives restarts; none keeps state in memory. */
  dbFile?: string;
  namespace: string;
  logFile?: string;
  /** Restart it when it dies (on the same ports and file). @default never restarted */
  supervise?: Supervision;
  /** Days the namespace keeps closed workflows' histories: the service's one retention clock. @default RETENTION_DAYS */
  retentionDays?: number;
}

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  service: SupervisedService;
  /** The process running now (a new one after a supervised restart). */
  readonly process: ServiceProcess;
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 with the project's search attributes
 * registered and the namespace's retention set, and waits until it answers.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(options.port),
    '--http-port', String(await freePort()),
    '--metrics-port', String(await freePort()),
    '--namespace', options.namespace,
    '--log-level', 'warn',
    // The Web UI would otherwise fetch a newsfeed from an outside host.
    '--ui-disable-news-fetch',
    // The dev server otherwise reads the search attributes from its database on every start,
    // upsert and visibility write (a convenience for registering them at run time; ours are
    // registered below, at start-up): ingestion ran 28% faster without it (bench/README.md).
    '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  if (options.dbFile) {
    // A file-backed dev server is slow unless SQLite runs in WAL mode without a sync per commit.
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  args.push(...(options.uiPort ? ['--ui-ip', '127.0.0.1', '--ui-port', String(options.uiPort)] : ['--headless']));

  const service = new SupervisedService({
    ...options.supervise,
    restart: options.supervise !== undefined,
    name: 'Temporal dev server',
    // Supervised, it is stopped by its supervisor, in order: a Ctrl-C in the terminal must not reach it first.
    processGroup: options.supervise !== undefined,
    command: options.cli,
    args,
    logFile: options.logFile,
  });
  const address = `127.0.0.1:${options.port}`;
  try {
    await service.waitForPort(options.port);
    await setRetention(address, options.namespace, options.retentionDays ?? RETENTION_DAYS);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    service,
    get process() {
      return service.process;
    },
  };
}

async function setRetention(address: string, namespace: string, days: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await connection.workflowService.updateNamespace({
          namespace,
          config: { workflowExecutionRetentionTtl: msToTs(days * 24 * 3600 * 1000) },
        });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err; // the namespace is created shortly after the port opens
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await connection.close();
  }
}
