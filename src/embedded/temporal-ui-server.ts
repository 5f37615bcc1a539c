/**
 * The Temporal Web UI of the embedded cluster: the UI server built from its Go module
 * (`github.com/temporalio/ui-server/v2`, scripts/provision-cluster.sh), on 127.0.0.1, pointed at
 * the cluster's frontend, fetching no news feed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceProcess } from './service-process';
import { SupervisedService, type Supervision } from './supervised-service';

/** The UI server reads `<config dir>/<env>.yaml`. */
const CONFIG_ENV = 'cluster';

export interface TemporalUiServerOptions {
  /** The UI server's binary (TEMPORAL_UI_SERVER). */
  binary: string;
  /** The frontend's gRPC address, `127.0.0.1:port`. */
  temporalAddress: string;
  port: number;
  /** Where its configuration file is written. */
  configDir: string;
  /** The namespace it opens on. */
  namespace: string;
  logFile?: string;
  /** Restart it when it dies. @default never restarted */
  supervise?: Supervision;
}

export interface RunningTemporalUi {
  url: string;
  service: SupervisedService;
  readonly process: ServiceProcess;
}

export async function startTemporalUiServer(options: TemporalUiServerOptions): Promise<RunningTemporalUi> {
  const url = `http://127.0.0.1:${options.port}`;
  mkdirSync(options.configDir, { recursive: true });
  writeFileSync(
    join(options.configDir, `${CONFIG_ENV}.yaml`),
    `# Written by src/embedded/temporal-ui-server.ts at each start; edits are overwritten.
temporalGrpcAddress: ${options.temporalAddress}
host: 127.0.0.1
port: ${options.port}
enableUi: true
defaultNamespace: ${JSON.stringify(options.namespace)}
disableNewsFetch: true
cors:
  allowOrigins:
    - ${url}
`,
  );
  const service = new SupervisedService({
    ...options.supervise,
    restart: options.supervise !== undefined,
    name: 'Temporal Web UI',
    processGroup: options.supervise !== undefined,
    command: options.binary,
    args: ['--root', options.configDir, '--config', '.', '--env', CONFIG_ENV, 'start'],
    env: { PATH: process.env.PATH },
    logFile: options.logFile,
  });
  try {
    await service.waitForOk(`${url}/healthz`);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    url,
    service,
    get process() {
      return service.process;
    },
  };
}
