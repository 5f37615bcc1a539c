import type { z } from 'zod';
import { errorResponseSchema } from '../../src/api/schemas/error';

/** Parses an API answer with the schema the OpenAPI document publishes for it; fails the test otherwise. */
export function valid<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (!result.success) throw new Error(`response does not match its schema: ${JSON.stringify(result.error.issues)}\n${JSON.stringify(body)}`);
  return result.data;
}

/** An error answer: the one error shape, the expected status, and the field paths it names. */
export function expectError(res: { status: number; body: unknown }, status: number, code?: string): { path: string; message: string }[] {
  expect(res.status).toBe(status);
  const { error } = valid(errorResponseSchema, res.body);
  if (code) expect(error.code).toBe(code);
  return error.details;
}

export const pathsOf = (details: { path: string }[]) => details.map((d) => d.path).sort();
