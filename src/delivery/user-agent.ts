import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | undefined;

/** `User-Agent` of every outbound request: names the product and its version. */
export function userAgent(): string {
  cached ??= `webhook-service/${(JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version}`;
  return cached;
}
