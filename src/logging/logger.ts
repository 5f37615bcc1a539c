import pino, { type Logger } from 'pino';

/**
 * Defense in depth: request lines carry no headers or bodies at all (see api/app.ts); these
 * fields are redacted wherever else they might be passed to a log call.
 */
const REDACT = [
  '*.authorization',
  '*.apiKey',
  '*.secret',
  '*.adminToken',
  '*.secretsKey',
  // Inbound sources' ingest URLs carry their token (a credential).
  '*.ingestUrl',
  '*.previousIngestUrl',
];

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } });
}
