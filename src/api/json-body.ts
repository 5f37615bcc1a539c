/**
 * JSON request bodies: strict UTF-8, a bound on nesting, no `__proto__` keys. All are checked before any route
 * runs, so a batch with one bad event is refused whole and nothing of it is accepted. Deeply
 * nested JSON is valid but useless to a receiver, and recursive code (hashing, signing, storing)
 * would overflow the stack on it.
 */
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors';

/** Deepest nesting of objects and arrays accepted in a body (the body itself is level 1). */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * What is wrong with a parsed body's shape, if anything: nesting deeper than `maxDepth` levels,
 * or a `__proto__` key, which every JavaScript object it passes through (validation, storage, a
 * receiver's parser) would drop silently or be polluted by. Iterative, so any depth is safe.
 */
export function bodyShapeProblem(body: unknown, maxDepth: number): { path?: string; message: string } | undefined {
  const stack: [unknown, number, string[]][] = [[body, 1, []]];
  while (stack.length > 0) {
    const [node, depth, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > maxDepth) return { message: `request body nests objects or arrays deeper than ${maxDepth} levels` };
    for (const [key, child] of Object.entries(node)) {
      if (key === '__proto__' && !Array.isArray(node)) return { path: [...path, key].join('.'), message: '__proto__ cannot be used as a key' };
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1, [...path, key]]);
    }
  }
  return undefined;
}

/** Parses `application/json` bodies up to `limitBytes`; invalid UTF-8 or nesting past the bound is 400. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    express.json({
      limit: limitBytes,
      type: 'application/json',
      // A throw here reaches the error handler as `entity.verify.failed` (see errors.ts).
      verify: (_req, _res, buffer) => void utf8.decode(buffer),
    }),
    (req, _res, next) => {
      const problem = bodyShapeProblem(req.body, MAX_JSON_DEPTH);
      if (!problem) return next();
      next(
        problem.path
          ? new ApiError(400, 'validation_failed', 'request is invalid', [{ path: problem.path, message: problem.message }])
          : new ApiError(400, 'invalid_json', problem.message),
      );
    },
  ];
}
