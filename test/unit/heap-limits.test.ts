import { withHeapLimits } from '../../src/embedded/heap-limits';

describe('heap limits of the services', () => {
  it('gives the worker old-space and semi-space limits, keeping what NODE_OPTIONS held', () => {
    expect(withHeapLimits('worker', {}).NODE_OPTIONS).toBe('--max-old-space-size=192 --max-semi-space-size=8');
    expect(withHeapLimits('worker', { NODE_OPTIONS: '--enable-source-maps', WORKER_HEAP_MB: '300' }).NODE_OPTIONS).toBe(
      '--enable-source-maps --max-old-space-size=300 --max-semi-space-size=8',
    );
  });

  it('gives the API only the smaller young generation, whatever WORKER_HEAP_MB says', () => {
    expect(withHeapLimits('api', { WORKER_HEAP_MB: '0' }).NODE_OPTIONS).toBe('--max-semi-space-size=8');
    expect(withHeapLimits('api', { NODE_OPTIONS: '--enable-source-maps' }).NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=8');
  });

  it("leaves the worker V8's defaults with 0, and refuses what is not a size", () => {
    expect(withHeapLimits('worker', { WORKER_HEAP_MB: '0' }).NODE_OPTIONS).toBeUndefined();
    expect(() => withHeapLimits('worker', { WORKER_HEAP_MB: 'lots' })).toThrow(/WORKER_HEAP_MB must be a whole number/);
  });
});
