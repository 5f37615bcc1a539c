import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OPERATIONS } from '../../src/api/openapi/operations';

const ROOT = join(__dirname, '../..');
const CLIENT_TYPES_PATH = join(ROOT, 'packages/client/src/openapi.ts');

/** The types `npm run client:generate` would write now, from the current document (nothing is written). */
async function regenerated(): Promise<string> {
  const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), ['scripts/generate-client.ts', '--print'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('the client types (packages/client/src/openapi.ts)', () => {
  it('are kept equal to the current OpenAPI document', async () => {
    const committed = readFileSync(CLIENT_TYPES_PATH, 'utf8');
    if (committed !== (await regenerated())) {
      throw new Error('packages/client/src/openapi.ts differs from the OpenAPI document the API serves: run `npm run client:generate` and commit the file');
    }
  });

  it('name every route of the document, so the client reaches each one typed', () => {
    const committed = readFileSync(CLIENT_TYPES_PATH, 'utf8');
    const missing = OPERATIONS.filter((op) => !committed.includes(`    "${op.path}": {`));
    expect(missing.map((op) => op.path)).toEqual([]);
  });
});
