import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ApiRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed; undefined without one. */
  body: unknown;
}

export interface ApiAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

/**
 * A real HTTP server on 127.0.0.1 that stands in for the API in the client's unit tests: records
 * each request and answers what `answer` returns for it (its n-th request, from 1).
 */
export class ScriptedApi {
  readonly requests: ApiRequest[] = [];
  private server?: Server;
  baseUrl = '';

  constructor(private answer: (request: ApiRequest, n: number) => ApiAnswer | 'hang-up') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const request: ApiRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
        this.requests.push(request);
        const answer = this.answer(request, this.requests.length);
        // A connection closed without an answer: the client sees a network error.
        if (answer === 'hang-up') return void req.socket.destroy();
        res.writeHead(answer.status, { ...(answer.body === undefined ? {} : { 'content-type': 'application/json' }), ...answer.headers });
        res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  /** Answers the next requests with `answer` instead. */
  answerWith(answer: (request: ApiRequest, n: number) => ApiAnswer | 'hang-up'): void {
    this.answer = answer;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The one error shape of the API. */
export const errorAnswer = (status: number, code: string, details: { path: string; message: string }[] = [], headers?: Record<string, string>): ApiAnswer => ({
  status,
  headers,
  body: { error: { code, message: `${code} (test)`, details } },
});

/** The batch route's answer: every event of the request accepted. */
export function acceptBatch(request: ApiRequest): ApiAnswer {
  const { events } = request.body as { events: { id: string }[] };
  return { status: 202, body: { events: events.map((e) => ({ id: e.id, status: 'accepted', duplicate: false })) } };
}
