import type { FinalOutcome, FirstAttemptResult } from './types';

/**
 * What a first attempt that ends its delivery counts as (delivered, 410, URL refused, inactive
 * webhook); the other outcomes leave it open. Pure, so workflows and activities share it.
 */
export const FINAL_OUTCOME_OF: Readonly<Partial<Record<FirstAttemptResult['outcome'], FinalOutcome>>> = {
  delivered: 'delivered',
  gone: 'gone',
  refused: 'failed',
  inactive: 'canceled',
};

/** Whether a first attempt's result ends its delivery there. */
export const endsThere = (result: Pick<FirstAttemptResult, 'outcome'>): boolean => FINAL_OUTCOME_OF[result.outcome] !== undefined;
