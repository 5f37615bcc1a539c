/**
 * The fan-out workflow id is derived from tenant and event id: a repeated POST of the same
 * event finds the existing workflow instead of fanning out twice.
 */
export function eventWorkflowId(tenantId: string, eventId: string): string {
  return `event/${tenantId}/${eventId}`;
}

/** One delivery is one workflow execution, whose id is the delivery id. */
export function deliveryWorkflowId(deliveryId: string): string {
  return deliveryId;
}

/** A FIFO webhook's sequencer: one per webhook, so every hand-over to its line reaches the same execution. */
export function fifoSequencerWorkflowId(tenantId: string, webhookId: string): string {
  return `fifo/${tenantId}/${webhookId}`;
}
