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

/** `charset=utf-8` (or none): JSON is UTF-8 (RFC 8259); body-parser would decode UTF-16 and UTF-32 too. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Bodies must be JSON in UTF-8: anything else with a body is 415, before a byte of it is read.
 * Only on routes that take bodies, after authentication (see app.ts).
 */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return next();
  if (!req.is('application/json')) return next(new ApiError(415, 'unsupported_media_type', 'request body must be application/json'));
  const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8') {
    return next(new ApiError(415, 'unsupported_media_type', `request body must be UTF-8 JSON, not charset=${charset.slice(0, 32)}`));
  }
  next();
};

/** Parses `application/json` bodies up to `limitBytes`; another type or charset is 415, invalid UTF-8 or nesting past the bound 400. */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    requireJson,
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
