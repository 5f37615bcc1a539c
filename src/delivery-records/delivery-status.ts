import type { WorkflowExecutionStatusName } from '@temporalio/client';
import type { DeliveryStatus } from '../delivery/types';

/**
 * A delivery's status from its workflow execution: the execution status is the truth once it
 * has closed; while it runs, the DeliveryStatus search attribute tells pending from retrying.
 */
export function deliveryStatus(execution: WorkflowExecutionStatusName, attribute: unknown): DeliveryStatus {
  switch (execution) {
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return attribute === 'retrying' ? 'retrying' : 'pending';
    case 'COMPLETED':
      return attribute === 'canceled' ? 'canceled' : 'delivered';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'canceled';
    default:
      return 'failed';
  }
}
