import { createServer, type Server } from 'node:http';
import { registry } from '../metrics/metrics';

/**
 * The worker's one scrape target: its own delivery metrics plus the Temporal SDK's (task
 * latencies, slots, polls), which the SDK exports on a loopback-only port of its own.
 */
export function startMetricsServer(host: string, port: number, sdkMetricsUrl: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void Promise.all([registry.metrics(), fetch(sdkMetricsUrl).then((r) => r.text(), () => '')]).then(([own, sdk]) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(`${own}\n${sdk}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} is already in use: set WORKER_METRICS_PORT to a free port (0 turns it off)`) : err),
    );
    server.listen(port, host, () => resolve(server));
  });
}
