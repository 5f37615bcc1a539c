import type { Request } from 'express';

/**
 * The pattern of the route that answered a request (`/v1/webhooks/:id`), once routed; undefined
 * when none matched. Ids in the path become `:name`: metrics labels and span names stay few.
 */
export function routePattern(req: Request): string | undefined {
  if (!req.route) return undefined;
  let route = req.baseUrl + (req.route.path as string);
  for (const [name, value] of Object.entries(req.params ?? {})) route = route.replace(`/${value}`, `/:${name}`);
  return route.replace(/(.)\/$/, '$1');
}
