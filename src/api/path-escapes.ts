/**
 * A path with a malformed percent-escape (`%ZZ`, `%FF`: not UTF-8) is 400 before anything else
 * reads it, with or without credentials, instead of the router's URIError deep inside a route.
 */
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

export const wellFormedPath: RequestHandler = (req, _res, next) => {
  if (!req.path.includes('%')) return next();
  try {
    decodeURIComponent(req.path);
    next();
  } catch {
    next(new ApiError(400, 'invalid_path', 'the path has a malformed percent-escape'));
  }
};
