import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../../src/embedded/service-process';
import { eventually } from '../support/stack';
import { TestReceiver } from '../support/receiver';
import { verifiedPayload } from '../support/signatures';
import { descendants, killTree, leftovers, startNpmStart, type ProcessRow, type RunningNpmStart } from '../support/npm-start';

const WORKER = /dist\/worker\/main\.js/;

/**
 * `npm run cluster` as a user runs it (issue 23, item 1): the Temporal cluster's services in
 * processes of their own, the Web UI, two worker processes and the API, supervised as `npm start`
 * is; one worker SIGKILLed leaves the other delivering at once, and a SIGTERM to the npm pid
 * alone stops everything, leaving no process and no port behind.
 */
describe('npm run cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-cluster-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user under root
  const adminToken = randomBytes(16).toString('hex');
  const receiver = new TestReceiver();
  let stack: RunningNpmStart | undefined;
  let seen: number[] = [];
  /** The first test's tenant, for the second start on the same data. */
  let tenantKey: string | undefined;

  beforeAll(async () => {
    const unavailable = process.env.TEMPORAL_CLUSTER_ERROR;
    if (unavailable) throw new Error(`the Temporal cluster could not be provisioned: ${unavailable}`);
    await receiver.start();
  });
  afterEach(() => {
    // After a failed test only: nothing of it may outlive the file (a frozen worker included).
    if (stack) killTree([...seen, ...descendants(stack.npmPid).map((r) => r.pid)]);
    stack = undefined;
  });
  afterAll(async () => {
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (path: string, init: { method?: string; key?: string; body?: unknown } = {}) => {
    const res = await fetch(`${stack!.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${init.key ?? adminToken}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };

  /** Every process of the stack now (npm, the script, the servers, PostgreSQL's backends). */
  const remember = () => {
    seen = [...new Set([...seen, ...descendants(stack!.npmPid).map((r) => r.pid)])];
  };
  const running = (pattern: RegExp): ProcessRow[] => descendants(stack!.npmPid).filter((r) => pattern.test(r.args));

  /**
   * SIGSTOPs the first worker process that is not one of `known` as soon as it appears (the
   * supervisor's replacement, after its 1 s back-off): frozen within 50 ms of its start, long
   * before it loads its code, it cannot poll. Resolves with what it froze once `until` settles.
   */
  async function freezeReplacement(known: number[], until: Promise<unknown>): Promise<number | undefined> {
    let done = false;
    void until.finally(() => (done = true)).catch(() => undefined);
    let frozen: number | undefined;
    while (!done) {
      const fresh = frozen === undefined ? running(WORKER).find((r) => !known.includes(r.pid)) : undefined;
      if (fresh) {
        process.kill(fresh.pid, 'SIGSTOP');
        frozen = fresh.pid;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return frozen;
  }

  it('runs the cluster, the Web UI, two workers and the API; a worker SIGKILLed leaves the other delivering at once; SIGTERM to the npm pid stops every process', async () => {
    stack = await startNpmStart(join(dataDir, 'a'), adminToken, { script: 'cluster', timeoutMs: 300_000 });
    // The topology: each Temporal service in a process of its own, two workers, one API.
    const services = running(/temporal-server .*start --service/).map((r) => /--service (\w+)/.exec(r.args)![1]).sort();
    expect(services).toEqual(['frontend', 'history', 'history', 'matching', 'worker']);
    expect(running(WORKER)).toHaveLength(2);
    expect(running(/dist\/api\/main\.js/)).toHaveLength(1);
    expect(running(/temporal-ui-server/)).toHaveLength(1);
    const uiUrl = /Temporal Web UI (http:\S+)/.exec(stack.output())![1]!;
    expect((await fetch(`${uiUrl}/api/v1/namespaces/default`)).status).toBe(200);

    const tenant = await api('/v1/admin/tenants', { method: 'POST', body: { name: 'cluster' } });
    expect(tenant.status).toBe(201);
    const key = tenant.body.apiKey as string;
    tenantKey = key;
    const hook = await api('/v1/webhooks', { method: 'POST', key, body: { url: receiver.url('/cluster'), events: ['*'] } });
    expect(hook.status).toBe(201);
    const secret = (hook.body.webhook as { secret: string }).secret;

    /** Sends an event through the API; resolves with its request at the receiver. */
    const deliver = async (id: string, timeoutMs: number) => {
      expect((await api('/v1/events', { method: 'POST', key, body: { id, type: 'cluster.test', data: { id } } })).status).toBe(202);
      const request = await eventually(() => receiver.requests.find((r) => r.body.includes(`"${id}"`)), timeoutMs, `the delivery of ${id}`);
      expect(verifiedPayload(request, secret)).toMatchObject({ id, type: 'cluster.test' });
      return request;
    };
    await deliver('first', 60_000);

    // Each worker in turn: SIGKILLed, its replacement frozen as it appears; an event sent right
    // after arrives through the other one. The first round's other is an original worker, the
    // second's the first round's replacement, let go: it polls again.
    for (const round of [1, 2]) {
      const [victim, other] = running(WORKER) as [ProcessRow, ProcessRow];
      expect(running(WORKER)).toHaveLength(2);
      remember();
      process.kill(victim.pid, 'SIGKILL');
      const delivered = deliver(`after-kill-${round}`, 60_000);
      const frozen = await freezeReplacement([victim.pid, other.pid], delivered);
      await delivered;
      expect(processAlive(other.pid)).toBe(true);
      // Frozen or not yet started: either way the delivery came without it. Let it go on.
      if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
      await eventually(() => (running(WORKER).length === 2 ? true : undefined), 60_000, `the worker killed in round ${round} started again`);
      expect(stack.output()).toMatch(/worker \d exited \(code null\); restarting in 1s/);
    }

    remember();
    expect(seen.length).toBeGreaterThanOrEqual(12);
    const exited = new Promise((resolve) => stack!.child.once('exit', resolve));
    process.kill(stack.npmPid, 'SIGTERM');
    expect(await leftovers(seen, stack.ports, 90_000)).toEqual({ pids: [], ports: [] });
    await exited;
    stack = undefined;
  }, 900_000);

  it('starts again on the same DATA_DIR with its data (the event, its delivery and the attempt in its history); SIGINT to the npm pid stops every process', async () => {
    expect(tenantKey).toBeDefined();
    seen = [];
    stack = await startNpmStart(join(dataDir, 'a'), adminToken, { script: 'cluster', timeoutMs: 300_000 });
    const read = await api('/v1/events/first', { key: tenantKey });
    expect(read.status).toBe(200);
    // The attempts come from the cluster's database: the fan-out's history, or the index's record
    // of the attempt when the first round's SIGKILL hit the worker that made it before its
    // workflow task completed (the fan-out's next try then finds it recorded and sends nothing).
    expect(read.body.deliveries).toEqual([expect.objectContaining({ status: 'delivered', attempts: [expect.objectContaining({ attempt: 1, statusCode: 200 })] })]);

    remember();
    const exited = new Promise((resolve) => stack!.child.once('exit', resolve));
    process.kill(stack.npmPid, 'SIGINT');
    expect(await leftovers(seen, stack.ports, 90_000)).toEqual({ pids: [], ports: [] });
    await exited;
    stack = undefined;
  }, 600_000);
});
