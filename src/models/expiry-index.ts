import type { Collection } from 'mongoose';

/** MongoDB's answer to an option the server does not have (FerretDB v1: `expireAfterSeconds`). */
const NOT_IMPLEMENTED = 238;
/** A collection that does not exist yet. */
const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;

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
 * Drops the TTL index on `field` an earlier version created (MongoDB), so that documents the
 * retention sweep keeps (a delivery still retrying) do not vanish by a clock of their own. No plain
 * index takes its place: an older build, started again in a rollback, creates its TTL index anew
 * instead of failing on a conflicting one.
 */
export async function dropExpiryIndex(collection: Collection, field: string): Promise<void> {
  const indexes = await collection.indexes().catch((err: { code?: number }) => (err.code === NAMESPACE_NOT_FOUND ? [] : Promise.reject(err)));
  const ttl = indexes.find((i) => i.expireAfterSeconds !== undefined && Object.keys(i.key).join() === field);
  // Another process starting at the same time may have dropped it first.
  if (ttl?.name) await collection.dropIndex(ttl.name).catch((err: { code?: number }) => (err.code === INDEX_NOT_FOUND ? undefined : Promise.reject(err)));
}
