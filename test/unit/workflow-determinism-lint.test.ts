import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../..');

interface LintResult {
  filePath: string;
  messages: { message: string; severity: number; line: number }[];
}

/**
 * Runs the project's ESLint (in a child process: its ESM config cannot load inside jest's VM) on
 * `path`, or on `code` linted as if it were the file at `path` (stdin): nothing is written into
 * the source tree. The type-aware linter only knows files of the project, so `path` must exist.
 */
function lint(path: string, code?: string): LintResult[] {
  const args = [join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', ...(code === undefined ? [path] : ['--stdin', '--stdin-filename', path])];
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', input: code });
  return JSON.parse(run.stdout);
}

const errors = (results: LintResult[]) => results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => m.message));

/** The lint rule that keeps Node built-ins and I/O out of workflow code is part of the build. */
describe('workflow determinism lint', () => {
  it('src/workflows passes', () => {
    const found = lint('src/workflows').flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(found).toEqual([]);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'node:fs'],
    ["import mongoose from 'mongoose';\nexport const m = mongoose;\n", 'mongoose'],
    ["import { request } from 'undici';\nexport const r = request;\n", 'undici'],
  ])('refuses I/O imports in a workflow file (%#)', (code, name) => {
    const refusal = `'${name}' import is restricted from being used. Workflow code must stay deterministic: do I/O in an activity.`;
    expect(errors(lint('src/workflows/index.ts', code))).toEqual([refusal]);
  });

  it('lets activities import I/O', () => {
    expect(errors(lint('src/activities/index.ts', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n"))).toEqual([]);
  });
});
