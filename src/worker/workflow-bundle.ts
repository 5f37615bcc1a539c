/**
 * The worker's workflow code, bundled by webpack in a short-lived child process: bundling peaks
 * at well over 100 MB, which would otherwise stay in the long-running worker's resident memory
 * (its peak RSS is one of the benchmark's targets). A supervisor (`npm start`, the bench, the
 * chaos run) bundles once and hands the file to every worker it starts (`WORKFLOW_BUNDLE_FILE`),
 * so a worker restarted after a crash polls again in seconds instead of bundling again; without
 * it, each worker bundles at start from the sources it runs, so a bundle is never stale.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';

const WORKFLOWS_PATH = require.resolve('../workflows');

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode } = require(process.argv[1]);
bundleWorkflowCode({ workflowsPath: process.argv[2], logger: { trace() {}, debug() {}, info() {}, warn: console.error, error: console.error } })
  .then(({ code }) => process.stdout.write(code), (err) => { console.error(err); process.exit(1); });
`;

function bundleInChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', BUNDLE_SCRIPT, require.resolve('@temporalio/worker'), WORKFLOWS_PATH],
      { maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`bundling the workflows failed: ${stderr || err.message}`)) : resolve(stdout)),
    );
  });
}

/** The bundle from `file` (written by a supervisor), else bundled now. */
export async function workflowBundle(file?: string): Promise<{ code: string }> {
  return { code: file ? await readFile(file, 'utf8') : await bundleInChild() };
}

/** Bundles the workflows into `file` (written whole, then renamed into place), for the workers a supervisor starts. */
export async function writeWorkflowBundle(file: string): Promise<void> {
  await writeFile(`${file}.tmp`, await bundleInChild());
  await rename(`${file}.tmp`, file);
}
