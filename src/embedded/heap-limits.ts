/**
 * V8 heap settings of the API and worker processes, given as node arguments by whatever starts
 * them (`npm start`, the bench, chaos: service-command.ts; docker-compose.yml gives the same).
 * With memory to spare V8 grows its heaps long before it collects:
 * - a worker's live data stayed near 100 MB while its RSS peaked at 497 MB; with an old-space
 *   limit the same bench phases peaked at 323 MB at the same throughput (bench/README.md).
 *   `WORKER_HEAP_MB` sets it; 0 leaves V8's defaults.
 * - the API keeps little live data, yet its RSS grew by about 24 MB per 400 events ingested, to
 *   215 MB, before V8 collected: its heap may grow to twice what the last full collection kept
 *   (V8 picks up to 4x), which held it at 167 MB for the same API CPU. That is a growth factor, not
 *   a limit: a burst of large requests gets the memory it needs instead of crashing the API.
 */
import type { Service } from './service-command';

export const DEFAULT_WORKER_HEAP_MB = 192;

/** Young generation semi-space: 8 MB instead of Node 20's 16 MB, for both services. */
const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

/** The API's old space grows to at most twice its live data between full collections (not allowed in NODE_OPTIONS). */
const API_HEAP_GROWTH_FLAG = '--heap-growing-percent=100';

/** The node arguments that set a service's heap; throws on a bad WORKER_HEAP_MB. */
export function heapFlags(service: Service, env: NodeJS.ProcessEnv): string[] {
  if (service === 'api') return [SEMI_SPACE_FLAG, API_HEAP_GROWTH_FLAG];
  const raw = env.WORKER_HEAP_MB ?? String(DEFAULT_WORKER_HEAP_MB);
  const heapMb = Number(raw);
  if (!Number.isInteger(heapMb) || heapMb < 0) throw new Error(`WORKER_HEAP_MB must be a whole number of megabytes (0: V8's defaults), not "${raw}"`);
  return heapMb === 0 ? [] : [`--max-old-space-size=${heapMb}`, SEMI_SPACE_FLAG];
}
