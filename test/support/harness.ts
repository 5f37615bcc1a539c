import type { Server } from 'node:http';
import type { Express } from 'express';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/api/app';
import { SecretBox } from '../../src/crypto/secret-box';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { connectMongo, type Models } from '../../src/models';
import { createWorker } from '../../src/worker/create-worker';
import type { RateLimitSettings } from '../../src/config/config';
import { testStack, uniqueName } from './stack';

/**
 * What the SDK logged in this process (activity and workflow logs included), captured instead of
 * printed; errors are printed too. The Runtime is installed once per process.
 */
export const sdkLogs: LogEntry[] = [];

/** Test receivers listen on loopback over plain http. */
const LOCAL_RECEIVERS = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'webhook-service/test' };

export interface HarnessOptions {
  /** Per-tenant API rate limit. @default 1000/s, burst 1000 (out of the way) */
  rateLimit?: RateLimitSettings;
  /** Overlap of a rotated-out secret. @default 86400 */
  secretRotationOverlapSeconds?: number;
  /** Temporal address the API uses (a closed port simulates Temporal being down). @default the test stack's */
  apiTemporalAddress?: string;
  /** Start a worker for this harness's task queue. @default true */
  worker?: boolean;
}

/**
 * The whole product in-process against the real servers of the test stack: the Express API on a
 * loopback port, a worker on its own task queue and a MongoDB database of its own.
 */
export class Harness {
  readonly adminToken = `adm_${randomBytes(24).toString('base64url')}`;
  readonly taskQueue = uniqueName('tq');
  baseUrl = '';
  /** The API's JSON log lines. */
  readonly apiLogs: string[] = [];
  /** The Express app under test, for walking its routes. */
  app!: Express;
  models!: Models;
  client!: Client;
  private server?: Server;
  private worker?: Worker;
  private workerRun?: Promise<void>;
  private closers: (() => Promise<unknown>)[] = [];

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const harness = new Harness();
    await harness.init(options);
    return harness;
  }

  private async init(options: HarnessOptions): Promise<void> {
    const stack = testStack();
    try {
      Runtime.install({
        logger: new DefaultLogger('INFO', (entry) => {
          sdkLogs.push(entry);
          if (entry.level === 'ERROR') console.error(entry.message, entry.meta);
        }),
      });
    } catch {
      // already installed by an earlier suite in this jest worker
    }
    const { conn, models } = await connectMongo(stack.mongodbUri(uniqueName('db')));
    this.models = models;
    this.closers.push(async () => {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    });

    const secretBox = new SecretBox('test', randomBytes(32));
    const connection = await Connection.connect({ address: stack.temporalAddress });
    this.client = new Client({ connection });
    this.closers.push(() => connection.close());

    if (options.worker !== false) {
      const http = new WebhookHttpClient(LOCAL_RECEIVERS);
      const native = await NativeConnection.connect({ address: stack.temporalAddress });
      this.worker = await createWorker({ connection: native, namespace: 'default', taskQueue: this.taskQueue, deps: { models, secretBox, http } });
      this.workerRun = this.worker.run();
      this.closers.push(async () => {
        this.worker?.shutdown();
        await this.workerRun;
        await native.close();
        await http.close();
      });
    }

    const apiHttp = new WebhookHttpClient(LOCAL_RECEIVERS);
    this.closers.push(() => apiHttp.close());
    const apiConnection = options.apiTemporalAddress ? Connection.lazy({ address: options.apiTemporalAddress }) : connection;
    if (options.apiTemporalAddress) this.closers.push(() => apiConnection.close());
    const app = createApp({
      models,
      mongo: conn,
      temporal: new Client({ connection: apiConnection }),
      temporalConnection: apiConnection,
      taskQueue: this.taskQueue,
      secretBox,
      logger: pino({ level: 'debug' }, { write: (line: string) => this.apiLogs.push(line) }),
      adminToken: this.adminToken,
      bodyLimitBytes: 256 * 1024,
      http: apiHttp,
      defaultTimeoutSeconds: 5,
      secretRotationOverlapSeconds: options.secretRotationOverlapSeconds ?? 86400,
      rateLimit: options.rateLimit ?? { perSecond: 1000, burst: 1000 },
    });
    this.app = app;
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    this.closers.push(() => new Promise((r) => this.server!.close(r)));
  }

  /** A real HTTP call to the API; returns status, headers and the parsed JSON body. */
  async call(method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** Creates a tenant through the admin API and returns its id and API key. */
  async createTenant(name = 'Acme'): Promise<{ tenantId: string; apiKey: string }> {
    const res = await this.call('POST', '/v1/admin/tenants', { token: this.adminToken, body: { name } });
    if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { tenantId: res.body.tenant.id, apiKey: res.body.apiKey };
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}
