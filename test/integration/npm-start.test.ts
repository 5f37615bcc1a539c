import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/stack';
import { TestReceiver } from '../support/receiver';
import { descendants, findProcess, killTree, leftovers, startNpmStart, type RunningNpmStart } from '../support/npm-start';

/**
 * `npm start` as a user runs it (issue 22, items 3 and 4): every process it starts is supervised,
 * so each tier SIGKILLed comes back by itself and the stack serves again; and a signal to the
 * `npm start` pid alone (as `kill`, `timeout`, a supervisor or an IDE sends it) stops everything,
 * leaving no process and no port behind, as does the death of the script's own process.
 */
describe('npm start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as its own user under root
  const adminToken = randomBytes(16).toString('hex');
  const receiver = new TestReceiver();
  let stack: RunningNpmStart | undefined;
  let seen: number[] = [];

  beforeAll(() => receiver.start());
  afterEach(() => {
    // After a failed test only: nothing of it may outlive the file.
    if (stack) killTree([...seen, ...descendants(stack.npmPid).map((r) => r.pid)]);
    stack = undefined;
  });
  afterAll(async () => {
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (dir: string) => {
    seen = [];
    stack = await startNpmStart(join(dataDir, dir), adminToken);
    return stack;
  };

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

  /** SIGTERMs or SIGINTs `pid` only, then nothing of the stack may remain, and every port is free. */
  async function expectAllStopped(pid: number, signal: NodeJS.Signals): Promise<void> {
    remember();
    expect(seen.length).toBeGreaterThanOrEqual(8);
    const exited = new Promise((resolve) => stack!.child.once('exit', resolve));
    process.kill(pid, signal);
    expect(await leftovers(seen, stack!.ports, 60_000)).toEqual({ pids: [], ports: [] });
    await exited;
    stack = undefined;
  }

  const tiers: [string, RegExp][] = [
    ['the API', /dist\/api\/main\.js/],
    ['the worker', /dist\/worker\/main\.js/],
    ['the Temporal dev server', /temporal server start-dev/],
    ['FerretDB', /ferretdb --listen-addr/],
    ['PostgreSQL (its postmaster)', /bin\/postgres -D/],
  ];

  it('restarts each tier SIGKILLed and serves again; SIGTERM to the npm pid then stops every process', async () => {
    stack = await start('a');
    const tenant = await api('/v1/admin/tenants', { method: 'POST', body: { name: 'supervised' } });
    expect(tenant.status).toBe(201);
    const key = tenant.body.apiKey as string;
    const hook = await api('/v1/webhooks', { method: 'POST', key, body: { url: receiver.url('/supervised'), events: ['*'], retrySchedule: ['1s'] } });
    expect(hook.status).toBe(201);

    /** An event accepted and delivered: every tier serves. */
    const serves = async (label: string) => {
      const id = `after-${label.replace(/\W+/g, '-')}`;
      await eventually(async () => ((await api('/v1/events', { method: 'POST', key, body: { id, type: 'tier.killed', data: {} } }).catch(() => undefined))?.status === 202 ? true : undefined), 120_000, `an event accepted after killing ${label}`);
      await eventually(() => (receiver.requests.some((r) => r.body.includes(`"${id}"`) || r.headers['x-webhook-event-id'] === id) ? true : undefined), 120_000, `a delivery after killing ${label}`);
    };
    await serves('nothing');

    for (const [label, pattern] of tiers) {
      const before = findProcess(stack.npmPid, pattern);
      expect({ label, found: before !== undefined }).toEqual({ label, found: true });
      remember();
      process.kill(before!.pid, 'SIGKILL');
      const after = await eventually(() => {
        const p = findProcess(stack!.npmPid, pattern);
        return p && p.pid !== before!.pid ? p : undefined;
      }, 120_000, `${label} started again`);
      expect(after.pid).not.toBe(before!.pid);
      await serves(label);
    }
    expect(stack.output()).toMatch(/PostgreSQL exited \(code null\); restarting in 1s/);

    await expectAllStopped(stack.npmPid, 'SIGTERM');
  }, 900_000);

  it('SIGINT to the npm pid alone stops every process', async () => {
    stack = await start('a'); // the same data: the previous start left nothing in the way
    await expectAllStopped(stack.npmPid, 'SIGINT');
  }, 300_000);

  it("SIGTERM to the script's own pid stops every process", async () => {
    stack = await start('b');
    const script = findProcess(stack.npmPid, /scripts\/start\.ts/)!;
    await expectAllStopped(script.pid, 'SIGTERM');
  }, 300_000);

  it("SIGKILL to the script's own pid, or to the npm pid, leaves nothing running", async () => {
    stack = await start('b');
    await expectAllStopped(findProcess(stack.npmPid, /scripts\/start\.ts/)!.pid, 'SIGKILL');
    stack = await start('b');
    await expectAllStopped(stack.npmPid, 'SIGKILL');
  }, 300_000);
});
