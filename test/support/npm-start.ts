/**
 * `npm start` (or `npm run cluster`) run as a user runs it, for tests of what it supervises and how it stops: its own
 * DATA_DIR and free ports, no TEMPORAL_ADDRESS or MONGODB_URI (so it starts every server), and
 * the process tree under it read from `ps`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/embedded/ports';
import { portOpen, processAlive } from '../../src/embedded/service-process';
import { eventually } from './stack';

export interface RunningNpmStart {
  child: ChildProcess;
  /** The `npm start` process: what a user, a supervisor or `timeout` holds. */
  npmPid: number;
  apiUrl: string;
  adminToken: string;
  /** Every port it serves on: the API, Temporal's front end and Web UI, FerretDB, the (first) worker's metrics. */
  ports: number[];
  output: () => string;
}

export interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

export function processTable(): ProcessRow[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
}

/** `pid` and every process below it, now. */
export function descendants(pid: number): ProcessRow[] {
  const table = processTable();
  const found: ProcessRow[] = [];
  const walk = (p: number) => {
    for (const row of table.filter((r) => r.ppid === p)) {
      found.push(row);
      walk(row.pid);
    }
  };
  const self = table.find((r) => r.pid === pid);
  if (self) found.push(self);
  walk(pid);
  return found;
}

/** The one process under `root` whose command line matches. */
export function findProcess(root: number, pattern: RegExp): ProcessRow | undefined {
  return descendants(root).find((r) => pattern.test(r.args));
}

export interface NpmStartOptions {
  /** The npm script: `start` or `cluster`. @default 'start' */
  script?: string;
  /** How long it may take to say it is running. @default 180000 */
  timeoutMs?: number;
}

/** Starts `npm start` (or `npm run <script>`) in `dataDir` and waits until it says it is running. */
export async function startNpmStart(dataDir: string, adminToken: string, options: NpmStartOptions = {}): Promise<RunningNpmStart> {
  const script = options.script ?? 'start';
  const [port, temporalPort, uiPort, mongoPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PORT: String(port),
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    MONGO_PORT: String(mongoPort),
    WORKER_METRICS_PORT: String(metricsPort),
    ADMIN_TOKEN: adminToken,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    LOG_LEVEL: 'warn',
  };
  delete env.TEMPORAL_ADDRESS;
  delete env.MONGODB_URI;
  let output = '';
  // Its own process group, so the test can clean up after a failure; signals go to single pids.
  const child = spawn('npm', script === 'start' ? ['start'] : ['run', script], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const running: RunningNpmStart = {
    child,
    npmPid: child.pid!,
    apiUrl: `http://127.0.0.1:${port}`,
    adminToken,
    ports: [port, temporalPort, uiPort, mongoPort, metricsPort],
    output: () => output,
  };
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`npm ${script} exited (${child.exitCode}):\n${output}`);
      return output.includes('webhook service is running') ? true : undefined;
    },
    options.timeoutMs ?? 180_000,
    `npm ${script} to say it is running`,
  );
  return running;
}

/** Waits until none of `pids` is alive and no port of `ports` accepts connections; returns what is left. */
export async function leftovers(pids: number[], ports: number[], timeoutMs = 30_000): Promise<{ pids: number[]; ports: number[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = { pids: pids.filter(processAlive), ports: [] as number[] };
    for (const port of ports) if (await portOpen(port)) left.ports.push(port);
    if ((left.pids.length === 0 && left.ports.length === 0) || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Last resort after a failed test: SIGKILL whatever of it is still there. */
export function killTree(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
