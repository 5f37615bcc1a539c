/**
 * A local OTLP/HTTP trace endpoint for the tracing phase (bench/tracing.ts), on 127.0.0.1: it
 * accepts what the SDK's exporter posts to /v1/traces (JSON), counts the spans and answers 200,
 * as a collector in front of a tracing backend would. It runs in the bench process.
 */
import { createServer, type Server } from 'node:http';

interface ExportRequest {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

export class OtlpSink {
  spans = 0;
  exports = 0;
  bytes = 0;
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.bytes += body.length;
        if (req.method === 'POST' && req.url === '/v1/traces') {
          this.exports++;
          try {
            const request = JSON.parse(body.toString('utf8')) as ExportRequest;
            for (const r of request.resourceSpans ?? []) for (const scope of r.scopeSpans ?? []) this.spans += scope.spans?.length ?? 0;
          } catch {
            // Not JSON (a protobuf exporter): counted as an export, its spans unknown.
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** OTEL_EXPORTER_OTLP_ENDPOINT for the traced services (the exporter appends /v1/traces). */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
