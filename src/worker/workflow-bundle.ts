/**
 * The worker's workflow code, bundled by webpack in a short-lived child process: bundling peaks
 * at well over 100 MB, which would otherwise stay in the long-running worker's resident memory
 * (its peak RSS is one of the benchmark's targets). A supervisor (`npm start`, the bench, the
 * chaos run) bundles once and hands the file to every worker it starts (`WORKFLOW_BUNDLE_FILE`),
 * so a worker restarted after a crash polls again in seconds instead of bundling again; without
 * it, each worker bundles at start from the sources it runs, so a bundle is never stale.
 *
 * With tracing on (docs/operations.md, "Tracing") the bundle includes the SDK's OpenTelemetry
 * workflow interceptors, and only then. Its build id stays the one of the same code bundled
 * without them: turning tracing on or off is not a new build (the replay test proves histories
 * replay either way), so traced and untraced workers poll as one version.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { buildIdOf } from '../temporal/worker-deployment';
import { tracingOn } from '../tracing/tracing';

const WORKFLOWS_PATH = require.resolve('../workflows');
/** The SDK's module of OpenTelemetry workflow interceptors (an `interceptors` factory). */
const TRACING_INTERCEPTORS = '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
/** First line of a traced bundle's file, followed by its build id: a worker reads which kind it was handed. */
const TRACED_MARK = '// webhook-service workflow bundle with tracing interceptors; build id ';

export interface WorkflowBundle {
  code: string;
  /** The build id this code polls as unless WORKER_BUILD_ID names one: a hash of the untraced bundle. */
  buildId: string;
  /** Whether it includes the OpenTelemetry workflow interceptors. */
  traced: boolean;
}

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode } = require(process.argv[1]);
const logger = { trace() {}, debug() {}, info() {}, warn: console.error, error: console.error };
const bundle = (modules) => bundleWorkflowCode({ workflowsPath: process.argv[2], workflowInterceptorModules: modules, logger }).then((b) => b.code);
(async () => {
  const interceptors = process.argv[3];
  const code = await bundle(interceptors ? [interceptors] : []);
  const untraced = interceptors ? await bundle([]) : code;
  process.stdout.write(JSON.stringify({ code, untraced }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

function bundleInChild(traced: boolean): Promise<WorkflowBundle> {
  const args = ['-e', BUNDLE_SCRIPT, require.resolve('@temporalio/worker'), WORKFLOWS_PATH, ...(traced ? [require.resolve(TRACING_INTERCEPTORS)] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`bundling the workflows failed: ${stderr || err.message}`));
      const { code, untraced } = JSON.parse(stdout) as { code: string; untraced: string };
      resolve({ code, buildId: buildIdOf(untraced), traced });
    });
  });
}

/** The bundle as its file holds it: an untraced one is the bare code (its build id its hash). */
function fromFile(text: string): WorkflowBundle {
  if (!text.startsWith(TRACED_MARK)) return { code: text, buildId: buildIdOf(text), traced: false };
  const lineEnd = text.indexOf('\n');
  return { code: text.slice(lineEnd + 1), buildId: text.slice(TRACED_MARK.length, lineEnd), traced: true };
}

/**
 * The bundle from `file` (written by a supervisor), else bundled now; with the tracing interceptors
 * when `traced`. A file bundled for the other choice is refused: its worker would break the traces
 * (no workflow spans, no context to activities) or load what tracing off must not.
 */
export async function workflowBundle(file?: string, traced = tracingOn()): Promise<WorkflowBundle> {
  if (!file) return bundleInChild(traced);
  const bundle = fromFile(await readFile(file, 'utf8'));
  if (bundle.traced !== traced) {
    const was = bundle.traced ? 'with' : 'without';
    throw new Error(`WORKFLOW_BUNDLE_FILE ${file} was bundled ${was} tracing, but this worker's OTEL_* settings say tracing is ${traced ? 'on' : 'off'}: bundle it again with the same settings, or unset WORKFLOW_BUNDLE_FILE`);
  }
  return bundle;
}

/** Bundles the workflows into `file` (written whole, then renamed into place), for the workers a supervisor starts with the same OTEL_* settings. */
export async function writeWorkflowBundle(file: string, traced = tracingOn()): Promise<void> {
  const bundle = await bundleInChild(traced);
  await writeFile(`${file}.tmp`, bundle.traced ? `${TRACED_MARK}${bundle.buildId}\n${bundle.code}` : bundle.code);
  await rename(`${file}.tmp`, file);
}
