/**
 * The private PostgreSQL cluster under FerretDB: created on first start (initdb) in its own data
 * directory, bound to 127.0.0.1 only (no Unix socket), password-authenticated, and run with
 * PostgreSQL's defaults for durability (fsync and synchronous commit on), so a write FerretDB
 * acknowledged survives a crash of either process.
 *
 * PostgreSQL refuses to run as root; as root, the cluster runs as the `postgres` system user,
 * which then owns the data directory.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { SupervisedService, type Supervision } from './supervised-service';
import type { ServiceProcess } from './service-process';

/** The PostgreSQL role FerretDB logs in as; it owns the `postgres` database FerretDB writes to. */
const FERRETDB_ROLE = 'ferretdb';

export interface PostgresServerOptions {
  /** Directory of PostgreSQL's programs (initdb, postgres, pg_isready); see scripts/provision.sh. */
  binDir: string;
  /** The cluster's directory; created with initdb when it holds none. */
  dataDir: string;
  port: number;
  /** The superuser initdb creates, whom the URL logs in as. @default 'ferretdb' */
  role?: string;
  logFile?: string;
  /** Restart it when it dies, healing a killed postmaster's leftovers. @default never restarted */
  supervise?: Supervision;
}

export interface RunningPostgres {
  /** Connection URL with the cluster's password: pass it by environment, never on a command line. */
  url: string;
  service: SupervisedService;
  /** The postmaster running now. */
  readonly process: ServiceProcess;
}

/** Thrown when the embedded PostgreSQL cannot be set up, with what to do about it. */
export class PostgresSetupError extends Error {
  override readonly name = 'PostgresSetupError';
}

export async function startPostgres(options: PostgresServerOptions): Promise<RunningPostgres> {
  const owner = clusterOwner();
  const password = ensureCluster(options, owner);
  const args = [
    '-D', options.dataDir,
    '-p', String(options.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=200',
    // Statistics within seconds of a table's growth, not a minute: unanalysed, the planner combined
    // the tenant's GIN index with the `_id` one and read every row of the tenant per lookup, so each
    // counter update of a 10,000-webhook fan-out's new webhooks cost more than the last.
    '-c', 'autovacuum_naptime=5',
  ];
  const pidFile = join(options.dataDir, 'postmaster.pid');
  const service = new SupervisedService({
    ...options.supervise,
    restart: options.supervise !== undefined,
    // The postmaster of postmaster.pid is dead and its group gone (the supervisor saw to it): a
    // pid reused since by another process would otherwise make PostgreSQL refuse to start.
    beforeRestart: () => rmSync(pidFile, { force: true }),
    name: 'PostgreSQL',
    command: join(options.binDir, 'postgres'),
    args,
    logFile: options.logFile,
    user: owner,
    // Fast shutdown: SIGTERM ("smart") would wait for FerretDB's pooled connections to close.
    stopSignal: 'SIGINT',
    // Its backends are children of the postmaster: a kill must reach the whole group.
    processGroup: true,
  });
  try {
    await waitUntilReady(options, service.process);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    url: `postgres://${options.role ?? FERRETDB_ROLE}:${password}@127.0.0.1:${options.port}/postgres`,
    service,
    get process() {
      return service.process;
    },
  };
}

interface Owner {
  uid: number;
  gid: number;
}

/** Who runs the cluster: this user, or `postgres` when this is root. */
function clusterOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new PostgresSetupError('PostgreSQL refuses to run as root and there is no `postgres` user: create one (useradd --system postgres) or run as another user');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Creates the cluster on first use; returns its password (kept beside it, readable by this user only). */
function ensureCluster(options: PostgresServerOptions, owner: Owner | undefined): string {
  const { dataDir } = options;
  const passwordFile = `${dataDir}.password`;
  mkdirSync(dirname(dataDir), { recursive: true });
  if (owner) assertReachable(dirname(dataDir));
  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    if (!existsSync(passwordFile)) throw new PostgresSetupError(`${passwordFile} is missing: the cluster in ${dataDir} cannot be opened without it`);
    return readFileSync(passwordFile, 'utf8').trim();
  }

  // initdb writes into a scratch directory renamed into place once complete, so a cluster
  // half-made by an interrupted first start is never opened.
  const password = randomBytes(24).toString('hex');
  const scratch = `${dataDir}.initdb`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { mode: 0o700 });
  const pwFile = `${scratch}.pw`;
  writeFileSync(pwFile, password, { mode: 0o600 });
  try {
    if (owner) {
      chownSync(scratch, owner.uid, owner.gid);
      chownSync(pwFile, owner.uid, owner.gid);
    }
    execFileSync(
      join(options.binDir, 'initdb'),
      ['-D', scratch, '-U', options.role ?? FERRETDB_ROLE, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      { stdio: ['ignore', 'ignore', 'pipe'], uid: owner?.uid, gid: owner?.gid },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    rmSync(scratch, { recursive: true, force: true });
    throw new PostgresSetupError(`initdb failed${stderr ? `: ${stderr}` : ''}`);
  } finally {
    rmSync(pwFile, { force: true });
  }
  writeFileSync(passwordFile, password, { mode: 0o600 });
  rmSync(dataDir, { recursive: true, force: true });
  renameSync(scratch, dataDir);
  return password;
}

/** As root, the `postgres` user must be able to walk down to the data directory. */
function assertReachable(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      throw new PostgresSetupError(
        `PostgreSQL runs as the \`postgres\` user, which cannot enter ${d} (mode ${(st.mode & 0o777).toString(8)}): ` +
          'set DATA_DIR to a directory it can reach, or make the path traversable (chmod o+x)',
      );
    }
    if (d === parse(d).root) return;
  }
}

/** Waits until the cluster accepts connections (the port opens before recovery is done). */
async function waitUntilReady(options: PostgresServerOptions, server: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  const isReady = join(options.binDir, 'pg_isready');
  accessSync(isReady, constants.X_OK);
  const deadline = Date.now() + timeoutMs;
  const where = options.logFile ? ` (see ${options.logFile})` : '';
  while (Date.now() < deadline) {
    if (!server.running) throw new PostgresSetupError(`PostgreSQL exited before accepting connections${where}`);
    try {
      execFileSync(isReady, ['-q', '-h', '127.0.0.1', '-p', String(options.port), '-d', 'postgres'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new PostgresSetupError(`PostgreSQL did not accept connections on 127.0.0.1:${options.port} within ${timeoutMs / 1000}s${where}`);
}
