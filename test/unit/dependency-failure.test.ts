import express from 'express';
import { MongoServerError } from 'mongodb';
import type { Server } from 'node:http';
import pino from 'pino';
import { dependencyFailure, errorHandler } from '../../src/api/errors';

/** A Node system error as the MongoDB driver threw it when FerretDB was killed under a write. */
function socketEnded(): Error {
  return Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
}

describe('dependencyFailure: how a failing dependency is answered', () => {
  it('takes a connection that broke under a write (EPIPE, unwrapped by the driver) as transient: 503, retry', () => {
    expect(dependencyFailure(socketEnded())).toEqual({ kind: 'transient', message: 'a connection to MongoDB or Temporal failed' });
  });

  it('finds such an error as the cause of another', () => {
    expect(dependencyFailure(new Error('insert failed', { cause: socketEnded() }))?.kind).toBe('transient');
  });

  it("takes the driver's own network errors as transient, and leaves program errors alone (500)", () => {
    expect(dependencyFailure(Object.assign(new Error('closed'), { name: 'MongoNetworkError' }))?.kind).toBe('transient');
    expect(dependencyFailure(new TypeError('x is not a function'))).toBeUndefined();
    expect(dependencyFailure(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBeUndefined();
  });

  it("takes FerretDB's InternalError (its PostgreSQL is down) as transient; other refusals of the server stay unclassified", () => {
    const pgDown = new MongoServerError({
      ok: 0,
      code: 1,
      codeName: 'InternalError',
      errmsg: 'failed to connect to `user=ferretdb database=postgres`: 127.0.0.1:5432 (127.0.0.1): dial error: dial tcp 127.0.0.1:5432: connect: connection refused',
    });
    expect(dependencyFailure(pgDown)).toEqual({ kind: 'transient', message: 'MongoDB is unavailable' });
    expect(dependencyFailure(new MongoServerError({ ok: 0, code: 91, codeName: 'ShutdownInProgress', errmsg: 'shutting down' }))?.kind).toBe('transient');
    expect(dependencyFailure(new MongoServerError({ ok: 0, code: 2, codeName: 'BadValue', errmsg: 'bad value' }))).toBeUndefined();
    expect(dependencyFailure(new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000' }))).toBeUndefined();
  });

  it('reaches a producer as 503 with Retry-After in the one error shape', async () => {
    const app = express();
    app.post('/v1/events', () => {
      throw socketEnded();
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/v1/events`, { method: 'POST' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toEqual({
        error: { code: 'service_unavailable', message: 'a connection to MongoDB or Temporal failed; retry later', details: [] },
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
