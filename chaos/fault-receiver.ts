/**
 * The chaos run's webhook receiver on 127.0.0.1: a receiver with bad days. A share of all
 * requests fail, half with a 500 and half by hanging past the webhook's timeout (then the
 * connection is dropped, so the sender can never take it for a success). It records, by
 * `webhook-id`, every request and every 2xx it answered: a delivery is received once it got a
 * 2xx, and a second 2xx for the same id is a duplicate the customer would see.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface ReceivedDelivery {
  /** The webhook it was sent to (the index in the receiver's path). */
  webhookKey: string;
  eventId: string;
  requests: number;
  /** Requests answered 2xx: 1 is a delivery, more are duplicates. */
  successes: number;
}

export interface FaultReceiverOptions {
  /** Share of requests that fail (0..1), half 500, half hang. */
  faultShare: number;
  /** How long a hanging request is held before its connection is dropped: past the webhook timeout. */
  hangMs: number;
  /** A webhook key whose requests never fail (the warm-up, which only proves the stack runs). */
  sparedKey?: string;
}

/** Whether request `n` of delivery `id` fails, and how: stable per request, spread evenly. */
function faultOf(id: string, n: number, share: number): 'none' | 'error' | 'hang' {
  const digest = createHash('sha1').update(`${id}:${n}`).digest();
  if (digest.readUInt32BE(0) / 0x1_0000_0000 >= share) return 'none';
  return digest[4] % 2 === 0 ? 'error' : 'hang';
}

export class FaultReceiver {
  /** By webhook-id. */
  readonly deliveries = new Map<string, ReceivedDelivery>();
  requests = 0;
  errors = 0;
  hangs = 0;
  /** Requests without a webhook-id (none expected). */
  strays = 0;
  private server?: Server;
  private port = 0;
  private readonly hanging = new Set<NodeJS.Timeout>();

  constructor(private readonly options: FaultReceiverOptions) {}

  /** The URL of webhook `key`: the key comes back with every delivery to it. */
  url(key: string): string {
    return `http://127.0.0.1:${this.port}/${encodeURIComponent(key)}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.resume(); // ids come from the headers; the body is not needed
      req.once('end', () => {
        const id = req.headers['webhook-id'];
        if (typeof id !== 'string') {
          this.strays++;
          res.writeHead(400).end();
          return;
        }
        this.requests++;
        let delivery = this.deliveries.get(id);
        if (!delivery) {
          delivery = { webhookKey: decodeURIComponent((req.url ?? '/').slice(1)), eventId: String(req.headers['x-webhook-event-id'] ?? ''), requests: 0, successes: 0 };
          this.deliveries.set(id, delivery);
        }
        delivery.requests++;
        const fault = delivery.webhookKey === this.options.sparedKey ? 'none' : faultOf(id, delivery.requests, this.options.faultShare);
        if (fault === 'error') {
          this.errors++;
          res.writeHead(500, { 'content-type': 'text/plain' }).end('chaos: failing on purpose');
        } else if (fault === 'hang') {
          this.hangs++;
          const timer = setTimeout(() => {
            this.hanging.delete(timer);
            res.destroy();
          }, this.options.hangMs);
          this.hanging.add(timer);
        } else {
          delivery.successes++;
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        }
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.hanging) clearTimeout(timer);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
