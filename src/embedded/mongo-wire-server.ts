import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports';
import { ServiceProcess } from './service-process';

export interface MongoWireServerOptions {
  port: number;
  /** Directory for state that survives restarts; none keeps state in memory (mongo-java-server) or in a throw-away dir. */
  dataDir?: string;
  logFile?: string;
  /** What scripts/provision.sh printed: MONGO_WIRE_SERVER and the paths that go with it. */
  tools: NodeJS.ProcessEnv;
}

export interface RunningMongo {
  uri: (database: string) => string;
  process: ServiceProcess;
}

/** Starts the embedded MongoDB-wire server bound to 127.0.0.1: FerretDB v1 or mongo-java-server. */
export async function startMongoWireServer(options: MongoWireServerOptions): Promise<RunningMongo> {
  const { tools } = options;
  let command: string;
  let args: string[];
  if (tools.MONGO_WIRE_SERVER === 'ferretdb') {
    if (!options.dataDir) throw new Error('FerretDB needs a data directory');
    const dir = join(options.dataDir, 'ferretdb');
    mkdirSync(dir, { recursive: true });
    command = tools.FERRETDB_BIN as string;
    args = [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${options.port}`,
      // Its debug address defaults to 127.0.0.1:8088, which collides between two instances.
      `--debug-addr=127.0.0.1:${await freePort()}`,
      // Telemetry would report to an outside host.
      '--telemetry=disable',
    ];
  } else if (tools.MONGO_WIRE_SERVER === 'mongo-java-server') {
    command = 'java';
    args = ['-Xmx512m', '-XX:+UseSerialGC', '-cp', tools.MONGO_JAVA_CLASSPATH as string, tools.MONGO_JAVA_LAUNCHER as string, '--port', String(options.port)];
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      args.push('--file', join(options.dataDir, 'mongo.mv'));
    }
  } else {
    throw new Error('no MongoDB-wire server was provisioned: run scripts/provision.sh, or set MONGODB_URI');
  }
  const process = new ServiceProcess({ name: `MongoDB-wire server (${tools.MONGO_WIRE_SERVER})`, command, args, logFile: options.logFile });
  try {
    await process.waitForPort(options.port);
  } catch (err) {
    await process.stop();
    throw err;
  }
  return { uri: (database) => `mongodb://127.0.0.1:${options.port}/${database}`, process };
}
