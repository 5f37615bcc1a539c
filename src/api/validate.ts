import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { ApiError, zodDetails } from './errors';

export interface RouteSchema {
  body?: z.ZodType;
  query?: z.ZodType;
  params?: z.ZodType;
}

type Parsed<S extends RouteSchema> = {
  [K in keyof S]: S[K] extends z.ZodType ? z.output<S[K]> : never;
};

/**
 * Wraps a handler with one zod schema for `{ body, query, params }`: the handler receives parsed,
 * typed input, and a failure answers 400 with every field path named.
 */
export function route<S extends RouteSchema>(
  schema: S,
  handler: (input: Parsed<S>, req: Request, res: Response) => Promise<void> | void,
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const input: Record<string, unknown> = {};
    const details = [];
    for (const part of ['params', 'query', 'body'] as const) {
      const partSchema = schema[part];
      if (!partSchema) continue;
      const result = partSchema.safeParse(req[part] ?? (part === 'body' ? undefined : {}));
      if (result.success) input[part] = result.data;
      else details.push(...zodDetails(result.error, part === 'body' ? [] : [part]));
    }
    if (details.length) return next(new ApiError(400, 'validation_failed', 'request is invalid', details));
    await handler(input as Parsed<S>, req, res);
  };
}
