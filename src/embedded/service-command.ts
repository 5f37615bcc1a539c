/**
 * How `npm start`, the bench and chaos run the API and the worker: the JavaScript that
 * `npm run build` compiled into dist/, with node, as docker-compose.yml does. Through tsx, loading
 * a service cost 2.5 s of CPU and about 35 MB more memory (1.1 s compiled): a worker restarted
 * after a crash polls again sooner, and the API stays under its memory budget.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { heapFlags } from './heap-limits';

export type Service = 'api' | 'worker';

const ROOT = join(__dirname, '..', '..');

/** The command and arguments (its heap settings from `env` included) that run a service; throws when it was not built. */
export function serviceCommand(service: Service, env: NodeJS.ProcessEnv): { command: string; args: string[] } {
  const entry = join(ROOT, 'dist', service, 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  return { command: process.execPath, args: [...heapFlags(service, env), entry] };
}
