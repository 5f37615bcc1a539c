import type { Collection } from 'mongoose';

/** MongoDB's answer to an option the server does not have (FerretDB v1: `expireAfterSeconds`). */
const NOT_IMPLEMENTED = 238;

/**
 * The index on `expiresAt` of records that expire: a TTL index on MongoDB (expired records
 * disappear by themselves). FerretDB v1 refuses TTL indexes (NotImplemented): there it is a plain
 * index, and the code that writes such records deletes the expired ones itself. Readers check
 * `expiresAt` either way.
 */
export async function ensureExpiryIndex(collection: Collection): Promise<void> {
  try {
    await collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_IMPLEMENTED) throw err;
    await collection.createIndex({ expiresAt: 1 });
  }
}
