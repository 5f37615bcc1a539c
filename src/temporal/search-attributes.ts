import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes set on every workflow, so the Web UI and the deliveries API can
 * filter with one visibility query, e.g. `WebhookId = "wh_…" AND DeliveryStatus = "failed"`.
 */
export const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const EventId = defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD);
export const EventType = defineSearchAttributeKey('EventType', SearchAttributeType.KEYWORD);
export const WebhookId = defineSearchAttributeKey('WebhookId', SearchAttributeType.KEYWORD);
export const DeliveryStatus = defineSearchAttributeKey('DeliveryStatus', SearchAttributeType.KEYWORD);

/** Name → type, for registering them on a server (`--search-attribute Name=Type`). */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  TenantId: 'Keyword',
  EventId: 'Keyword',
  EventType: 'Keyword',
  WebhookId: 'Keyword',
  DeliveryStatus: 'Keyword',
};
