import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CUSTOM_HEADER_LIMITS, HEADER_NAME, HEADER_VALUE, RESERVED_HEADER } from '../api/schemas/custom-headers';

/** A webhook's transformation as stored and shown: the code, and whether it runs. */
export interface StoredTransformation {
  code: string;
  enabled: boolean;
}

/** Largest code a webhook may carry (UTF-8 bytes). */
export const TRANSFORMATION_CODE_MAX_BYTES = 64 * 1024;

/** Largest body a transformation may produce (UTF-8 bytes): a receiver's request, bounded like an event's. */
export const TRANSFORMED_BODY_MAX_BYTES = 1024 * 1024;

/** What `handler(webhook)` gets: the request the service would send. */
export interface TransformationInput {
  eventType: string;
  eventId: string;
  url: string;
  method: 'POST';
  /** The webhook's custom headers; sensitive ones are sent as stored, their values never shown here. */
  headers: Record<string, string>;
  /** The body: the event envelope, or a connector format's default rendering. */
  payload: unknown;
}

/** The request after the transformation, or its decision that none is sent. */
export type TransformationOutput =
  | { cancel: true }
  | { cancel: false; url: string; method: 'POST' | 'PUT'; headers: Record<string, string>; payload: unknown };

/** The version of a transformation's code that ran, as the attempt log records it: 16 hex digits of its SHA-256. */
export function codeVersion(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex').slice(0, 16);
}

const resultSchema = z.looseObject({
  cancel: z.boolean().optional(),
  url: z.string().min(1).max(2048).regex(/^https?:\/\//i, 'url must be an http(s) URL'),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(['POST', 'PUT'], 'method must be POST or PUT')),
  headers: z.record(z.string(), z.string()).superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > CUSTOM_HEADER_LIMITS.count) ctx.addIssue({ code: 'custom', message: `at most ${CUSTOM_HEADER_LIMITS.count} headers` });
    for (const name of names) {
      const problem = !HEADER_NAME.test(name)
        ? 'header names must be RFC 7230 tokens'
        : RESERVED_HEADER.test(name)
          ? 'is reserved and cannot be set'
          : headers[name].length > CUSTOM_HEADER_LIMITS.valueLength || !HEADER_VALUE.test(headers[name])
            ? `values may hold at most ${CUSTOM_HEADER_LIMITS.valueLength} visible ASCII characters, space and tab`
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
    }
  }),
  payload: z.unknown().refine((p) => p !== undefined && p !== null, 'payload is missing'),
});

/** A transformation's result as the sandbox returned it (JSON text), checked; throws with what is wrong. */
export function transformationOutput(json: string): TransformationOutput {
  const value: unknown = JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('handler must return an object (the webhook, changed)');
  if ((value as { cancel?: unknown }).cancel === true) return { cancel: true };
  const parsed = resultSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new Error(`handler returned a wrong shape: ${where}${issue.message}`);
  }
  const { url, method, headers, payload } = parsed.data;
  return { cancel: false, url, method, headers, payload };
}
