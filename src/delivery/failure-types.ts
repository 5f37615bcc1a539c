/**
 * `ApplicationFailure` types of a delivery; all but `Retryable`, `OwnFailure`, `RateLimited` and `CircuitOpen` end it at once
 * (thrown non-retryable; the list below is the workflows' retry policy, unchanged so their commands stay the same).
 */
export enum DeliveryFailureType {
  /** Non-2xx response, timeout or network error: retried on the schedule. */
  Retryable = 'DeliveryRetryable',
  /** The last attempt of the schedule failed: the delivery ends failed. */
  Exhausted = 'DeliveryExhausted',
  /** 410 Gone: the webhook is disabled and the delivery ends failed. */
  Gone = 'DeliveryGone',
  /** The webhook was deleted, deactivated or disabled while the delivery waited: it ends canceled. */
  WebhookInactive = 'WebhookInactive',
  /** The URL resolves to an address the SSRF guard refuses. */
  UrlRefused = 'UrlRefused',
  /**
   * The webhook's transformation threw, returned a wrong shape or passed a limit: no request was
   * made, and retrying the same code cannot help; the delivery ends failed (requeue it after a fix).
   */
  TransformationFailed = 'DeliveryTransformationFailed',
  /** The event's payload is no longer stored (past `RETENTION_DAYS`): nothing to send, it ends failed. */
  EventExpired = 'DeliveryEventExpired',
  /**
   * A part of the service itself (database, Temporal, the signing key) failed before the request
   * left: retried after a short back-off, no attempt spent, never the end of the delivery.
   */
  OwnFailure = 'DeliveryOwnFailure',
  /**
   * The webhook's rate limit: the delivery's slot (delivery/rate-limit.ts) is too far off to wait
   * for in the activity, which is retried shortly before it; no request was made, no attempt spent.
   */
  RateLimited = 'DeliveryRateLimited',
  /**
   * The webhook's circuit breaker is open (delivery/circuit-breaker.ts): the activity is retried at
   * its next probe; no request was made, no attempt spent.
   */
  CircuitOpen = 'DeliveryCircuitOpen',
  /** A record of an outcome (index, counters, operational events) that can never pass (invalid data): not retried, the workflow logs it and goes on. */
  RecordRejected = 'RecordRejected',
}

export const NON_RETRYABLE_FAILURE_TYPES = [
  DeliveryFailureType.Exhausted,
  DeliveryFailureType.Gone,
  DeliveryFailureType.WebhookInactive,
  DeliveryFailureType.UrlRefused,
];

/** What tenants read when a delivery's step failed inside the service: the details stay in the worker's log. */
export const OWN_FAILURE_REASON = 'the webhook service could not make this attempt (an internal failure, retried without spending an attempt)';
