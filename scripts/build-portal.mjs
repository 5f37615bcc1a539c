// npm run build:portal: the portal's pages into dist/portal-web. The page's TypeScript modules
// become one script (assets/main.js): a page load then fetches, checks in the HTTP cache and
// compiles one file instead of eleven, which was most of what the browser spent before the
// page's first API call (bench/README.md, the portal section). Type checking is `tsc --noEmit`
// before this runs.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist', 'portal-web');

// No module of an earlier, unbundled build may be left to be served.
rmSync(out, { recursive: true, force: true });
cpSync(join(root, 'src', 'portal', 'web', 'static'), out, { recursive: true });
await build({
  entryPoints: [join(root, 'src', 'portal', 'web', 'main.ts')],
  outfile: join(out, 'assets', 'main.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
});
