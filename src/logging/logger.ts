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

/**
 * `contextFields` adds fields of the moment to every line (tracing's `trace_id` and `span_id`, so a
 * line leads to its trace); fields the call passes win.
 */
export function createLogger(level: string, name: string, contextFields?: () => Record<string, string>): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' }, ...(contextFields ? { mixin: contextFields } : {}) });
}
