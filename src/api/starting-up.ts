import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from './errors';

/** What a producer is told to wait while the API has no database yet. */
const RETRY_AFTER_SECONDS = '5';

/**
 * The API's answer before MongoDB has answered once (a restart during a database outage):
 * `/healthz` says the process is up, every other request gets the 503 with `Retry-After` it
 * gets when the database goes away later, instead of a refused connection.
 */
export function startingUp(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok' }));
    return;
  }
  const body = path === '/readyz' ? { status: 'unavailable', temporal: false, mongodb: false } : errorBody('service_unavailable', 'MongoDB is unreachable; retry later');
  res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': RETRY_AFTER_SECONDS, Connection: 'close' }).end(JSON.stringify(body));
}
