import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDelay } from '../delivery/retry-schedule';
import type { AutoDisablePolicy } from '../delivery/webhook-health';
import type { CircuitPolicy } from '../delivery/circuit-policy';
import { LINK_TTL_BOUNDS, type PortalSettings } from '../portal/portal-settings';
import { loadOrCreateDevSecrets } from './dev-secrets';

/** Thrown when a setting is missing or invalid; the message names the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const seconds = z.coerce.number().int().positive();

/** A duration with a unit: 90s, 30m, 12h, 5d. */
const duration = z
  .string()
  .regex(/^\d{1,5}[smhd]$/, 'expected a duration such as 30m, 12h or 5d')
  .transform(parseDelay);

const cidr = z.string().refine((v) => {
  const [address, prefix, extra] = v.split('/');
  const family = isIP(address ?? '');
  return extra === undefined && family !== 0 && /^\d{1,3}$/.test(prefix ?? '') && Number(prefix) <= (family === 4 ? 32 : 128);
}, 'expected a CIDR such as 127.0.0.0/8 or ::1/128');
const cidrList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(cidr));

/** 32 random bytes for AES-256-GCM, given as base64 (44 chars) or hex (64 chars). */
const secretsKey = z
  .string()
  .transform((v) => (/^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64')))
  .refine((b) => b.length === 32, 'expected 32 bytes as base64 or hex');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Address the API listens on. @default 127.0.0.1 */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** API port. @default 3000 */
  PORT: port.default(3000),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  SECRETS_KEY: secretsKey.optional(),
  /** Id stored beside every encrypted secret, so the key can be rotated later. @default k1 */
  SECRETS_KEY_ID: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default('k1'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('webhook-deliveries'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// URI').optional(),
  /** Embedded default's state: Temporal SQLite file, MongoDB-wire data, generated secrets. @default ./data */
  DATA_DIR: z.string().min(1).default('./data'),
  /** Lets http:// webhook URLs through (https only otherwise). @default false */
  WEBHOOK_ALLOW_HTTP: bool.default(false),
  /** CIDRs exempt from the SSRF guard, e.g. 127.0.0.0/8 for local receivers. @default none */
  WEBHOOK_ALLOWED_CIDRS: cidrList.default([]),
  /** `false`: webhook host names are never looked up in DNS; only IP addresses and localhost are accepted. @default true */
  WEBHOOK_RESOLVE_HOSTNAMES: bool.default(true),
  /** CIDRs that are the only addresses deliveries may connect to (egress allowlist). @default none: any public address */
  WEBHOOK_DESTINATION_CIDRS: cidrList.default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest accepted request body. @default 262144 (256 KB) */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  /** Seconds a request body may take to arrive after its headers; then 408. @default 30 */
  REQUEST_BODY_TIMEOUT_SECONDS: seconds.max(600).default(30),
  /** A bearer token for scraping the API's `/metrics` (the admin token works too). @default none */
  METRICS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Per-attempt timeout of a webhook that sets none. @default 10 */
  DELIVERY_TIMEOUT_SECONDS: seconds.max(30).default(10),
  /** Worker's Prometheus endpoint (its own metrics and the Temporal SDK's); 0 turns it off. @default 9464 */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** How long a rotated-out webhook secret keeps signing next to the new one (0: not at all). @default 86400 (24 h) */
  WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(86400),
  /** Tenant API requests per second, per tenant and per API process (0 turns the limit off). @default 100 */
  API_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(100),
  /** Requests a tenant may send at once above the steady rate (token bucket size). @default 200 */
  API_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /** Time to connect to a receiver (TCP + TLS), within the per-attempt timeout. @default 10 */
  DELIVERY_CONNECT_TIMEOUT_SECONDS: seconds.max(30).default(10),
  /** Longest `Retry-After` (on 429 or 503) honoured; longer requests wait this long. @default 3600 */
  RETRY_AFTER_MAX_SECONDS: seconds.max(86_400).default(3600),
  /** Consecutive failed deliveries after which a webhook is disabled. @default 20 */
  WEBHOOK_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).default(20),
  /** A webhook whose deliveries have failed for this long, with no success since, is disabled. @default 5d */
  WEBHOOK_DISABLE_AFTER_FAILING_FOR: duration.prefault('5d'),
  /** Whether webhooks' circuit breakers open (docs/delivery.md, "Circuit breaker"). @default true */
  CIRCUIT_BREAKER: bool.default(true),
  /** Consecutive failed attempts (seen by one worker process) that open a webhook's circuit. @default 10 */
  CIRCUIT_OPEN_AFTER_FAILURES: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Share of failed attempts over CIRCUIT_WINDOW that opens it, once there are CIRCUIT_MIN_ATTEMPTS. @default 70 */
  CIRCUIT_FAILURE_RATE_PERCENT: z.coerce.number().min(1).max(100).default(70),
  /** @default 10 */
  CIRCUIT_MIN_ATTEMPTS: z.coerce.number().int().min(1).max(100_000).default(10),
  /** @default 5m */
  CIRCUIT_WINDOW: duration.prefault('5m'),
  /** Wait before an open circuit's first probe; doubles with each failed probe. @default 30s */
  CIRCUIT_FIRST_PROBE_AFTER: duration.prefault('30s'),
  /** Longest wait between probes. @default 10m */
  CIRCUIT_LONGEST_PROBE_AFTER: duration.prefault('10m'),
  /**
   * Workflow tasks a worker process runs at once. A fan-out's task stays open while its batch of
   * first attempts waits for receivers (up to the 1 s inline budget), so this bounds fan-outs in
   * flight more than CPU. @default 100
   */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(100),
  /**
   * Workflow tasks of retried deliveries (their own task queue) a worker process runs at once,
   * besides the ones above: what a retry storm can take from fresh events' first attempts. @default 6
   */
  WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).default(6),
  /** Activities a worker process runs at once on each of its two task queues (retry attempts; requeue steps). @default 100 */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Local activities (inline first attempts, page reads and records) a worker process runs at once. @default 200 */
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Workflows kept in a worker's cache between their tasks. @default 1000 */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1000),
  /** The workflow code bundled by the process that started this worker (`npm start`); the worker bundles it itself when unset. */
  WORKFLOW_BUNDLE_FILE: z.string().min(1).optional(),
  /**
   * Worker Versioning (docs/operations.md, "Deploys and rollbacks"): each fan-out runs on the build
   * that started it, and retried deliveries move to the current build. `false` only where every
   * worker runs one build (the time-skipping tests). @default true
   */
  WORKER_VERSIONING: bool.default(true),
  /** The Worker Deployment this worker's build belongs to. @default webhook-service */
  WORKER_DEPLOYMENT_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, _ and - only').default('webhook-service'),
  /** This build's id; by default a hash of its workflow code, so one code is one build. */
  WORKER_BUILD_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . and - only').optional(),
  /**
   * When this worker makes its build the current one (new executions go to it): `new`, only a build
   * never current before (a deploy promotes itself, a superseded build restarting does not take over);
   * `always` (npm start: one build at a time); `never` (an operator promotes it). @default new
   */
  WORKER_PROMOTE: z.enum(['new', 'always', 'never']).default('new'),
  /** Seconds a verified API key is trusted without reading MongoDB; revoking a key takes effect within this, at once on the API process that revoked it. @default 10 */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  /** How long a customer portal link can be opened when the request names no expiresInSeconds. @default 300 */
  PORTAL_LINK_TTL_SECONDS: z.coerce.number().int().min(LINK_TTL_BOUNDS.min).max(LINK_TTL_BOUNDS.max).default(300),
  /** How long a customer portal session lasts once its link is opened. @default 3600 (1 h) */
  PORTAL_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
  /** The service's address as browsers reach it, for portal links (e.g. https://hooks.example.com). @default the request's own */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Days payloads, deliveries, idempotency records and (npm start's) histories are kept: one clock. @default 30 */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Embedded Temporal dev server ports (npm start only). */
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /** Embedded MongoDB-wire server port (npm start only). @default 27017 */
  MONGO_PORT: port.default(27017),
});

export interface RateLimitSettings {
  /** Steady rate in requests per second; 0 means no limit. */
  perSecond: number;
  /** Bucket size: requests allowed at once. */
  burst: number;
}

/** How much a worker process runs at once (see README, "Worker settings"). */
export interface WorkerConcurrency {
  maxConcurrentWorkflowTasks: number;
  maxConcurrentRetryWorkflowTasks: number;
  maxConcurrentActivities: number;
  maxConcurrentLocalActivities: number;
  maxCachedWorkflows: number;
}

export interface WorkerVersioningSettings {
  deploymentName: string;
  /** Absent: derived from the workflow code (temporal/worker-deployment.ts). */
  buildId: string | undefined;
  promote: 'new' | 'always' | 'never';
}

export interface Config {
  env: 'development' | 'test' | 'production';
  host: string;
  port: number;
  adminToken: string;
  secretsKey: Buffer;
  secretsKeyId: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  mongodbUri: string;
  dataDir: string;
  webhookAllowHttp: boolean;
  webhookAllowedCidrs: string[];
  webhookResolveHostnames: boolean;
  webhookDestinationCidrs: string[];
  logLevel: string;
  bodyLimitBytes: number;
  bodyTimeoutMs: number;
  metricsToken: string | undefined;
  deliveryTimeoutSeconds: number;
  workerMetricsPort: number;
  secretRotationOverlapSeconds: number;
  rateLimit: RateLimitSettings;
  deliveryConnectTimeoutMs: number;
  retryAfterMaxMs: number;
  autoDisable: AutoDisablePolicy;
  circuit: CircuitPolicy;
  worker: WorkerConcurrency;
  workflowBundleFile: string | undefined;
  /** Null: this worker polls unversioned. */
  workerVersioning: WorkerVersioningSettings | null;
  apiKeyCacheMs: number;
  portal: PortalSettings;
  retentionDays: number;
  embedded: { temporalPort: number; temporalUiPort: number; mongoPort: number };
}

/**
 * Parses every setting once. Outside production, a missing ADMIN_TOKEN or SECRETS_KEY
 * is generated once into DATA_DIR (with a warning); in production both are required.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, warn: (msg: string) => void = console.warn): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(variable, `${issue.message} (check the ${variable} setting)`);
  }
  const e = parsed.data;
  let adminToken = e.ADMIN_TOKEN;
  let secretsKey: Buffer | undefined = e.SECRETS_KEY;
  if (!adminToken || !secretsKey) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(adminToken ? 'SECRETS_KEY' : 'ADMIN_TOKEN', 'is required when NODE_ENV=production');
    }
    const dev = loadOrCreateDevSecrets(e.DATA_DIR, warn);
    adminToken ??= dev.adminToken;
    secretsKey ??= dev.secretsKey;
  }
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    adminToken,
    secretsKey,
    secretsKeyId: e.SECRETS_KEY_ID,
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
    },
    mongodbUri: e.MONGODB_URI ?? `mongodb://127.0.0.1:${e.MONGO_PORT}/webhooks`,
    dataDir: e.DATA_DIR,
    webhookAllowHttp: e.WEBHOOK_ALLOW_HTTP,
    webhookAllowedCidrs: e.WEBHOOK_ALLOWED_CIDRS,
    webhookResolveHostnames: e.WEBHOOK_RESOLVE_HOSTNAMES,
    webhookDestinationCidrs: e.WEBHOOK_DESTINATION_CIDRS,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    bodyTimeoutMs: e.REQUEST_BODY_TIMEOUT_SECONDS * 1000,
    metricsToken: e.METRICS_TOKEN,
    deliveryTimeoutSeconds: e.DELIVERY_TIMEOUT_SECONDS,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    secretRotationOverlapSeconds: e.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS,
    rateLimit: { perSecond: e.API_RATE_LIMIT_PER_SECOND, burst: e.API_RATE_LIMIT_BURST },
    deliveryConnectTimeoutMs: e.DELIVERY_CONNECT_TIMEOUT_SECONDS * 1000,
    retryAfterMaxMs: e.RETRY_AFTER_MAX_SECONDS * 1000,
    autoDisable: { consecutiveFailures: e.WEBHOOK_DISABLE_AFTER_FAILURES, failingForMs: e.WEBHOOK_DISABLE_AFTER_FAILING_FOR },
    circuit: {
      enabled: e.CIRCUIT_BREAKER,
      consecutiveFailures: e.CIRCUIT_OPEN_AFTER_FAILURES,
      failureRatePercent: e.CIRCUIT_FAILURE_RATE_PERCENT,
      minimumAttempts: e.CIRCUIT_MIN_ATTEMPTS,
      windowMs: e.CIRCUIT_WINDOW,
      firstProbeAfterMs: e.CIRCUIT_FIRST_PROBE_AFTER,
      longestProbeAfterMs: Math.max(e.CIRCUIT_LONGEST_PROBE_AFTER, e.CIRCUIT_FIRST_PROBE_AFTER),
    },
    worker: {
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentRetryWorkflowTasks: e.WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: e.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    },
    workflowBundleFile: e.WORKFLOW_BUNDLE_FILE,
    workerVersioning: e.WORKER_VERSIONING ? { deploymentName: e.WORKER_DEPLOYMENT_NAME, buildId: e.WORKER_BUILD_ID, promote: e.WORKER_PROMOTE } : null,
    apiKeyCacheMs: e.API_KEY_CACHE_SECONDS * 1000,
    portal: { linkTtlSeconds: e.PORTAL_LINK_TTL_SECONDS, sessionTtlSeconds: e.PORTAL_SESSION_TTL_SECONDS, publicUrl: e.PUBLIC_URL },
    retentionDays: e.RETENTION_DAYS,
    embedded: { temporalPort: e.TEMPORAL_PORT, temporalUiPort: e.TEMPORAL_UI_PORT, mongoPort: e.MONGO_PORT },
  };
}
