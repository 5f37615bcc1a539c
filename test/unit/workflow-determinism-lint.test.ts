import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../..');

/** Runs the project's ESLint (in a child process: its ESM config cannot load inside jest's VM). */
function lint(path: string): { filePath: string; messages: { message: string; severity: number; line: number }[] }[] {
  const run = spawnSync(process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', path], { cwd: root, encoding: 'utf8' });
  return JSON.parse(run.stdout);
}

/** The lint rule that keeps Node built-ins and I/O out of workflow code is part of the build. */
describe('workflow determinism lint', () => {
  it('src/workflows passes', () => {
    const errors = lint('src/workflows').flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(errors).toEqual([]);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'node:fs'],
    ["import mongoose from 'mongoose';\nexport const m = mongoose;\n", 'mongoose'],
    ["import { request } from 'undici';\nexport const r = request;\n", 'undici'],
  ])('refuses I/O imports in a workflow file (%#)', (code, name) => {
    // A real file under src/workflows (the type-aware linter only reads files in the project).
    const probe = `src/workflows/lint-probe-${randomBytes(4).toString('hex')}.ts`;
    writeFileSync(join(root, probe), code);
    try {
      const [result] = lint(probe);
      expect(result.messages.map((m) => m.message).join('\n')).toContain(`'${name}' import is restricted`);
    } finally {
      rmSync(join(root, probe));
    }
  });
});
