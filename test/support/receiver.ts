import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Waits this long before answering (timeouts). */
  delayMs?: number;
}

/** The requests of one delivery (its `webhook-id`), in the order they arrived. */
export function requestsOf(requests: readonly ReceivedRequest[], deliveryId: string): ReceivedRequest[] {
  return requests.filter((r) => r.headers['webhook-id'] === deliveryId);
}

/**
 * A real HTTP receiver on 127.0.0.1: records every request and answers from a script
 * (one response per request in order, the last one repeating), 200 by default.
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests whose sender went away (aborted) before the answer was written: it never got one. */
  readonly abandoned = new Set<ReceivedRequest>();
  private script: ScriptedResponse[] = [{ status: 200, body: 'ok' }];
  /** When set, the answer per delivery: its first request gets `first`, every later one `then`. */
  private perDelivery?: { first: ScriptedResponse; then: ScriptedResponse };
  private server?: Server;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        };
        this.requests.push(received);
        const reply = this.perDelivery
          ? requestsOf(this.requests, String(req.headers['webhook-id'])).length > 1
            ? this.perDelivery.then
            : this.perDelivery.first
          : this.script.length > 1
            ? (this.script.shift() as ScriptedResponse)
            : this.script[0];
        setTimeout(() => {
          if (req.socket.destroyed) return void this.abandoned.add(received);
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body ?? '');
        }, reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  respondWith(...script: ScriptedResponse[]): void {
    this.script = script;
    this.perDelivery = undefined;
  }

  /** Answers each delivery's first request with `first` and its later ones with `then`, whatever the order deliveries arrive in. */
  respondPerDelivery(first: ScriptedResponse, then: ScriptedResponse): void {
    this.perDelivery = { first, then };
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
