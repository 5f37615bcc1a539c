import { ConfigError } from './config/config';

/** Runs an entry point: a bad setting or a start-up failure stops the process with one clear line. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => exitOnStartFailure(name, err));
}

/** Stops the process with one clear line naming what failed to start (as runMain does). */
export function exitOnStartFailure(name: string, err: unknown): never {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.stack ?? err.message : String(err);
  console.error(`${name}: ${message}`);
  process.exit(1);
}
