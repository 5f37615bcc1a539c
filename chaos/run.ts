/**
 * `npm run chaos`: one chaos run (chaos-run.ts) with the full settings, or `--small` for the
 * version `npm test` runs. Prints the books and the checks as a table, writes them to
 * chaos/results/<date>.json, and exits non-zero when a check fails (lost > 0 above all). Bounded
 * by the settings' run cap; on success, failure, the cap, Ctrl-C or SIGTERM it stops everything it
 * started, and checks that nothing of it is left running.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosRun, leftoverCheck, type ChaosResult } from './chaos-run';
import { chaosTable } from './report';
import { chaosSettings } from './settings';

const RESULTS_DIR = join(__dirname, 'results');
/** Past the cap, the stop itself gets this long before the process exits regardless. */
const STOP_GRACE_MS = 120_000;

const settings = chaosSettings(process.argv.slice(2), process.env);
const work = mkdtempSync(join(tmpdir(), 'webhook-chaos-'));
// PostgreSQL runs as its own user when this is root, and must be able to enter this directory.
chmodSync(work, 0o755);
const run = new ChaosRun(settings, work);
/** Logs and databases are kept when the run failed, or with CHAOS_KEEP_LOGS=1. */
let keepWork = process.env.CHAOS_KEEP_LOGS === '1';
let finishing = false;

/** Stops everything (whatever happened before), says what was left, and exits. */
async function finish(code: number, result?: ChaosResult): Promise<never> {
  if (finishing) return new Promise<never>(() => undefined);
  finishing = true;
  setTimeout(() => {
    console.error('chaos: the stop did not end in time; exiting (each server gets its stop signal as this process dies)');
    process.exit(1);
  }, STOP_GRACE_MS).unref();
  await run.stop();
  const leftover = leftoverCheck(run.leftAfterStop);
  if (leftover.pass) console.error(`chaos: stopped; ${leftover.detail}`);
  else console.error(`chaos: FAIL ${leftover.name}: ${leftover.detail}`);
  if (result) {
    result.checks.push(leftover);
    result.passed = result.checks.every((c) => c.pass);
    const stamp = result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z') + (settings.name === 'small' ? '-small' : '');
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${stamp}.json`);
    writeFileSync(file, JSON.stringify({ ...result, machine: { cpus: cpus().length, loadavgAtEnd: loadavg() } }, null, 2) + '\n');
    console.log(`\n${chaosTable(result)}\n\nresults: ${file}`);
    code = result.passed ? 0 : 1;
  }
  if (!leftover.pass) code = 1;
  if (keepWork || code !== 0) console.error(`chaos: logs and data kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

// `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by npm).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (finishing) return;
    console.error(`\nchaos: ${signal}; stopping everything it started…`);
    void finish(130);
  });
}
// Whatever goes wrong (a client used after the stack it talks to was stopped), the stack is stopped.
for (const event of ['unhandledRejection', 'uncaughtException'] as const) {
  process.on(event, (err: unknown) => {
    console.error(`chaos: ${event}: ${err instanceof Error ? err.message : String(err)}`);
    keepWork = true;
    void finish(1);
  });
}

console.log(`chaos: ${settings.name} run, ${settings.events} events, cap ${settings.runCapMs / 60_000} min; work dir ${work}`);
run.run().then(
  (result) => finish(result.passed ? 0 : 1, result),
  (err: unknown) => {
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}; stopping everything it started…`);
    keepWork = true;
    return finish(1);
  },
);
