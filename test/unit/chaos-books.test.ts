import { shortOfSchedule } from '../../chaos/chaos-run';
import type { FaultReceiver } from '../../chaos/fault-receiver';
import { requestsByPair } from '../../chaos/tally';

/**
 * The chaos run's check that a delivery recorded failed made every HTTP attempt of its schedule
 * (issue 22: database faults spent attempts without a request): the receiver's requests are
 * summed per webhook and event, over every webhook-id, and compared with the attempts.
 */
describe('chaos books: failed deliveries against their schedule', () => {
  const receiver = {
    deliveries: new Map([
      ['dlv_a', { webhookKey: 't0-w0', eventId: 'chaos-1', requests: 5, successes: 0 }],
      ['dlv_b', { webhookKey: 't0-w0', eventId: 'chaos-2', requests: 3, successes: 0 }],
      // A requeue sends the same event to the same webhook under a new id: both count.
      ['dlv_c', { webhookKey: 't0-w1', eventId: 'chaos-2', requests: 2, successes: 0 }],
      ['dlv_d', { webhookKey: 't0-w1', eventId: 'chaos-2', requests: 3, successes: 0 }],
    ]),
  } as unknown as FaultReceiver;

  it('flags a failed delivery with fewer requests than attempts, and one the receiver never saw', () => {
    const failed = new Set(['t0-w0 chaos-1', 't0-w0 chaos-2', 't0-w1 chaos-2', 't1-w0 chaos-9']);
    expect(shortOfSchedule(failed, requestsByPair(receiver), 5)).toEqual([
      { delivery: 't0-w0 chaos-2', requests: 3, attempts: 5 },
      { delivery: 't1-w0 chaos-9', requests: 0, attempts: 5 },
    ]);
  });

  it('passes when every failed delivery made its attempts (duplicates from a killed worker included)', () => {
    expect(shortOfSchedule(new Set(['t0-w0 chaos-1', 't0-w1 chaos-2']), requestsByPair(receiver), 5)).toEqual([]);
  });
});
