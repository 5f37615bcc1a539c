import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { createApp } from '../../src/api/app';
import { WebhookHttpClient } from '../../src/delivery/http-client';
import { DEFAULT_PORTAL_SETTINGS } from '../../src/portal/portal-settings';
import { launchChromium, screenshot, watchedPage } from '../support/browser';
import { useHarness } from '../support/use-harness';

/**
 * The customer portal behind a TLS-terminating proxy, as in production: a real https server on
 * 127.0.0.1 with a self-signed certificate made by `openssl` at test time, forwarding over plain
 * http to the API and rewriting `Host` to the API's address (a bare `proxy_pass`). The API has
 * PUBLIC_URL set to the proxy's https address; chromium opens the link through the proxy.
 */
describe('customer portal behind a TLS-terminating proxy', () => {
  const ctx = useHarness({ worker: false });
  const certDir = mkdtempSync(join(tmpdir(), 'portal-proxy-'));
  let proxy: HttpsServer;
  let api: Server;
  let http: WebhookHttpClient;
  let browser: Browser;
  let publicUrl = '';
  let apiUrl = '';
  const apiLogs: string[] = [];

  /** A self-signed certificate for 127.0.0.1, valid for a day. */
  function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
    const key = join(certDir, 'key.pem');
    const cert = join(certDir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  }

  beforeAll(async () => {
    // The proxy first: PUBLIC_URL names its port.
    let upstream = 0;
    proxy = createHttpsServer(selfSignedCertificate(), (req, res) => {
      const forwarded = httpRequest(
        { host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${upstream}`, 'x-forwarded-proto': 'https', 'x-forwarded-for': req.socket.remoteAddress ?? '' } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.writeHead(502).end());
      req.pipe(forwarded);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    publicUrl = `https://127.0.0.1:${(proxy.address() as { port: number }).port}`;

    // The API as `npm start` runs it behind that proxy: PUBLIC_URL set, https webhook URLs only.
    http = new WebhookHttpClient({ allowHttp: false, allowedCidrs: [], userAgent: 'webhook-service/test' });
    const app = createApp({
      models: ctx.harness.models,
      mongo: ctx.harness.models.Webhook.db,
      temporal: ctx.harness.client,
      temporalConnection: ctx.harness.client.connection as Connection,
      taskQueue: ctx.harness.taskQueue,
      secretBox: ctx.harness.secretBox,
      logger: pino({ level: 'info' }, { write: (line: string) => apiLogs.push(line) }),
      adminToken: ctx.harness.adminToken,
      bodyLimitBytes: 256 * 1024,
      http,
      defaultTimeoutSeconds: 5,
      secretRotationOverlapSeconds: 86400,
      rateLimit: { perSecond: 1000, burst: 1000 },
      portal: { ...DEFAULT_PORTAL_SETTINGS, publicUrl },
    });
    api = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    upstream = (api.address() as { port: number }).port;
    apiUrl = `http://127.0.0.1:${upstream}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => proxy?.close(r));
    await new Promise((r) => api?.close(r));
    await http?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('opens the single-use link through the proxy: the webhooks page shows, changes go through, the cookie is Secure', async () => {
    const { apiKey } = await ctx.harness.createTenant('Proxied');
    const webhook = await ctx.harness.createWebhook(apiKey, { url: 'https://127.0.0.1:9/proxied', events: ['invoice.*'] });
    // The producer's backend asks the API directly (not through the proxy); the link names the public address.
    const res = await fetch(`${apiUrl}/v1/portal-sessions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(201);
    const link = (await res.json()) as { url: string };
    expect(link.url.startsWith(`${publicUrl}/portal/open#`)).toBe(true);

    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const { page, problems } = await watchedPage(context);
    await page.goto(link.url);
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    expect(page.url()).toBe(`${publicUrl}/portal/webhooks`);
    expect(await page.locator('table.list tbody tr').innerText()).toContain('https://127.0.0.1:9/proxied');
    expect(await context.cookies()).toEqual([expect.objectContaining({ name: 'portal_session', path: '/portal', httpOnly: true, sameSite: 'Strict', secure: true })]);
    await screenshot(page, '20-behind-tls-proxy');

    // A change: the Origin the browser sends is the proxy's https address, which PUBLIC_URL names.
    await page.goto(`${publicUrl}/portal/webhooks/${webhook.webhookId}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Webhook disabled.').waitFor();
    expect((await ctx.harness.call('GET', `/v1/webhooks/${webhook.webhookId}`, { token: apiKey })).body.webhook.active).toBe(false);

    // This API refuses http webhook URLs, and its form says so.
    await page.goto(`${publicUrl}/portal/webhooks/new`);
    expect(await page.locator('#hint-url').innerText()).toBe('Where events are POSTed (https only).');
    expect(problems).toEqual([]);
    await context.close();
  });
});
