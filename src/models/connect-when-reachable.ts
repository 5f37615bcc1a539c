import type { Logger } from 'pino';
import { connectMongo, type MongoConnection } from './index';

/** Back-off between tries: 1 s, doubling to 30 s, as the supervisor restarts a dying process. */
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/**
 * `connectMongo`, tried again until it succeeds: a process started while the database is down
 * (FerretDB stopped, or its PostgreSQL) waits for it instead of exiting. `stopped` ends the wait.
 */
export async function connectWhenReachable(uri: string, logger: Logger, stopped: AbortSignal): Promise<MongoConnection> {
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      return await connectMongo(uri);
    } catch (err) {
      if (stopped.aborted) throw err;
      logger.warn({ error: (err as Error).message, retryInMs: delay }, 'MongoDB not reachable yet; trying again');
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      stopped.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (stopped.aborted) throw new Error('stopped while waiting for MongoDB');
  }
}
