/** What a bulk requeue selects: failed deliveries, narrowed by any of these. */
export interface RequeueFilter {
  tenantId?: string;
  webhookId?: string;
  eventType?: string;
  /** ISO 8601: deliveries started at or after. */
  since?: string;
  /** ISO 8601: deliveries started before. */
  until?: string;
}

export interface RequeueProgress {
  /** Failed deliveries found so far. */
  matched: number;
  /** Started again. */
  requeued: number;
  /** Found but no longer failed when their turn came (retried meanwhile, or delivered). */
  skipped: number;
  errors: number;
  done: boolean;
}

export interface RequeueInput {
  filter: RequeueFilter;
  /** Most deliveries to requeue. */
  limit: number;
  /** Count what would be requeued, requeue nothing. */
  dryRun: boolean;
  /** Deliveries started per second, so a receiver that just recovered is not flooded. */
  ratePerSecond: number;
  /** Where the previous run stopped, when the operation continued as new. */
  cursor?: string | null;
  progress?: RequeueProgress;
}

export interface FailedDeliveryPage {
  deliveryIds: string[];
  nextCursor: string | null;
}
