import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { DEFAULT_WORKER_CONCURRENCY } from '../../src/worker/create-worker';

const quiet = () => undefined;
const base = { ADMIN_TOKEN: 'a'.repeat(32), SECRETS_KEY: Buffer.alloc(32, 7).toString('base64') };

describe('config', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ ...base }, quiet);
    expect(config.port).toBe(3000);
    expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'webhook-deliveries' });
    expect(config.webhookAllowHttp).toBe(false);
    expect(config.bodyLimitBytes).toBe(262144);
    expect(config.deliveryTimeoutSeconds).toBe(10);
    expect(config.secretRotationOverlapSeconds).toBe(86400);
    expect(config.rateLimit).toEqual({ perSecond: 100, burst: 200 });
    expect(config.webhookAllowedCidrs).toEqual([]);
    expect(config.retryAfterMaxMs).toBe(3_600_000);
    expect(config.deliveryConnectTimeoutMs).toBe(10_000);
    expect(config.autoDisable).toEqual({ consecutiveFailures: 20, failingForMs: 5 * 86_400_000 });
    expect(config.portal).toEqual({ linkTtlSeconds: 300, sessionTtlSeconds: 3600, publicUrl: undefined });
  });

  it('reads the worker settings, the retry queue budget among them; their defaults are the workers\' defaults', () => {
    expect(loadConfig({ ...base }, quiet).worker).toEqual(DEFAULT_WORKER_CONCURRENCY);
    expect(DEFAULT_WORKER_CONCURRENCY.maxConcurrentRetryWorkflowTasks).toBe(6);
    const config = loadConfig({ ...base, WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS: '12', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20' }, quiet);
    expect(config.worker).toMatchObject({ maxConcurrentRetryWorkflowTasks: 12, maxConcurrentWorkflowTasks: 20 });
    expect(() => loadConfig({ ...base, WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS: '1' }, quiet)).toThrow(/^WORKER_RETRY_MAX_CONCURRENT_WORKFLOW_TASKS: /);
  });

  it('reads the portal settings and names a bad one', () => {
    const config = loadConfig({ ...base, PORTAL_LINK_TTL_SECONDS: '60', PORTAL_SESSION_TTL_SECONDS: '900', PUBLIC_URL: 'https://hooks.example.com' }, quiet);
    expect(config.portal).toEqual({ linkTtlSeconds: 60, sessionTtlSeconds: 900, publicUrl: 'https://hooks.example.com' });
    expect(() => loadConfig({ ...base, PORTAL_SESSION_TTL_SECONDS: '5' }, quiet)).toThrow(/^PORTAL_SESSION_TTL_SECONDS: /);
    expect(() => loadConfig({ ...base, PORTAL_LINK_TTL_SECONDS: 'soon' }, quiet)).toThrow(/^PORTAL_LINK_TTL_SECONDS: /);
    expect(() => loadConfig({ ...base, PUBLIC_URL: 'ftp://hooks.example.com' }, quiet)).toThrow(/^PUBLIC_URL: /);
  });

  it('reads the SSRF allow-list, rotation overlap and rate limit', () => {
    const config = loadConfig(
      { ...base, WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128', WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS: '0', API_RATE_LIMIT_PER_SECOND: '0.5', API_RATE_LIMIT_BURST: '5' },
      quiet,
    );
    expect(config.webhookAllowedCidrs).toEqual(['127.0.0.0/8', '::1/128']);
    expect(config.secretRotationOverlapSeconds).toBe(0);
    expect(config.rateLimit).toEqual({ perSecond: 0.5, burst: 5 });
  });

  it('reads the request body deadline and the metrics token', () => {
    expect(loadConfig({ ...base }, quiet)).toMatchObject({ bodyTimeoutMs: 30_000, metricsToken: undefined });
    const config = loadConfig({ ...base, REQUEST_BODY_TIMEOUT_SECONDS: '5', METRICS_TOKEN: 'm'.repeat(24) }, quiet);
    expect(config).toMatchObject({ bodyTimeoutMs: 5_000, metricsToken: 'm'.repeat(24) });
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' }, quiet)).toThrow(/^METRICS_TOKEN: /);
    expect(() => loadConfig({ ...base, REQUEST_BODY_TIMEOUT_SECONDS: '0' }, quiet)).toThrow(/^REQUEST_BODY_TIMEOUT_SECONDS: /);
  });

  it('reads the delivery settings', () => {
    const config = loadConfig({ ...base, RETRY_AFTER_MAX_SECONDS: '600', WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_DISABLE_AFTER_FAILING_FOR: '12h' }, quiet);
    expect(config.retryAfterMaxMs).toBe(600_000);
    expect(config.autoDisable).toEqual({ consecutiveFailures: 3, failingForMs: 12 * 3_600_000 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['WEBHOOK_ALLOW_HTTP', 'yes'],
    ['WEBHOOK_ALLOWED_CIDRS', '127.0.0.1'],
    ['WEBHOOK_ALLOWED_CIDRS', '10.0.0.0/33'],
    ['WEBHOOK_ALLOWED_CIDRS', '::1/129'],
    ['WEBHOOK_ALLOWED_CIDRS', '127.0.0.0/8,localhost/8'],
    ['WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS', '-1'],
    ['API_RATE_LIMIT_PER_SECOND', 'fast'],
    ['API_RATE_LIMIT_BURST', '0'],
    ['SECRETS_KEY', 'c2hvcnQ='],
    ['MONGODB_URI', 'http://localhost'],
    ['ADMIN_TOKEN', 'short'],
    ['WEBHOOK_DISABLE_AFTER_FAILING_FOR', '5 days'],
    ['WEBHOOK_DISABLE_AFTER_FAILURES', '0'],
    ['RETRY_AFTER_MAX_SECONDS', '-1'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    expect(() => loadConfig({ ...base, [variable]: value }, quiet)).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [variable]: value }, quiet)).toThrow(new RegExp(`^${variable}:`));
  });

  it('reads the retention, 30 days by default, and names a bad one', () => {
    expect(loadConfig({ ...base }, quiet).retentionDays).toBe(30);
    expect(loadConfig({ ...base, RETENTION_DAYS: '90' }, quiet).retentionDays).toBe(90);
    expect(() => loadConfig({ ...base, RETENTION_DAYS: '0' }, quiet)).toThrow(/^RETENTION_DAYS: .*check the RETENTION_DAYS setting/);
  });

  it('requires ADMIN_TOKEN and SECRETS_KEY in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', SECRETS_KEY: base.SECRETS_KEY }, quiet)).toThrow(/^ADMIN_TOKEN: is required/);
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: base.ADMIN_TOKEN }, quiet)).toThrow(/^SECRETS_KEY: is required/);
  });

  it('generates missing secrets once into DATA_DIR, with a warning, and reuses them', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const warnings: string[] = [];
    const first = loadConfig({ DATA_DIR: dataDir }, (m) => warnings.push(m));
    const second = loadConfig({ DATA_DIR: dataDir }, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('secrets.env');
    expect(warnings[0]).not.toContain(first.adminToken);
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.secretsKey.equals(first.secretsKey)).toBe(true);
    expect(statSync(join(dataDir, 'secrets.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'secrets.env'), 'utf8')).toContain(`ADMIN_TOKEN=${first.adminToken}`);
  });
});
