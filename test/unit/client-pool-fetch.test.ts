import { Pool } from 'undici';
import { poolFetch } from '../../bench/pool-fetch';
import { WebhookApiError, WebhookClient } from '../../packages/client/src';
import { errorAnswer, ScriptedApi } from '../support/scripted-api';

/** The bench's client: the typed client over an undici Pool (bench/api-client.ts). */
describe('the typed client over an undici Pool', () => {
  it('sends and reads what fetch would: bodies, headers, 204 and the error shape', async () => {
    const api = await new ScriptedApi((req) => {
      if (req.method === 'DELETE') return { status: 204 };
      if (req.path === '/v1/webhooks/missing') return errorAnswer(404, 'not_found');
      return { status: 202, body: { id: (req.body as { id: string }).id, status: 'accepted', duplicate: false } };
    }).start();
    const pool = new Pool(api.baseUrl, { connections: 2 });
    try {
      const client = new WebhookClient({ baseUrl: api.baseUrl, token: 'whk_pool', fetch: poolFetch(pool), retry: false });
      const accepted = await client.sendEvent({ type: 'invoice.created', data: { amount: 1 } });
      expect(api.requests[0]).toMatchObject({ method: 'POST', path: '/v1/events', body: { id: accepted.id, type: 'invoice.created', data: { amount: 1 } } });
      expect(api.requests[0].headers).toMatchObject({ authorization: 'Bearer whk_pool', 'content-type': 'application/json' });
      await expect(client.deleteWebhook('wh_1')).resolves.toBeUndefined();
      const error = await client.getWebhook('missing').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookApiError);
      expect(error).toMatchObject({ status: 404, code: 'not_found' });
    } finally {
      await pool.close();
      await api.stop();
    }
  });
});
