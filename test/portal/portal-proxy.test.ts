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
  const apis: Server[] = [];
  let http: WebhookHttpClient;
  let browser: Browser;
  let publicUrl = '';
  /** The API the proxy forwards to, and its own (internal, plain http) address. */
  let upstream = 0;
  let apiUrl = '';
  const apiLogs: string[] = [];

  /** An API as `npm start` runs it behind the proxy (https webhook URLs only), with or without PUBLIC_URL; returns its port. */
  async function startApi(configuredPublicUrl: string | undefined): Promise<number> {
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
      portal: { ...DEFAULT_PORTAL_SETTINGS, publicUrl: configuredPublicUrl },
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apis.push(server);
    return (server.address() as { port: number }).port;
  }

  /** The proxy forwards to the API on `port` from now on. */
  function proxyTo(port: number): void {
    upstream = port;
    apiUrl = `http://127.0.0.1:${port}`;
  }

  /** A self-signed certificate for 127.0.0.1, valid for a day. */
  function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
    const key = join(certDir, 'key.pem');
    const cert = join(certDir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
  }

  beforeAll(async () => {
    // The proxy first: PUBLIC_URL names its port.
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

    http = new WebhookHttpClient({ allowHttp: false, allowedCidrs: [], userAgent: 'webhook-service/test' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => proxy?.close(r));
    for (const api of apis) await new Promise((r) => api.close(r));
    await http?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('opens the single-use link through the proxy: the webhooks page shows, changes go through, the cookie is Secure', async () => {
    proxyTo(await startApi(publicUrl));
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
    // Served over https (PUBLIC_URL): browsers are told to keep to it.
    const page0 = await fetch(`${apiUrl}/portal/`);
    expect(page0.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
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

  it('without PUBLIC_URL, refuses to open (the request says http) and tells the operator what to set', async () => {
    proxyTo(await startApi(undefined));
    const { apiKey } = await ctx.harness.createTenant('Unconfigured');
    const res = await fetch(`${apiUrl}/v1/portal-sessions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{}' });
    // Built from the address the POST came to: the API's internal one, not the proxy's.
    const link = (await res.json()) as { url: string };
    expect(link.url.startsWith(`${apiUrl}/portal/open#`)).toBe(true);

    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const { page, problems } = await watchedPage(context);
    await page.goto(`${publicUrl}/portal/open${new URL(link.url).hash}`);
    await page.getByRole('heading', { name: 'Cannot open the portal' }).waitFor();
    expect(await page.locator('.error').innerText()).toContain('could not be confirmed as coming from this page');
    expect(await context.cookies()).toEqual([]);
    expect(apiLogs.filter((line) => line.includes('set PUBLIC_URL')).map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 40, origin: publicUrl, expected: `http://127.0.0.1:${upstream}` }),
    ]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
