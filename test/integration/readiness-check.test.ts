import { createServer, type Server, type Socket } from 'node:net';
import { Connection } from '@temporalio/client';
import { temporalAnswers } from '../../src/api/routes/health';

/**
 * `/readyz` against a hung Temporal: the check gives up within its bound and leaves no call
 * behind. A call still in flight when the API closes its connection (shutting down) is failed by
 * the channel and retried by the client on a timer, and that retry throws on the closed channel:
 * an uncaught exception that ends the process.
 */
describe('the readiness check of a hung Temporal', () => {
  const sockets: Socket[] = [];
  let silent: Server;
  beforeAll(async () => {
    // Accepts connections and never answers, like a frozen (SIGSTOP) server.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  it('answers false within its bound, and a connection closed right after throws nothing', async () => {
    const uncaught: Error[] = [];
    const record = (err: Error) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      const connection = Connection.lazy({ address: `127.0.0.1:${(silent.address() as { port: number }).port}` });
      const started = Date.now();
      expect(await temporalAnswers(connection, 300)).toBe(false);
      expect(Date.now() - started).toBeLessThan(2_000);
      await connection.close();
      // The client's first retry would come 100-200 ms after the call failed.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(uncaught.map((err) => err.message)).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
