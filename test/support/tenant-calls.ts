import type { WebhookClient } from '../../packages/client/src';
import { webhookCreatedResponseSchema } from '../../src/api/schemas/webhook';
import { valid } from './shapes';
import type { HarnessContext } from './use-harness';

/**
 * A tenant's API calls in a suite whose tenant is made in `beforeAll` (`token` reads its key
 * then): `call` for raw HTTP (statuses, headers), `client` for the typed client, and `create`: a
 * webhook with the suite's settings on top of defaults whose URL nothing listens on (a
 * webhook-field suite that never sends to it).
 */
export function tenantCalls(ctx: HarnessContext, token: () => string) {
  const call = (method: string, path: string, body?: unknown, key = token()) => ctx.harness.call(method, path, { token: key, body });
  const client = (): WebhookClient => ctx.harness.apiClient(token());
  const create = async (body: Record<string, unknown>) => {
    const webhook = await client().createWebhook({ url: 'http://127.0.0.1:9/hook', events: ['invoice.*'], ...body });
    return valid(webhookCreatedResponseSchema, { webhook }).webhook;
  };
  return { call, client, create };
}
