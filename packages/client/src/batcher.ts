/**
 * Gathers events added one at a time into /v1/events/batch requests: a batch leaves when it is full
 * or when its oldest event has waited `flushIntervalMs`. Nothing added is dropped: every event is
 * in the end accepted or rejected with the error that refused it, and `close()` waits for all.
 */
import type { BatchAcceptedEvent, IdentifiedEvent, NewEvent } from './api-types';
import { classifyBatchFailure } from './batch-failure';
import { newEventId } from './event-id';
import { backoffDelay } from './retry-policy';

export interface BatcherOptions {
  /** Most events in one request (the service takes at most 100). @default 100 */
  maxBatchSize?: number;
  /** Longest an event waits for its batch to fill before the batch is sent anyway. @default 5000 */
  flushIntervalMs?: number;
  /** Most events held at once (waiting for their batch or being sent); beyond it `add`'s events wait for room (`queued`). @default 1000 */
  maxBufferedEvents?: number;
  /** Back-off after a batch's first failure without Retry-After; it doubles per failure. @default 500 */
  retryBaseDelayMs?: number;
  /** Longest back-off between two sends of one batch. @default 30_000 */
  retryMaxDelayMs?: number;
  /** Told of each failed send that will be tried again (the batcher retries until the service accepts), e.g. to log it. */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
}

/** `add`'s answer: settles with the event's acceptance; `id` is known at once, `queued` resolves once the batcher has room for it. */
export type BatchedEvent = Promise<BatchAcceptedEvent> & { readonly id: string; readonly queued: Promise<void> };

export interface BatcherSummary {
  /** Events the service accepted over the batcher's life. */
  accepted: number;
  /** Events the service refused (a validation error, an id reused with another body, ...), with its error. */
  rejected: { event: IdentifiedEvent; error: unknown }[];
}

export type SendBatch = (events: IdentifiedEvent[]) => Promise<BatchAcceptedEvent[]>;

interface Entry {
  seq: number;
  event: IdentifiedEvent;
  resolve: (accepted: BatchAcceptedEvent) => void;
  reject: (error: unknown) => void;
  queued: () => void;
}

/** The service's limit on the events of one batch request. */
export const MAX_BATCH_SIZE = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class EventBatcher {
  private readonly options: Required<Omit<BatcherOptions, 'onRetry'>> & Pick<BatcherOptions, 'onRetry'>;
  /** Added and with room, not yet sent. */
  private readonly buffer: Entry[] = [];
  /** Added while the batcher was full: they enter the buffer in order as sent batches free room. */
  private readonly waiting: Entry[] = [];
  private readonly unsettled = new Set<Promise<void>>();
  private inFlight = 0;
  private lastSeq = 0;
  /** Events up to this one are sent now, in a partial batch if need be (the interval ran out, flush, close). */
  private flushThrough = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private sending = false;
  private closed = false;
  private readonly summary: BatcherSummary = { accepted: 0, rejected: [] };

  constructor(
    private readonly send: SendBatch,
    options: BatcherOptions = {},
  ) {
    this.options = { maxBatchSize: MAX_BATCH_SIZE, flushIntervalMs: 5000, maxBufferedEvents: 1000, retryBaseDelayMs: 500, retryMaxDelayMs: 30_000, ...options };
    const { maxBatchSize, maxBufferedEvents } = this.options;
    if (!(maxBatchSize >= 1 && maxBatchSize <= MAX_BATCH_SIZE)) throw new RangeError(`maxBatchSize must be 1 to ${MAX_BATCH_SIZE}`);
    if (!(maxBufferedEvents >= maxBatchSize)) throw new RangeError('maxBufferedEvents must be at least maxBatchSize');
  }

  /**
   * Adds an event; an event without an id gets one now, so every send of it names the same event.
   * Resolves with `{id, status}` once its batch was accepted; rejects with the WebhookApiError that
   * refused it. A producer that must not outrun the service awaits `queued` before adding more.
   */
  add(event: NewEvent): BatchedEvent {
    if (this.closed) throw new Error('the batcher is closed: add events before close()');
    const identified: IdentifiedEvent = { ...event, id: event.id ?? newEventId() };
    let queued!: () => void;
    const whenQueued = new Promise<void>((resolve) => (queued = resolve));
    let entry!: Entry;
    const accepted = new Promise<BatchAcceptedEvent>((resolve, reject) => {
      entry = { seq: ++this.lastSeq, event: identified, resolve, reject, queued };
    });
    // Handled here, so a producer that awaits only `queued` never gets an unhandled rejection: close() reports it.
    const settled = accepted.then(
      () => void this.summary.accepted++,
      (error: unknown) => void this.summary.rejected.push({ event: identified, error }),
    );
    this.unsettled.add(settled);
    void settled.then(() => this.unsettled.delete(settled));
    if (this.waiting.length === 0 && this.held() < this.options.maxBufferedEvents) this.enqueue(entry);
    else this.waiting.push(entry);
    return Object.assign(accepted, { id: identified.id, queued: whenQueued });
  }

  /** Sends every event added so far, in partial batches if need be; resolves once each is settled. */
  async flush(): Promise<void> {
    this.flushThrough = this.lastSeq;
    const pending = [...this.unsettled];
    this.schedule();
    await Promise.all(pending);
  }

  /** Sends everything (retrying as long as it takes), takes no more events, and resolves once all are settled. */
  async close(): Promise<BatcherSummary> {
    this.closed = true;
    await this.flush();
    return { accepted: this.summary.accepted, rejected: [...this.summary.rejected] };
  }

  /** Events held: buffered or being sent. */
  private held(): number {
    return this.buffer.length + this.inFlight;
  }

  private enqueue(entry: Entry): void {
    this.buffer.push(entry);
    entry.queued();
    this.schedule();
  }

  private ready(): boolean {
    return this.buffer.length >= this.options.maxBatchSize || (this.buffer.length > 0 && this.buffer[0].seq <= this.flushThrough);
  }

  /** Starts sending when a batch is ready, or the interval's clock for the oldest buffered event. */
  private schedule(): void {
    if (this.sending) return; // the running drain sees it
    if (this.ready()) {
      void this.drain();
      return;
    }
    if (this.buffer.length > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushThrough = Math.max(this.flushThrough, this.lastSeq);
        this.schedule();
      }, this.options.flushIntervalMs);
    }
  }

  /** One batch at a time, in the order events were added: a batch that must wait holds back the ones behind it. */
  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.ready()) {
        const batch = this.buffer.splice(0, this.options.maxBatchSize);
        this.inFlight += batch.length;
        // deliver settles every event itself; should it throw (an onRetry that throws), its events get that error.
        await this.deliver(batch).catch((err: unknown) => batch.forEach((entry) => entry.reject(err)));
        this.inFlight -= batch.length;
        while (this.waiting.length > 0 && this.held() < this.options.maxBufferedEvents) this.enqueue(this.waiting.shift()!);
      }
    } finally {
      this.sending = false;
    }
    if (this.buffer.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  /** Sends `batch` until every event in it is accepted or refused. */
  private async deliver(batch: Entry[]): Promise<void> {
    let rest = batch;
    let failures = 0;
    while (rest.length > 0) {
      try {
        const accepted = await this.send(rest.map((entry) => entry.event));
        rest.forEach((entry, i) => {
          const answer = accepted[i];
          if (answer?.id === entry.event.id) entry.resolve(answer);
          else entry.reject(new Error(`the batch answer does not name event ${entry.event.id} at position ${i}`));
        });
        return;
      } catch (err) {
        const failure = classifyBatchFailure(err, rest.length);
        if (failure.kind === 'retry') {
          failures++;
          const delayMs = failure.delayMs ?? backoffDelay(failures, { baseDelayMs: this.options.retryBaseDelayMs, maxDelayMs: this.options.retryMaxDelayMs });
          this.options.onRetry?.(err, failures, delayMs);
          await sleep(delayMs);
        } else if (failure.kind === 'split') {
          const half = Math.ceil(rest.length / 2);
          await this.deliver(rest.slice(0, half));
          await this.deliver(rest.slice(half));
          return;
        } else {
          const refused = new Set(failure.indices);
          rest.forEach((entry, i) => refused.has(i) && entry.reject(err));
          rest = rest.filter((_entry, i) => !refused.has(i));
        }
      }
    }
  }
}
