import { defineSignal } from '@temporalio/workflow';
import type { AttemptRecord } from '../delivery/types';

/**
 * Sent by the deliver activity to its DeliveryWorkflow when an attempt failed and another is
 * scheduled: the workflow then shows `DeliveryStatus = "retrying"`, and its history holds a
 * timestamped event per failed attempt while the delivery is still running.
 */
export const attemptFailedSignal = defineSignal<[AttemptRecord]>('attemptFailed');
