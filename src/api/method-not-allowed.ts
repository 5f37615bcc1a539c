/**
 * The methods each documented path serves, from the OpenAPI operations (which a test keeps equal
 * to the routes): another method is 405 with `Allow` (404 stays for paths the API does not serve),
 * HEAD goes wherever GET does, and OPTIONS answers 204 with the same `Allow`.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors';
import type { Operation } from './openapi/operations';

interface PathMethods {
  pattern: RegExp;
  /** Templated segments (`{id}`): a path with fewer wins, as OpenAPI has it (`/v1/events/batch` over `/v1/events/{id}`). */
  templated: number;
  methods: Set<string>;
}

function pathTable(operations: readonly Operation[]): PathMethods[] {
  const byPath = new Map<string, PathMethods>();
  for (const op of operations) {
    const entry = byPath.get(op.path) ?? {
      pattern: new RegExp(`^${op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}/?$`),
      templated: (op.path.match(/\{/g) ?? []).length,
      methods: new Set<string>(),
    };
    entry.methods.add(op.method.toUpperCase());
    if (op.method === 'get') entry.methods.add('HEAD');
    byPath.set(op.path, entry);
  }
  return [...byPath.values()];
}

/** The methods `path` serves, or undefined when no documented path matches it. */
function methodsOf(table: readonly PathMethods[], path: string): Set<string> | undefined {
  const matches = table.filter((p) => p.pattern.test(path));
  if (matches.length === 0) return undefined;
  const fewest = Math.min(...matches.map((p) => p.templated));
  return new Set(matches.filter((p) => p.templated === fewest).flatMap((p) => [...p.methods]));
}

export function methodNotAllowed(operations: readonly Operation[]): RequestHandler {
  const table = pathTable(operations);
  return (req, res, next) => {
    const allowed = methodsOf(table, req.path);
    if (!allowed || allowed.has(req.method)) return next();
    const allow = [...allowed].sort().join(', ');
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow).status(204).end();
      return;
    }
    next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}`, [], { Allow: allow }));
  };
}
