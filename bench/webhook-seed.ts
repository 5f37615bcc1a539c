/**
 * Seeds thousands of webhooks for the big fan-out straight into MongoDB through the product's
 * own models, the secret encrypted with the stack's key, as test/integration/fanout-at-scale
 * does: creating 10,000 through the API one by one would spend minutes of the run's budget and
 * measure nothing the other phases do not.
 */
import { SecretBox } from '../src/crypto/secret-box';
import { connectMongo } from '../src/models';
import { generateWebhookSecret } from '../src/signing/webhook-secret';
import type { Tenant } from './api-client';
import { SECRETS_KEY_ID, type BenchStack } from './stack';

export function webhookSeeder(stack: BenchStack, webhooks: number, eventType: string) {
  return async (tenant: Tenant, urlOf: (i: number) => string): Promise<void> => {
    const { conn, models } = await connectMongo(stack.mongodbUri);
    try {
      const secret = new SecretBox(SECRETS_KEY_ID, stack.secretsKey).encrypt(generateWebhookSecret());
      const docs = Array.from({ length: webhooks }, (_, i) => ({
        _id: `wh_bench${String(i).padStart(6, '0')}`,
        tenantId: tenant.tenantId,
        url: urlOf(i),
        events: [eventType],
        timeoutSeconds: 10,
        secret,
      }));
      for (let i = 0; i < docs.length; i += 1000) await models.Webhook.insertMany(docs.slice(i, i + 1000));
    } finally {
      await conn.close();
    }
  };
}
