import { Router } from 'express';
import { EVENT_TYPE_CATALOGUE } from '../../events/event-type-catalogue';
import { exampleEvent } from '../../events/event-type-example';
import type { Models } from '../../models';
import { eventTypeListQuerySchema, type EventTypeList } from '../schemas/event-type';
import { route } from '../validate';

/** `GET /v1/event-types`: the built-in catalogue plus every type the tenant has sent, by name. */
export function eventTypesRouter(models: Models): Router {
  const router = Router();
  const builtIn = new Set(EVENT_TYPE_CATALOGUE.map((t) => t.name));

  router.get(
    '/',
    route({ query: eventTypeListQuerySchema }, async (_input, _req, res) => {
      const tenantId = res.locals.tenantId as string;
      const sent: string[] = await models.Event.distinct('type', { tenantId });
      const eventTypes: EventTypeList['eventTypes'] = [
        ...EVENT_TYPE_CATALOGUE.map((t) => ({ ...t, builtIn: true, example: exampleEvent(t.name, tenantId) })),
        ...sent.filter((name) => !builtIn.has(name)).map((name) => ({ name, description: null, builtIn: false, example: null })),
      ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      res.json({ eventTypes });
    }),
  );
  return router;
}
