/**
 * `npm run fuzz`: schemathesis (fuzz/provision-schemathesis.sh) against the API's own
 * `/openapi.json`, with a tenant API key (the admin token on admin routes and /metrics), on a stack this run starts and stops itself. Passes when
 * it sent at least MIN_REQUESTS requests, none answered 5xx, and every one of schemathesis's checks
 * passed (`--checks all`: conformance of status, content type, headers and body; schema-valid data
 * accepted and invalid data refused; 405 and Allow; auth enforced; resources usable after creation
 * and gone after deletion). fuzz/hooks.py keeps generated requests to the two rules no OpenAPI
 * document can state (allowed webhook destinations; body id equal to Idempotency-Key).
 *
 * Nothing leaves loopback: schemathesis invents webhook URLs with random host names, so the API
 * and the worker run with WEBHOOK_RESOLVE_HOSTNAMES=false (no name is ever looked up in DNS; only
 * IP literals and localhost are accepted) and WEBHOOK_DESTINATION_CIDRS=127.0.0.0/8 (no delivery
 * or test call may connect anywhere but loopback), and schemathesis gets the base URL on the
 * command line, not from the document.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchApiClient } from '../bench/api-client';
import { StackRunner } from '../bench/stack';

/** The issue's floor: at least this many generated requests. */
const MIN_REQUESTS = 1000;
/** Test cases per operation and phase: about 35 operations make well over MIN_REQUESTS. */
const MAX_EXAMPLES = 40;
/** The whole run stops by itself after this. */
const RUN_CAP_MS = 15 * 60_000;
/** Every check schemathesis has: none is left out. */
const CHECKS = ['all'];
const HOOKS = join(__dirname, 'hooks.py');
const RESULTS_DIR = join(__dirname, 'results');

/** The settings that keep every name unresolved and every connection on loopback. */
export const LOOPBACK_ONLY_ENV = {
  WEBHOOK_RESOLVE_HOSTNAMES: 'false',
  WEBHOOK_DESTINATION_CIDRS: '127.0.0.0/8',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  WEBHOOK_ALLOW_HTTP: 'true',
};

interface HarEntry {
  request: { method: string; url: string };
  response: { status: number };
}

const work = mkdtempSync(join(tmpdir(), 'webhook-fuzz-'));
chmodSync(work, 0o755); // PostgreSQL runs as its own user when this is root
const stackRunner = new StackRunner(work, { floorWorker: false, env: LOOPBACK_ONLY_ENV });
let schemathesis: ReturnType<typeof spawn> | undefined;
let stopping: Promise<void> | undefined;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    if (schemathesis && schemathesis.exitCode === null) schemathesis.kill('SIGTERM');
    await stackRunner.stop();
  })();
  return stopping;
}

async function main(): Promise<number> {
  const cli = process.env.SCHEMATHESIS;
  if (!cli) throw new Error('SCHEMATHESIS is not set: run it with `npm run fuzz`');
  const startedAt = new Date();
  console.log(`fuzz: starting the stack (names never resolved, deliveries to loopback only); work dir ${work}`);
  const stack = await stackRunner.start();
  const api = new BenchApiClient(stack.apiUrl, stack.adminToken);
  const tenant = await api.createTenant('fuzz');
  await api.close();

  // Admin routes and /metrics are fuzzed with the admin token, the rest with the tenant's key: with
  // the key alone they only ever answer 403 and 401, and no check reaches what they do.
  const config = join(work, 'schemathesis.toml');
  writeFileSync(config, `[[operations]]\ninclude-path-regex = "^/(v1/admin/|metrics$)"\nheaders = { Authorization = "Bearer ${stack.adminToken}" }\n`, { mode: 0o600 });
  const har = join(work, 'requests.har');
  const junit = join(work, 'junit.xml');
  const args = [
    '--config-file', config,
    'run', `${stack.apiUrl}/openapi.json`,
    '--url', stack.apiUrl,
    '--header', `Authorization: Bearer ${tenant.apiKey}`,
    '--checks', CHECKS.join(','),
    '--max-examples', String(MAX_EXAMPLES),
    '--phases', 'examples,coverage,fuzzing,stateful',
    '--request-timeout', '30',
    '--suppress-health-check', 'all',
    '--report', 'har,junit',
    '--report-har-path', har,
    '--report-junit-path', junit,
    ...process.argv.slice(2),
  ];
  console.log(`fuzz: schemathesis ${args.slice(2, 4).join(' ')} … (checks: ${CHECKS.join(', ')})`);
  const code = await new Promise<number>((resolve) => {
    // In the work dir: schemathesis keeps its example database in ./.schemathesis.
    schemathesis = spawn(cli, args, { cwd: work, stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', SCHEMATHESIS_HOOKS: HOOKS, NO_COLOR: '1' } });
    schemathesis.once('exit', (c) => resolve(c ?? 1));
  });

  const entries: HarEntry[] = existsSync(har) ? (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries : [];
  const byStatus: Record<string, number> = {};
  for (const e of entries) byStatus[e.response.status] = (byStatus[e.response.status] ?? 0) + 1;
  const serverErrors = entries.filter((e) => e.response.status >= 500);
  const failures = existsSync(junit) ? (readFileSync(junit, 'utf8').match(/<failure/g) ?? []).length : null;
  const passed = code === 0 && entries.length >= MIN_REQUESTS && serverErrors.length === 0;
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    schemathesisVersion: cli.match(/schemathesis-([\d.]+)/)?.[1],
    checks: CHECKS,
    maxExamples: MAX_EXAMPLES,
    requests: entries.length,
    byStatus,
    serverErrors: serverErrors.map((e) => `${e.response.status} ${e.request.method} ${e.request.url}`).slice(0, 20),
    failedOperations: failures,
    schemathesisExitCode: code,
    passed,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\n| figure | value |\n|---|---|`);
  console.log(`| requests sent | ${entries.length} (at least ${MIN_REQUESTS}) |`);
  console.log(`| answers by status | ${Object.entries(byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')} |`);
  console.log(`| 5xx answers | ${serverErrors.length} |`);
  console.log(`| operations with a failed check | ${failures ?? 'unknown'} |`);
  console.log(`| result | ${passed ? 'pass' : '**FAIL**'} |\n\nresults: ${file}`);
  return passed ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    console.error('\nfuzz: interrupted; stopping everything it started…');
    void stopAll().then(() => process.exit(130));
  });
}
const cap = setTimeout(() => {
  console.error(`\nfuzz: the run exceeded its cap of ${RUN_CAP_MS / 60_000} minutes; stopping everything it started…`);
  void stopAll().then(() => process.exit(1));
}, RUN_CAP_MS);

void main()
  .catch((err: unknown) => {
    console.error(`fuzz: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  })
  .then(async (code) => {
    clearTimeout(cap);
    await stopAll();
    if (code === 0) rmSync(work, { recursive: true, force: true });
    else console.error(`fuzz: logs kept in ${work}`);
    process.exit(code);
  });
