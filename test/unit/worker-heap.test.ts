import { withWorkerHeapLimits } from '../../src/worker/worker-heap';

describe('worker heap limits', () => {
  it('adds the V8 heap flags to NODE_OPTIONS, keeping what was there', () => {
    expect(withWorkerHeapLimits({}).NODE_OPTIONS).toBe('--max-old-space-size=192 --max-semi-space-size=8');
    expect(withWorkerHeapLimits({ NODE_OPTIONS: '--enable-source-maps', WORKER_HEAP_MB: '300' }).NODE_OPTIONS).toBe(
      '--enable-source-maps --max-old-space-size=300 --max-semi-space-size=8',
    );
  });

  it('leaves V8 its defaults with 0, and refuses what is not a size', () => {
    expect(withWorkerHeapLimits({ WORKER_HEAP_MB: '0' }).NODE_OPTIONS).toBeUndefined();
    expect(() => withWorkerHeapLimits({ WORKER_HEAP_MB: 'lots' })).toThrow(/WORKER_HEAP_MB must be a whole number/);
  });
});
