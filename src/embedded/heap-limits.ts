/**
 * V8 heap limits for the API and worker processes, passed by what starts them (`npm start`, the
 * bench, chaos; docker-compose.yml gives the same flags). With memory to spare V8 grows its heaps
 * long before it collects: a worker's live data stayed near 100 MB while its RSS peaked at 497 MB;
 * with these limits the same bench phases peaked at 323 MB at the same throughput
 * (bench/README.md). The API keeps little live data, so it gets only the smaller young
 * generation (its old space is left to V8, so a burst of large requests cannot crash it).
 * `WORKER_HEAP_MB` sets the worker's old space; 0 leaves V8's defaults.
 */
import type { Service } from './service-command';

export const DEFAULT_WORKER_HEAP_MB = 192;

/** Young generation semi-space: 8 MB instead of Node 20's 16 MB, for both services. */
const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

/** The environment for a service process: NODE_OPTIONS with its heap limits added. */
export function withHeapLimits(service: Service, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (service === 'api') return withNodeOptions(env, [SEMI_SPACE_FLAG]);
  const raw = env.WORKER_HEAP_MB ?? String(DEFAULT_WORKER_HEAP_MB);
  const heapMb = Number(raw);
  if (!Number.isInteger(heapMb) || heapMb < 0) throw new Error(`WORKER_HEAP_MB must be a whole number of megabytes (0: V8's defaults), not "${raw}"`);
  if (heapMb === 0) return env;
  return withNodeOptions(env, [`--max-old-space-size=${heapMb}`, SEMI_SPACE_FLAG]);
}

function withNodeOptions(env: NodeJS.ProcessEnv, flags: string[]): NodeJS.ProcessEnv {
  return { ...env, NODE_OPTIONS: [env.NODE_OPTIONS, ...flags].filter(Boolean).join(' ') };
}
