/**
 * `npm run chaos`: one chaos run (chaos-run.ts) with the full settings, or `--small` for the
 * version `npm test` runs. Prints the books and the checks as a table, writes them to
 * chaos/results/<date>.json, and exits non-zero when a check fails (lost > 0 above all). Bounded
 * by the settings' run cap; on success, failure, the cap or Ctrl-C it stops everything it started.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChaosRun } from './chaos-run';
import { chaosTable } from './report';
import { chaosSettings } from './settings';

const RESULTS_DIR = join(__dirname, 'results');

const settings = chaosSettings(process.argv.slice(2), process.env);
const work = mkdtempSync(join(tmpdir(), 'webhook-chaos-'));
// PostgreSQL runs as its own user when this is root, and must be able to enter this directory.
chmodSync(work, 0o755);
const run = new ChaosRun(settings, work);
/** Logs and databases are kept when the run failed, or with CHAOS_KEEP_LOGS=1. */
let keepWork = process.env.CHAOS_KEEP_LOGS === '1';
let interrupted = false;

async function finish(code: number): Promise<never> {
  clearTimeout(cap);
  await run.stop();
  if (keepWork || code !== 0) console.error(`chaos: logs and data kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

async function main(): Promise<number> {
  console.log(`chaos: ${settings.name} run, ${settings.events} events, cap ${settings.runCapMs / 60_000} min; work dir ${work}`);
  const result = await run.run();
  const stamp = result.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z') + (settings.name === 'small' ? '-small' : '');
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(file, JSON.stringify({ ...result, machine: { cpus: cpus().length, loadavgAtEnd: loadavg() } }, null, 2) + '\n');
  console.log(`\n${chaosTable(result)}\n\nresults: ${file}`);
  return result.passed ? 0 : 1;
}

// `on`, not `once`: Ctrl-C reaches this process twice (directly and relayed by tsx).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error('\nchaos: interrupted; stopping everything it started…');
    void finish(130);
  });
}
const cap = setTimeout(() => {
  console.error(`\nchaos: the run exceeded its cap of ${settings.runCapMs / 60_000} minutes; stopping everything it started…`);
  keepWork = true;
  void finish(1);
}, settings.runCapMs);

void main()
  .catch((err: unknown) => {
    if (interrupted) return 130;
    console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
    keepWork = true;
    return 1;
  })
  .then((code) => (interrupted ? undefined : finish(code)));
