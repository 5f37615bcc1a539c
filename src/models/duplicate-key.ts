/** MongoDB's (and FerretDB's) error code for a write that met an existing unique key. */
const DUPLICATE_KEY = 11000;

/** Whether `err` is a write refused because its unique key exists: an insert or upsert that lost a race, or a replay. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === DUPLICATE_KEY;
}
