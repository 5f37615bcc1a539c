/**
 * V8 heap limits for a worker process, passed by what starts it (`npm start`, the bench, chaos;
 * docker-compose.yml gives the same flags). With memory to spare V8 grows its heaps long before it
 * collects: a worker's live data stayed near 100 MB while its RSS peaked at 497 MB; with these
 * limits the same bench phases peaked at 323 MB at the same throughput (bench/README.md).
 * `WORKER_HEAP_MB` sets the old space; 0 leaves V8's defaults.
 */
export const DEFAULT_WORKER_HEAP_MB = 192;

/** The environment for a worker process: NODE_OPTIONS with the heap limits added. */
export function withWorkerHeapLimits(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const raw = env.WORKER_HEAP_MB ?? String(DEFAULT_WORKER_HEAP_MB);
  const heapMb = Number(raw);
  if (!Number.isInteger(heapMb) || heapMb < 0) throw new Error(`WORKER_HEAP_MB must be a whole number of megabytes (0: V8's defaults), not "${raw}"`);
  if (heapMb === 0) return env;
  const flags = [`--max-old-space-size=${heapMb}`, '--max-semi-space-size=8'];
  return { ...env, NODE_OPTIONS: [env.NODE_OPTIONS, ...flags].filter(Boolean).join(' ') };
}
