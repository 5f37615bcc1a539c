import { heapFlags } from '../../src/embedded/heap-limits';

describe('heap settings of the services', () => {
  it('gives the worker old-space and semi-space limits, its old space from WORKER_HEAP_MB', () => {
    expect(heapFlags('worker', {})).toEqual(['--max-old-space-size=192', '--max-semi-space-size=8']);
    expect(heapFlags('worker', { WORKER_HEAP_MB: '300' })).toEqual(['--max-old-space-size=300', '--max-semi-space-size=8']);
  });

  it('gives the API the smaller young generation and a heap growth factor, never a limit, whatever WORKER_HEAP_MB says', () => {
    expect(heapFlags('api', { WORKER_HEAP_MB: '0' })).toEqual(['--max-semi-space-size=8', '--heap-growing-percent=100']);
    expect(heapFlags('api', {}).some((flag) => flag.startsWith('--max-old-space-size'))).toBe(false);
  });

  it("leaves the worker V8's defaults with 0, and refuses what is not a size", () => {
    expect(heapFlags('worker', { WORKER_HEAP_MB: '0' })).toEqual([]);
    expect(() => heapFlags('worker', { WORKER_HEAP_MB: 'lots' })).toThrow(/WORKER_HEAP_MB must be a whole number/);
  });
});
