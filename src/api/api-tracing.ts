/**
 * The API's tracing (docs/operations.md, "Tracing"), started as this module loads: main.ts imports
 * it before anything else, because the HTTP instrumentation patches `http` only as the modules
 * after it load it (express does). Null, and nothing of OpenTelemetry loaded, when tracing is off.
 */
import { exitOnStartFailure } from '../run-main';
import { startTracing, type Tracing } from '../tracing/tracing';
import { routePattern } from './route-pattern';

function start(): Tracing | null {
  try {
    return startTracing({ defaultServiceName: 'webhook-api', httpServer: { routeOf: (req) => routePattern(req as Parameters<typeof routePattern>[0]) } });
  } catch (err) {
    return exitOnStartFailure('api', err);
  }
}

export const apiTracing = start();
