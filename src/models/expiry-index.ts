import type { Collection } from 'mongoose';

/** MongoDB's answer to an option the server does not have (FerretDB v1: `expireAfterSeconds`). */
const NOT_IMPLEMENTED = 238;
/** A collection that does not exist yet. */
const NAMESPACE_NOT_FOUND = 26;

/**
 * An index on `field` that expires documents `afterSeconds` past its date: a TTL index on MongoDB
 * (expired documents disappear by themselves). FerretDB v1 refuses TTL indexes (NotImplemented):
 * there it is a plain index, and the caller deletes expired documents itself (`sweepExpired`).
 * Returns whether the server expires them.
 */
export async function ensureExpiryIndex(collection: Collection, field = 'expiresAt', afterSeconds = 0): Promise<boolean> {
  try {
    await collection.createIndex({ [field]: 1 }, { expireAfterSeconds: afterSeconds });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== NOT_IMPLEMENTED) throw err;
    await collection.createIndex({ [field]: 1 });
    return false;
  }
}

/** Deletes what a TTL index would have: documents whose `field` is more than `afterSeconds` old. */
export async function sweepExpired(collection: Collection, field = 'expiresAt', afterSeconds = 0, now = new Date()): Promise<number> {
  const result = await collection.deleteMany({ [field]: { $lt: new Date(now.getTime() - afterSeconds * 1000) } });
  return result.deletedCount;
}

/**
 * A plain index on `field`, replacing a TTL index an earlier version created there (MongoDB would
 * refuse the plain one beside it): data the retention sweep deletes must not also vanish by a
 * clock of its own.
 */
export async function ensurePlainIndex(collection: Collection, field: string): Promise<void> {
  const indexes = await collection.indexes().catch((err: { code?: number }) => (err.code === NAMESPACE_NOT_FOUND ? [] : Promise.reject(err)));
  const ttl = indexes.find((i) => i.expireAfterSeconds !== undefined && Object.keys(i.key).join() === field);
  if (ttl?.name) await collection.dropIndex(ttl.name);
  await collection.createIndex({ [field]: 1 });
}
