/**
 * The webhook receiver on 127.0.0.1. It records the first arrival of every delivery by its
 * `webhook-id`, so a figure counts deliveries that really arrived, each once, and it can fail a
 * share of first attempts (the retry storm). Paths are `/<phase>/<webhook index>`: one receiver
 * serves every phase and keeps their counts apart.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface Arrival {
  eventId: string;
  /** performance.now() of the first request with this webhook-id. */
  firstAt: number;
  /** performance.now() of the first request answered 2xx. */
  deliveredAt?: number;
  /** Requests with this webhook-id (1 + retries + duplicates). */
  requests: number;
}

export interface PhaseArrivals {
  /** By webhook-id (the delivery id). */
  deliveries: Map<string, Arrival>;
  /** Requests of this phase, all attempts included. */
  requests: number;
  /** performance.now() of the last first arrival. */
  lastFirstAt: number;
  /** Share of first attempts to answer 500 (decided by a hash of the webhook-id). */
  failShare: number;
  /** Never answer: every request is left open until its sender gives up (a receiver that times out). */
  hangs?: boolean;
  /** Deliveries answered 2xx. */
  delivered: number;
  /** First attempts answered 500 (the retry storm's share). */
  failedFirst: number;
  /** By event id: deliveries that had a first attempt, and deliveries answered 2xx. */
  firstAttemptsByEvent: Map<string, number>;
  deliveredByEvent: Map<string, number>;
  /** Requests that carried `x-bench` (set by the transformations phase's code): proof it ran. */
  marked: number;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

/** Whether the first attempt of this delivery is one of the `share` that fail: stable per id. */
function failsFirst(deliveryId: string, share: number): boolean {
  if (share <= 0) return false;
  return createHash('sha1').update(deliveryId).digest().readUInt32BE(0) / 0x1_0000_0000 < share;
}

export class BenchReceiver {
  private readonly phases = new Map<string, PhaseArrivals>();
  private server?: Server;
  private port = 0;
  /** Requests without a webhook-id or to a phase nobody registered (none expected). */
  strays = 0;

  /** Starts counting a phase; `failShare` of its first attempts answer 500. */
  phase(name: string, failShare = 0, hangs = false): PhaseArrivals {
    const phase: PhaseArrivals = {
      deliveries: new Map(),
      requests: 0,
      lastFirstAt: 0,
      failShare,
      hangs,
      delivered: 0,
      failedFirst: 0,
      firstAttemptsByEvent: new Map(),
      deliveredByEvent: new Map(),
      marked: 0,
    };
    this.phases.set(name, phase);
    return phase;
  }

  url(phase: string, index = 0): string {
    return `http://127.0.0.1:${this.port}/${phase}/${index}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.resume(); // the body is not needed: ids come from the headers
      req.once('end', () => {
        const now = performance.now();
        const phase = this.phases.get((req.url ?? '').split('/')[1] ?? '');
        const deliveryId = req.headers['webhook-id'];
        if (!phase || typeof deliveryId !== 'string') {
          this.strays++;
          res.writeHead(200).end();
          return;
        }
        phase.requests++;
        if (req.headers['x-bench']) phase.marked++;
        if (phase.hangs) return;
        let arrival = phase.deliveries.get(deliveryId);
        let status = 200;
        if (!arrival) {
          arrival = { eventId: String(req.headers['x-webhook-event-id'] ?? ''), firstAt: now, requests: 0 };
          phase.deliveries.set(deliveryId, arrival);
          phase.lastFirstAt = now;
          increment(phase.firstAttemptsByEvent, arrival.eventId);
          if (failsFirst(deliveryId, phase.failShare)) {
            status = 500;
            phase.failedFirst++;
          }
        }
        arrival.requests++;
        if (status === 200 && arrival.deliveredAt === undefined) {
          arrival.deliveredAt = now;
          phase.delivered++;
          increment(phase.deliveredByEvent, arrival.eventId);
        }
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try again');
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
