import type { Express } from 'express';

interface Layer {
  rawPath?: string | string[];
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

export interface AppRoute {
  method: string;
  /** OpenAPI form: `/v1/webhooks/{id}`. */
  path: string;
}

const join = (base: string, path: string) => (`${base.replace(/\/$/, '')}/${path.replace(/^\//, '')}`.replace(/\/$/, '') || '/');

/** Every route the Express app serves, found by walking its router stack (nested routers included). */
export function appRoutes(app: Express): AppRoute[] {
  const routes: AppRoute[] = [];
  const walk = (stack: Layer[], base: string) => {
    for (const layer of stack) {
      const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
      if (layer.route) {
        const path = join(base, layer.route.path).replace(/:(\w+)/g, '{$1}');
        for (const method of Object.keys(layer.route.methods)) if (method !== '_all') routes.push({ method, path });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, join(base, mount));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '/');
  return routes;
}
