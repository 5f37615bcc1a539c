/**
 * 405 for a path the API serves with another method (TRACE, or DELETE on /v1/events, ...), with
 * the `Allow` header; 404 stays for paths it does not serve. The paths and methods come from the
 * OpenAPI operations, which a test keeps equal to the routes.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors';
import type { Operation } from './openapi/operations';

export function methodNotAllowed(operations: readonly Operation[]): RequestHandler {
  const patterns = operations.map((op) => ({
    method: op.method.toUpperCase(),
    path: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`),
  }));
  return (req, _res, next) => {
    const allowed = new Set(patterns.filter((p) => p.path.test(req.path)).map((p) => p.method));
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    if (allowed.has('GET')) allowed.add('HEAD');
    const allow = [...allowed].sort().join(', ');
    next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}`, [], { Allow: allow }));
  };
}
