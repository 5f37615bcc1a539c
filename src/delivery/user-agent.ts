import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let version: string | undefined;

/** The product's version, from package.json. */
export function productVersion(): string {
  version ??= (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** `User-Agent` of every outbound request: names the product and its version. */
export function userAgent(): string {
  return `webhook-service/${productVersion()}`;
}
