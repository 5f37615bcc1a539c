import { mongo } from 'mongoose';

interface Queued<T> {
  doc: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most documents in one insert; the driver splits a larger byte size into several messages itself. */
const MAX_BATCH = 64;

/**
 * Longest a shared write may hold the ones behind it. After FerretDB was killed and restarted, a
 * chaos run saw a write that never settled: alone it held one request, shared it held ingestion.
 * Its callers then get a timeout (503, retry later); a write that lands after it counts as theirs
 * when they retry (the same id and body is a duplicate of itself).
 */
export const WRITE_DEADLINE_MS = 10_000;

/**
 * Inserts documents for concurrent callers in shared unordered `insertMany` writes (a group
 * commit): each caller still waits for its own document to be written, and gets its own error
 * (a duplicate key for its `_id` alone). One write is in flight at a time; what arrives meanwhile
 * goes in the next. Idle, a document waits only for the requests of the same event-loop turn.
 * Under load it saves a round trip, and FerretDB a command, per document.
 */
export class InsertBatcher<T extends mongo.Document> {
  private queue: Queued<T>[] = [];
  private writing = false;

  constructor(
    private readonly collection: mongo.Collection<T>,
    private readonly deadlineMs = WRITE_DEADLINE_MS,
  ) {}

  insert(doc: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      if (!this.writing && this.queue.length === 1) setImmediate(() => this.write());
    });
  }

  private write(): void {
    if (this.writing || !this.queue.length) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.writing = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new mongo.MongoNetworkTimeoutError(`insert not acknowledged within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    // Called in a then, so that a throw of the driver or mongoose still settles the batch.
    const inserted = Promise.resolve().then(() =>
      this.collection.insertMany(
        batch.map((q) => q.doc as mongo.OptionalUnlessRequiredId<T>),
        { ordered: false },
      ),
    );
    Promise.race([inserted, deadline])
      .then(
        () => batch.forEach((q) => q.resolve()),
        (err: unknown) => settleFailed(batch, err),
      )
      .finally(() => {
        clearTimeout(timer);
        this.writing = false;
        this.write();
      });
  }
}

/**
 * After a failed unordered insert: the documents it names failed each with its own error, the
 * others were written. A write that failed as a whole (MongoDB unreachable, the connection lost)
 * reaches every caller as the driver's own error, which the bulk error wraps: as from a single
 * insert, so the API still tells it apart (503, retry later).
 */
function settleFailed<T>(batch: Queued<T>[], err: unknown): void {
  const bulk = err instanceof mongo.MongoBulkWriteError ? err : undefined;
  const writeErrors = bulk ? ([] as mongo.WriteError[]).concat(bulk.writeErrors) : [];
  if (!writeErrors.length) {
    const cause = bulk?.errorResponse instanceof Error ? bulk.errorResponse : err;
    return batch.forEach((q) => q.reject(cause));
  }
  const failed = new Map(writeErrors.map((e) => [e.index, e]));
  batch.forEach((q, index) => {
    const error = failed.get(index);
    if (error) q.reject(error);
    else q.resolve();
  });
}
