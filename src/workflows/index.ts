export { DeliveryWorkflow } from './delivery-workflow';
export { EventFanoutWorkflow } from './event-fanout-workflow';
export { RequeueWorkflow } from './requeue-workflow';
export { FifoSequencerWorkflow } from './fifo-sequencer-workflow';
export { TenantDeletionWorkflow } from './tenant-deletion-workflow';
