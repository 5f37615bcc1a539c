import type { Server } from 'node:http';
import type { Express } from 'express';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import type { ActivityDeps } from '../../src/activities';
import { createApp } from '../../src/api/app';
import { answerClientErrors } from '../../src/api/client-errors';
import { SecretBox } from '../../src/crypto/secret-box';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { connectMongo, type Models } from '../../src/models';
import { createWorkers, runWorkers, shutDownWorkers } from '../../src/worker/create-worker';
import type { RateLimitSettings } from '../../src/config/config';
import { eventually, testStack, uniqueName } from './stack';
import { WebhookClient, type NewEvent, type NewWebhook } from '../../packages/client/src';

/**
 * What the SDK logged in this process (activity and workflow logs included), captured instead of
 * printed; errors are printed too. The Runtime is installed once per process.
 */
export const sdkLogs: LogEntry[] = [];

/** Test receivers listen on loopback over plain http. */
const LOCAL_RECEIVERS = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'], userAgent: 'webhook-service/test' };

/** Captures SDK logs into `sdkLogs` instead of printing them; call before any Temporal connection. */
export function installQuietRuntime(): void {
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
}

export interface HarnessOptions {
  /** Per-tenant API rate limit. @default 1000/s, burst 1000 (out of the way) */
  rateLimit?: RateLimitSettings;
  /** Overlap of a rotated-out secret. @default 86400 */
  secretRotationOverlapSeconds?: number;
  /** Temporal address the API uses (a closed port simulates Temporal being down). @default the test stack's */
  apiTemporalAddress?: string;
  /** Temporal namespace the API uses (one that does not exist simulates a configuration error). @default 'default' */
  apiNamespace?: string;
  /** Start a worker for this harness's task queue. @default true */
  worker?: boolean;
  /** Temporal address of the worker and the API (a dev server of the suite's own, e.g. with its Web UI). @default the test stack's */
  temporalAddress?: string;
  /** Run against this Temporal environment (e.g. the time-skipping test server). @default the stack's dev server */
  testEnv?: TestWorkflowEnvironment;
  /** MongoDB of the API and the worker (a private server a test stops). @default a database of its own on the test stack's server */
  mongodbUri?: string;
  /** How long a request body may take to arrive (then 408). @default the product default */
  bodyTimeoutMs?: number;
  /** A METRICS_TOKEN for the API. @default none (the admin token reads /metrics) */
  metricsToken?: string;
  /** Activity settings of the worker. @default the product defaults */
  activities?: Pick<ActivityDeps, 'retryAfterMaxMs' | 'autoDisable' | 'circuit' | 'recordFaults'>;
}

/**
 * The whole product in-process against the real servers of the test stack: the Express API on a
 * loopback port, a worker on its own task queue and a MongoDB database of its own.
 */
export class Harness {
  readonly adminToken = `adm_${randomBytes(24).toString('base64url')}`;
  readonly taskQueue = uniqueName('tq');
  /** The SECRETS_KEY (id `test`) of this harness, for a worker process of its own. */
  readonly secretsKey = randomBytes(32);
  readonly secretBox = new SecretBox('test', this.secretsKey);
  /** This harness's MongoDB database, for a worker process of its own. */
  mongodbUri = '';
  baseUrl = '';
  /** The API's JSON log lines. */
  readonly apiLogs: string[] = [];
  /** The Express app under test, for walking its routes. */
  app!: Express;
  models!: Models;
  client!: Client;
  private options: HarnessOptions = {};
  private server?: Server;
  private running?: { workers: Worker[]; run: Promise<void>; close: () => Promise<void> };
  private closers: (() => Promise<unknown>)[] = [];

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const harness = new Harness();
    await harness.init(options);
    return harness;
  }

  private async init(options: HarnessOptions): Promise<void> {
    this.options = options;
    const stack = testStack();
    installQuietRuntime();
    this.mongodbUri = options.mongodbUri ?? stack.mongodbUri(uniqueName('db'));
    const { conn, models } = await connectMongo(this.mongodbUri);
    this.models = models;
    this.closers.push(async () => {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    });

    let connection: Connection;
    if (options.testEnv) {
      this.client = options.testEnv.client;
      connection = options.testEnv.connection;
    } else {
      connection = await Connection.connect({ address: options.temporalAddress ?? stack.temporalAddress });
      this.client = new Client({ connection });
      this.closers.push(() => connection.close());
    }
    this.closers.push(() => this.stopWorker());
    if (options.worker !== false) await this.startWorker();

    const apiConnection = options.apiTemporalAddress ? Connection.lazy({ address: options.apiTemporalAddress }) : connection;
    if (options.apiTemporalAddress) this.closers.push(() => apiConnection.close());
    const apiHttp = new WebhookHttpClient(LOCAL_RECEIVERS);
    this.closers.push(() => apiHttp.close());
    const app = createApp({
      models,
      mongo: conn,
      temporal:
        options.apiTemporalAddress || options.apiNamespace
          ? new Client({ connection: apiConnection, namespace: options.apiNamespace ?? 'default' })
          : this.client,
      temporalConnection: apiConnection,
      taskQueue: this.taskQueue,
      secretBox: this.secretBox,
      logger: pino({ level: 'debug' }, { write: (line: string) => this.apiLogs.push(line) }),
      adminToken: this.adminToken,
      bodyLimitBytes: 256 * 1024,
      http: apiHttp,
      defaultTimeoutSeconds: 5,
      secretRotationOverlapSeconds: options.secretRotationOverlapSeconds ?? 86400,
      rateLimit: options.rateLimit ?? { perSecond: 1000, burst: 1000 },
      bodyTimeoutMs: options.bodyTimeoutMs,
      metricsToken: options.metricsToken,
    });
    this.app = app;
    this.server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
      answerClientErrors(s);
      // Longer than fetch's idle keep-alive: a test that pauses (seeding thousands of documents)
      // must not reuse a connection the server is closing at that very moment.
      s.keepAliveTimeout = 65_000;
    });
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    this.closers.push(() => new Promise((r) => this.server!.close(r)));
  }

  /** Starts a worker (with its own connection and HTTP client) on this harness's task queue. */
  async startWorker(): Promise<void> {
    if (this.running) return;
    const http = new WebhookHttpClient(LOCAL_RECEIVERS);
    const env = this.options.testEnv;
    const native = env ? env.nativeConnection : await NativeConnection.connect({ address: this.options.temporalAddress ?? testStack().temporalAddress });
    // Unversioned: the suites share one dev server, and run one build.
    const { workers } = await createWorkers({
      connection: native,
      namespace: 'default',
      taskQueue: this.taskQueue,
      deps: { models: this.models, secretBox: this.secretBox, http, ...this.options.activities },
    });
    const run = runWorkers(workers);
    this.running = {
      workers,
      run,
      close: async () => {
        if (!env) await native.close();
        await http.close();
      },
    };
  }

  /**
   * Stops only the worker of the retry queue (as if its workflow-task budget were all taken):
   * fan-outs and their first attempts go on. `stopWorker`, then `startWorker`, brings it back.
   */
  async stopRetryWorker(): Promise<void> {
    const retries = this.running?.workers[1];
    if (!retries) return;
    shutDownWorkers([retries]);
    await eventually(() => (retries.getState() === 'STOPPED' ? true : undefined), 30_000, 'the retry worker to stop');
  }

  /** Shuts the worker down as SIGTERM would: in-flight attempts finish, nothing new is polled. */
  async stopWorker(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    shutDownWorkers(running.workers);
    await running.run;
    await running.close();
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

  /**
   * The typed client (packages/client) of this harness's API with `token`, without retries: a test
   * sees what the service answered. A non-2xx answer throws WebhookApiError.
   */
  apiClient(token: string): WebhookClient {
    return new WebhookClient({ baseUrl: this.baseUrl, token, retry: false });
  }

  /** Creates a tenant through the admin API and returns its id and API key. */
  async createTenant(name = 'Acme'): Promise<{ tenantId: string; apiKey: string }> {
    const { tenant, apiKey } = await this.apiClient(this.adminToken).createTenant({ name });
    return { tenantId: tenant.id, apiKey };
  }

  /** Creates a webhook through the API and returns its id and secret. */
  async createWebhook(apiKey: string, webhook: NewWebhook): Promise<{ webhookId: string; secret: string }> {
    const { id, secret } = await this.apiClient(apiKey).createWebhook(webhook);
    return { webhookId: id, secret };
  }

  /** Sends one event through the API (an id made by the client when it has none); returns its id. */
  async sendEvent(apiKey: string, event: NewEvent): Promise<string> {
    return (await this.apiClient(apiKey).sendEvent(event)).id;
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}
