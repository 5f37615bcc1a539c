/**
 * The embedded Temporal cluster's databases: `temporal` (persistence) and `temporal_visibility`
 * (SQL visibility), created on a cluster's first start and brought to the schema of the server
 * binary at every start, with the server's own schema tool (`temporal-sql-tool`, the same steps
 * as a production install: create, set up version 0.0, update to the newest versioned schema).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { TEMPORAL_DATABASES } from './temporal-server-config';

const run = promisify(execFile);

export interface TemporalSchemaOptions {
  /** The schema tool (TEMPORAL_SQL_TOOL from scripts/provision-cluster.sh). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the server's version (TEMPORAL_SCHEMA_DIR). */
  schemaDir: string;
  /** PostgreSQL on 127.0.0.1, and a role that may create databases. */
  database: { port: number; user: string; password: string };
  /** Written once both databases exist with their schemas: its absence means a first start. */
  markerFile: string;
  /** Where the tool's output goes. @default dropped unless it fails */
  logFile?: string;
}

/** Thrown when the schema tool fails, with its output. */
export class TemporalSchemaError extends Error {
  override readonly name = 'TemporalSchemaError';
  constructor(
    readonly step: string,
    readonly output: string,
  ) {
    super(`temporal-sql-tool ${step} failed: ${output.trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** Creates both databases on a first start (again, from scratch, after one interrupted), then updates their schemas. */
export async function setUpTemporalSchemas(options: TemporalSchemaOptions): Promise<void> {
  const firstStart = !existsSync(options.markerFile);
  const databases = [
    { name: TEMPORAL_DATABASES.persistence, dir: join(options.schemaDir, 'temporal', 'versioned') },
    { name: TEMPORAL_DATABASES.visibility, dir: join(options.schemaDir, 'visibility', 'versioned') },
  ];
  for (const { name, dir } of databases) {
    if (!existsSync(dir)) throw new TemporalSchemaError('update-schema', `no versioned schema in ${dir}: run scripts/provision-cluster.sh`);
    if (firstStart) {
      await sqlTool(options, name, ['drop-database', '--force']);
      await sqlTool(options, name, ['create-database']);
      await sqlTool(options, name, ['setup-schema', '-v', '0.0']);
    }
    await sqlTool(options, name, ['update-schema', '-d', dir]);
  }
  if (firstStart) {
    mkdirSync(dirname(options.markerFile), { recursive: true });
    writeFileSync(options.markerFile, `${new Date().toISOString()}\n`);
  }
}

async function sqlTool(options: TemporalSchemaOptions, database: string, args: string[]): Promise<void> {
  const step = `${args[0]} (${database})`;
  // By environment: a password on the command line is visible to every user of the machine.
  const env = {
    PATH: process.env.PATH,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(options.database.port),
    SQL_USER: options.database.user,
    SQL_PASSWORD: options.database.password,
    SQL_DATABASE: database,
  };
  try {
    const { stdout, stderr } = await run(options.sqlTool, args, { env, maxBuffer: 16 * 1024 * 1024 });
    if (options.logFile) appendFileSync(options.logFile, stdout + stderr);
  } catch (err) {
    const { stdout = '', stderr = '', message } = err as { stdout?: string; stderr?: string; message: string };
    if (options.logFile) appendFileSync(options.logFile, stdout + stderr);
    throw new TemporalSchemaError(step, stderr || stdout || message);
  }
}
