/**
 * Workflow type names, for code that starts workflows without importing them: the API and the
 * activities start them by name, so they never depend on workflow code (which depends on them).
 */
export const WORKFLOW_TYPES = {
  eventFanout: 'EventFanoutWorkflow',
  delivery: 'DeliveryWorkflow',
  requeue: 'RequeueWorkflow',
  fifoSequencer: 'FifoSequencerWorkflow',
  tenantDeletion: 'TenantDeletionWorkflow',
} as const;
