/**
 * The test runner behind `npm test`: starts a throw-away Temporal dev server and MongoDB-wire
 * server on free ports (unless TEMPORAL_ADDRESS / MONGODB_URI point elsewhere), runs jest with
 * every suite, stops what it started even when tests fail, and prints `tests: N passed, N failed`
 * from jest's JSON result as its last line.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMongoWireServer } from '../src/embedded/mongo-wire-server';
import { freePort } from '../src/embedded/ports';
import { startTemporalDevServer } from '../src/embedded/temporal-dev-server';

interface JestResult {
  numPassedTests: number;
  numFailedTests: number;
  numRuntimeErrorTestSuites: number;
  numTotalTests: number;
}

const started: Array<{ stop(): Promise<void> }> = [];
const stopAll = () => Promise.all(started.splice(0).map((p) => p.stop()));

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'webhook-service-test-'));
  // PostgreSQL runs as its own user when this is root, and must be able to enter this directory.
  chmodSync(work, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' };
  let summary = 'tests: 0 passed, 0 failed';
  let code = 1;
  try {
    if (!env.TEMPORAL_ADDRESS) {
      const temporal = await startTemporalDevServer({
        cli: env.TEMPORAL_CLI as string,
        port: await freePort(),
        namespace: 'default',
        logFile: join(work, 'temporal.log'),
      });
      started.push(temporal.process);
      env.TEMPORAL_ADDRESS = temporal.address;
    }
    if (!env.MONGODB_URI) {
      const mongo = await startMongoWireServer({
        port: await freePort(),
        dataDir: join(work, 'mongo'),
        logFile: join(work, 'mongo.log'),
        tools: env,
      });
      started.push(mongo.process);
      env.MONGODB_URI = mongo.uri('webhook_service_test');
    }
    const resultsFile = join(work, 'jest-results.json');
    const jestCode = await new Promise<number>((resolve) => {
      const jest = spawn(
        process.execPath,
        ['node_modules/jest/bin/jest.js', '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)],
        { env, stdio: 'inherit' },
      );
      jest.once('exit', (c) => resolve(c ?? 1));
    });
    if (existsSync(resultsFile)) {
      const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as JestResult;
      // A suite that fails to load runs no test: count it as a failure, never as nothing.
      const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
      summary = `tests: ${r.numPassedTests} passed, ${failed} failed`;
      code = jestCode === 0 && failed === 0 && r.numTotalTests > 0 ? 0 : 1;
    } else {
      summary = 'tests: 0 passed, 1 failed';
    }
  } catch (err) {
    console.error(`npm test: ${err instanceof Error ? err.message : String(err)}`);
    summary = 'tests: 0 passed, 1 failed';
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(summary);
  return code;
}

// `on`, not `once`: a signal can arrive twice (directly and relayed by tsx); the second must
// not kill this process before it has stopped the servers it started.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    void stopAll().then(() => process.exit(130));
  });
}

void main().then((code) => process.exit(code));
