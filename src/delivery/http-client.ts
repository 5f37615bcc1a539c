import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import type { AttemptErrorClass } from './types';
import type { Config } from '../config/config';
import { UrlGuard, UrlRefusedError, type UrlGuardOptions } from './url-guard';
import { userAgent } from './user-agent';

/** What the audit log keeps of a response body. */
export const RESPONSE_EXCERPT_CHARS = 1000;
/**
 * Bytes read from a response at most (enough for 1000 characters of any UTF-8); the rest is
 * never read, so a huge or endless body costs no memory.
 */
const MAX_RESPONSE_BYTES = RESPONSE_EXCERPT_CHARS * 4;

export type HttpErrorClass = Exclude<AttemptErrorClass, 'worker_lost' | 'transformation_failed'>;

export type HttpResult =
  | { kind: 'response'; statusCode: number; retryAfter: string | undefined; body: string; durationMs: number }
  | { kind: 'error'; errorClass: HttpErrorClass; message: string; durationMs: number };

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type HostResolver = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export interface HttpClientOptions extends UrlGuardOptions {
  /** How host names are resolved before the SSRF guard checks each address. @default dns.lookup */
  resolve?: HostResolver;
  /** Sent as `User-Agent` on every request. */
  userAgent: string;
  /** Time to establish a connection (TCP + TLS); the per-attempt total timeout still bounds it. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Connections per receiver origin: at least the attempts that can run at once, so an attempt
   * never waits for a free connection (that wait would count against the receiver's timeout).
   * @default 256
   */
  connectionsPerOrigin?: number;
}

/**
 * Resolves the host and refuses the connection when any address it resolves to is not
 * allowed; the socket then connects to exactly the address that was checked.
 */
function guardedLookup(guard: UrlGuard, resolve: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    const checked = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      for (const { address } of addresses) {
        const refusal = guard.addressRefusal(address);
        if (refusal) return callback(new UrlRefusedError(hostname, refusal), '', 4);
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      } else {
        callback(null, addresses[0].address, addresses[0].family);
      }
    };
    if (guard.resolvesHostnames) return resolve(hostname, { ...options, all: true }, checked);
    // No DNS query at all: a loopback name is answered here, any other name refused.
    let local: LookupAddress[];
    try {
      local = guard.addressesWithoutDns(hostname);
    } catch (err) {
      return callback(err as NodeJS.ErrnoException, '', 4);
    }
    checked(null, local);
  };
}

function classifyError(err: unknown, canceled?: AbortSignal): { errorClass: HttpErrorClass; message: string } {
  if (canceled?.aborted) return { errorClass: 'canceled', message: 'the delivery was canceled during the request; the receiver\'s answer was not received' };
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (err instanceof UrlRefusedError) return { errorClass: 'url_refused', message: err.message };
  if (e.cause instanceof UrlRefusedError) return { errorClass: 'url_refused', message: e.cause.message };
  const code = e.code ?? (e.cause as { code?: string } | undefined)?.code ?? '';
  const message = `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || /TIMEOUT/.test(code)) return { errorClass: 'timeout', message };
  if (code === 'ECONNREFUSED') return { errorClass: 'connection_refused', message };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return { errorClass: 'connection_reset', message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { errorClass: 'dns', message };
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code)) return { errorClass: 'tls', message };
  return { errorClass: 'network', message };
}

/**
 * The one outbound HTTP module: keep-alive pools per origin, the SSRF guard on the literal
 * host and on every resolved address, a total timeout per request, no redirects followed,
 * and a capped read of the response.
 */
export class WebhookHttpClient {
  private readonly guard: UrlGuard;
  private readonly agent: Agent;

  constructor(private readonly options: HttpClientOptions) {
    this.guard = new UrlGuard(options);
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      connections: options.connectionsPerOrigin ?? 256,
      connect: { lookup: guardedLookup(this.guard, options.resolve ?? dnsLookup), timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  get urlGuard(): UrlGuard {
    return this.guard;
  }

  /**
   * One POST (or a transformation's PUT), bounded by `timeoutMs` in total (connect, headers and body). Once the status line
   * has arrived it decides the outcome: a body that is slow, cut off or endless only shortens
   * the excerpt. `cancel` aborts the request (the activity's cancellation): until the status line
   * has arrived, the attempt ends `canceled`.
   */
  async post(url: string, headers: Record<string, string>, body: string, timeoutMs: number, cancel?: AbortSignal, method: 'POST' | 'PUT' = 'POST'): Promise<HttpResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let res: Dispatcher.ResponseData;
    try {
      this.guard.checkUrl(url);
      res = await request(url, {
        method,
        dispatcher: this.agent,
        headers: { ...headers, 'user-agent': this.options.userAgent },
        body,
        signal: cancel ? AbortSignal.any([AbortSignal.timeout(timeoutMs), cancel]) : AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (err) {
      return { kind: 'error', ...classifyError(err, cancel), durationMs: elapsed() };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size >= MAX_RESPONSE_BYTES) break;
      }
    } catch {
      // The answer is known; an unreadable body only shortens the excerpt.
    } finally {
      res.body.destroy();
    }
    const retryAfter = res.headers['retry-after'];
    return {
      kind: 'response',
      statusCode: res.statusCode,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      body: Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_EXCERPT_CHARS),
      durationMs: elapsed(),
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The client as the settings configure it: the API (test endpoint) and the worker build it the same way. */
export function httpClientFromConfig(config: Config, connectionsPerOrigin?: number): WebhookHttpClient {
  return new WebhookHttpClient({
    connectionsPerOrigin,
    allowHttp: config.webhookAllowHttp,
    allowedCidrs: config.webhookAllowedCidrs,
    resolveHostnames: config.webhookResolveHostnames,
    destinationCidrs: config.webhookDestinationCidrs,
    userAgent: userAgent(),
    connectTimeoutMs: config.deliveryConnectTimeoutMs,
  });
}
