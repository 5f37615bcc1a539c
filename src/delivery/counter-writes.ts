/**
 * The webhook counter writes of this process (delivery counts, failure streaks, auto-disable),
 * one at a time. FerretDB 1.x applies `$inc` as read-modify-write: in a test, five concurrent
 * increments of one webhook left it at 3. And concurrent bulk updates of the same webhooks hung
 * there. One writer at a time avoids both within a process (the embedded default runs one
 * worker); on MongoDB, whose updates are atomic, it costs little: a page's counters are one bulk
 * write. Several workers on FerretDB can still lose an increment (docs/database.md).
 */
let tail: Promise<unknown> = Promise.resolve();

export function serializedCounterWrite<T>(write: () => Promise<T>): Promise<T> {
  const run = tail.then(write, write);
  tail = run.catch(() => undefined);
  return run;
}
