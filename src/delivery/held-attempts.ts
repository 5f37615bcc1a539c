/**
 * Longest a fan-out holds a delivery whose first attempt could not end in its batch (its request
 * in flight, or its rate-limit slot to come: workflows/held-first-attempts.ts); a delivery due
 * later (a long rate-limit backlog) goes to its own workflow at once. Shared by the workflow and
 * the worker that schedules a held request for its slot.
 */
export const HOLD_MAX_MS = 60_000;
