/**
 * Builds Temporal visibility queries from validated values. Values are quoted and escaped, so
 * nothing a caller passes can change the query's shape.
 */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface DeliveryFilter {
  /** Always set on tenant routes; only admin operations (bulk requeue) may span tenants. */
  tenantId?: string;
  webhookId?: string;
  eventId?: string;
  eventType?: string;
  status?: string;
  /** Deliveries started at or after this time. */
  since?: Date;
  /** Deliveries started before this time. */
  until?: Date;
  /** Deliveries closed at or after this time. */
  closedSince?: Date;
}

/** `WorkflowType = 'DeliveryWorkflow' AND TenantId = '…' AND …`: the index behind every delivery list. */
export function deliveryQuery(filter: DeliveryFilter): string {
  const clauses = [`WorkflowType = 'DeliveryWorkflow'`];
  if (filter.tenantId) clauses.push(`TenantId = ${quote(filter.tenantId)}`);
  if (filter.webhookId) clauses.push(`WebhookId = ${quote(filter.webhookId)}`);
  if (filter.eventId) clauses.push(`EventId = ${quote(filter.eventId)}`);
  if (filter.eventType) clauses.push(`EventType = ${quote(filter.eventType)}`);
  if (filter.status) clauses.push(`DeliveryStatus = ${quote(filter.status)}`);
  if (filter.since) clauses.push(`StartTime >= ${quote(filter.since.toISOString())}`);
  if (filter.until) clauses.push(`StartTime < ${quote(filter.until.toISOString())}`);
  if (filter.closedSince) clauses.push(`CloseTime >= ${quote(filter.closedSince.toISOString())}`);
  return clauses.join(' AND ');
}
