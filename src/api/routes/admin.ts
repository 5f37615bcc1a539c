import { Router } from 'express';
import { API_KEY_PREFIX, issueApiKey } from '../../crypto/api-key';
import { newId } from '../../ids';
import type { Models } from '../../models';
import { tenantNameKey } from '../../models/tenant';
import type { ApiKeyCache } from '../api-key-cache';
import { notFound } from '../errors';
import { apiKeyParamsSchema, tenantInputSchema, tenantParamsSchema } from '../schemas/admin';
import { route } from '../validate';

/** `/v1/admin/*`: creating tenants, and their API keys (admin-tenants.ts lists, renames and deletes them). Mounted behind adminAuth. */
export function adminRouter(models: Models, apiKeys: ApiKeyCache): Router {
  const router = Router();

  async function createApiKey(tenantId: string) {
    const issued = issueApiKey();
    const id = newId('key');
    await models.ApiKey.create({ _id: id, tenantId, lookup: issued.lookup, hash: issued.hash });
    return { id, apiKey: issued.apiKey };
  }

  async function requireTenant(tenantId: string): Promise<void> {
    if (!(await models.Tenant.exists({ _id: tenantId, state: 'live' }))) throw notFound('tenant');
  }

  router.post(
    '/tenants',
    route({ body: tenantInputSchema }, async ({ body }, _req, res) => {
      const tenant = await models.Tenant.create({ _id: newId('ten'), name: body.name, nameKey: tenantNameKey(body.name), state: 'live' });
      const key = await createApiKey(tenant._id);
      res.status(201).json({
        tenant: { id: tenant._id, name: tenant.name, createdAt: tenant.createdAt.toISOString() },
        apiKey: key.apiKey,
        apiKeyId: key.id,
      });
    }),
  );

  router.post(
    '/tenants/:tenantId/api-keys',
    route({ params: tenantParamsSchema }, async ({ params }, _req, res) => {
      await requireTenant(params.tenantId);
      res.status(201).json(await createApiKey(params.tenantId));
    }),
  );

  router.get(
    '/tenants/:tenantId/api-keys',
    route({ params: tenantParamsSchema }, async ({ params }, _req, res) => {
      await requireTenant(params.tenantId);
      const keys = await models.ApiKey.find({ tenantId: params.tenantId }).sort({ createdAt: 1 }).lean();
      res.json({
        apiKeys: keys.map((k) => ({
          id: k._id,
          prefix: `${API_KEY_PREFIX}${k.lookup}`,
          createdAt: k.createdAt.toISOString(),
          revokedAt: k.revokedAt?.toISOString() ?? null,
        })),
      });
    }),
  );

  router.delete(
    '/tenants/:tenantId/api-keys/:keyId',
    route({ params: apiKeyParamsSchema }, async ({ params }, _req, res) => {
      // Idempotent: revoking a revoked key is 204 again and keeps the first revocation time.
      const key = await models.ApiKey.findOne({ _id: params.keyId, tenantId: params.tenantId }).lean();
      if (!key) throw notFound('API key');
      if (!key.revokedAt) await models.ApiKey.updateOne({ _id: key._id, revokedAt: null }, { $set: { revokedAt: new Date() } });
      apiKeys.revoke(key._id);
      res.status(204).end();
    }),
  );

  return router;
}
