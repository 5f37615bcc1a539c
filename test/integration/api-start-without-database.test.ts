import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../src/embedded/ports';
import { eventually, testStack, uniqueName } from '../support/stack';

/**
 * The API process started while its database is down (a restart during an outage, as the chaos
 * run does): it listens at once and answers 503 with Retry-After, then serves once MongoDB answers.
 */
describe('API started while MongoDB is down', () => {
  const root = join(__dirname, '../..');
  const adminToken = `adm_${randomBytes(24).toString('base64url')}`;
  let api: ChildProcess | undefined;
  let proxy: Server | undefined;

  afterEach(async () => {
    proxy?.close();
    if (api && api.exitCode === null) {
      const exited = new Promise((r) => api!.once('exit', r));
      api.kill('SIGKILL');
      await exited;
    }
  });

  /** The API as `npm run start:api` runs it, its database at `mongoPort` on loopback. */
  async function startApi(mongoPort: number): Promise<string> {
    const port = await freePort();
    const uri = new URL(testStack().mongodbUri(uniqueName('api_start')));
    uri.host = `127.0.0.1:${mongoPort}`;
    // One process (no tsx launcher in between): its signals reach the API itself.
    api = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/api/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        ADMIN_TOKEN: adminToken,
        SECRETS_KEY: randomBytes(32).toString('base64'),
        MONGODB_URI: uri.toString(),
        TEMPORAL_ADDRESS: testStack().temporalAddress,
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually(() => fetch(`${base}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 60_000, 'the API listening');
    return base;
  }

  const createTenant = (base: string) =>
    fetch(`${base}/v1/admin/tenants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Acme' }),
    });

  it('answers 503 with Retry-After until the database answers, then serves', async () => {
    const mongoPort = await freePort();
    const base = await startApi(mongoPort);

    const refused = await createTenant(base);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({ error: { code: 'service_unavailable', message: 'MongoDB is unreachable; retry later', details: [] } });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);

    // The database comes up at its address: a proxy to the test stack's MongoDB-wire server.
    const target = new URL(process.env.MONGODB_URI!);
    proxy = createServer((downstream) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [downstream, upstream]) socket.on('error', () => undefined);
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => proxy!.listen(mongoPort, '127.0.0.1', resolve));

    const created = await eventually(
      async () => {
        const res = await createTenant(base);
        return res.status === 503 ? undefined : res;
      },
      60_000,
      'the API serving once MongoDB answers',
    );
    expect(created.status).toBe(201);
    expect(((await created.json()) as { tenant: unknown }).tenant).toMatchObject({ name: 'Acme' });
  });

  it('stops on SIGTERM while it waits for the database', async () => {
    await startApi(await freePort());
    const exited = new Promise<number | null>((r) => api!.once('exit', r));
    api!.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
