import { webhookCreatedResponseSchema } from '../../src/api/schemas/webhook';
import { valid } from './shapes';
import type { HarnessContext } from './use-harness';

/**
 * A tenant's API calls in a suite whose tenant is made in `beforeAll` (`token` reads its key
 * then), and `create`: a webhook with the suite's settings on top of defaults whose URL nothing
 * listens on (a webhook-field suite that never sends to it).
 */
export function tenantCalls(ctx: HarnessContext, token: () => string) {
  const call = (method: string, path: string, body?: unknown, key = token()) => ctx.harness.call(method, path, { token: key, body });
  const create = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['invoice.*'], ...body });
    expect(res.status).toBe(201);
    return valid(webhookCreatedResponseSchema, res.body).webhook;
  };
  return { call, create };
}
