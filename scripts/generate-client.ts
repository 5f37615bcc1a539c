/**
 * `npm run client:generate`: writes the client's types from the current OpenAPI document;
 * `--print` writes them to stdout instead (the unit test compares them with the committed file:
 * openapi-typescript loads ES modules, which jest's CommonJS runtime cannot).
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { runMain } from '../src/run-main';
import { CLIENT_TYPES_PATH, clientTypesSource } from './client-types';

runMain('client:generate', async () => {
  const source = await clientTypesSource();
  if (process.argv.includes('--print')) {
    process.stdout.write(source);
    return;
  }
  writeFileSync(CLIENT_TYPES_PATH, source);
  console.log(`wrote ${relative(process.cwd(), CLIENT_TYPES_PATH)}`);
});
