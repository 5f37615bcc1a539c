import { dependencyFailure } from '../../src/api/errors';

/** A Node system error as the MongoDB driver threw it when FerretDB was killed under a write. */
function socketEnded(): Error {
  return Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
}

describe('dependencyFailure: how a failing dependency is answered', () => {
  it('takes a connection that broke under a write (EPIPE, unwrapped by the driver) as transient: 503, retry', () => {
    expect(dependencyFailure(socketEnded())).toEqual({ kind: 'transient', message: 'a connection to MongoDB or Temporal broke' });
  });

  it('finds such an error as the cause of another', () => {
    expect(dependencyFailure(new Error('insert failed', { cause: socketEnded() }))?.kind).toBe('transient');
  });

  it('takes the driver\'s own network errors as transient, and leaves program errors alone (500)', () => {
    expect(dependencyFailure(Object.assign(new Error('closed'), { name: 'MongoNetworkError' }))?.kind).toBe('transient');
    expect(dependencyFailure(new TypeError('x is not a function'))).toBeUndefined();
    expect(dependencyFailure(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBeUndefined();
  });
});
