/** @webhook-service/client: the typed client of the webhook service, its event batcher, and `verify` for receivers. */
export { WebhookClient, type WebhookClientOptions } from './client';
export { EventBatcher, MAX_BATCH_SIZE, type BatchedEvent, type BatcherOptions, type BatcherSummary } from './batcher';
export { classifyBatchFailure, type BatchFailure } from './batch-failure';
export { WebhookApiError, WebhookVerificationError, type ErrorDetail } from './errors';
export { newEventId } from './event-id';
export { parseRetryAfter } from './retry-after';
export { backoffDelay, DEFAULT_RETRY, type RetryOptions } from './retry-policy';
export { retryingFetch, type Fetch } from './transport';
export { verify, type VerifyOptions, type WebhookHeaders, type WebhookPayload } from './verify';
export type * from './api-types';
export type { components, operations, paths } from './openapi';
