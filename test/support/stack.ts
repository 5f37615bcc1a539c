import { randomBytes } from 'node:crypto';

/**
 * Where the real servers started by `npm test` (scripts/run-tests.ts) listen. Integration tests
 * need them: running jest alone without TEMPORAL_ADDRESS and MONGODB_URI is a setup error.
 */
export function testStack(): { temporalAddress: string; mongodbUri: (database: string) => string } {
  const { TEMPORAL_ADDRESS, MONGODB_URI } = process.env;
  if (!TEMPORAL_ADDRESS || !MONGODB_URI) {
    throw new Error('integration tests need TEMPORAL_ADDRESS and MONGODB_URI: run them with `npm test`');
  }
  const uri = new URL(MONGODB_URI);
  return {
    temporalAddress: TEMPORAL_ADDRESS,
    mongodbUri: (database) => {
      const copy = new URL(uri);
      copy.pathname = `/${database}`;
      return copy.toString();
    },
  };
}

/** A name no other test file uses: per-file databases and task queues keep suites apart. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
