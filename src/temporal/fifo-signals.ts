import { defineSignal } from '@temporalio/workflow';

/**
 * Sent with signal-with-start to a FIFO webhook's sequencer when a delivery joined its line: the
 * sequencer reads the line again (the line itself is in the database, never in the signal).
 */
export const fifoJoinedSignal = defineSignal('fifoJoined');
