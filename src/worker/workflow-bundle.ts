/**
 * The worker's workflow code, bundled by webpack in a short-lived child process: bundling peaks
 * at well over 100 MB, which would otherwise stay in the long-running worker's resident memory
 * (its peak RSS is one of the benchmark's targets). Bundled at every start from the sources the
 * worker runs, so a bundle can never be stale.
 */
import { execFile } from 'node:child_process';

const BUNDLE_SCRIPT = `
const { bundleWorkflowCode } = require(process.argv[1]);
bundleWorkflowCode({ workflowsPath: process.argv[2], logger: { trace() {}, debug() {}, info() {}, warn: console.error, error: console.error } })
  .then(({ code }) => process.stdout.write(code), (err) => { console.error(err); process.exit(1); });
`;

export function bundleWorkflowsInChild(workflowsPath: string): Promise<{ code: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', BUNDLE_SCRIPT, require.resolve('@temporalio/worker'), workflowsPath],
      { maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`bundling the workflows failed: ${stderr || err.message}`)) : resolve({ code: stdout })),
    );
  });
}
