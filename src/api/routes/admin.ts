import { Router } from 'express';
import { z } from 'zod';
import { issueApiKey } from '../../crypto/api-key';
import { newId } from '../../ids';
import type { Models } from '../../models';
import { notFound } from '../errors';
import { route } from '../validate';

const tenantParams = z.strictObject({ tenantId: z.string().min(1).max(64) });

/** `/v1/admin/*`: tenants and their API keys. Mounted behind adminAuth. */
export function adminRouter(models: Models): Router {
  const router = Router();

  async function createApiKey(tenantId: string) {
    const issued = issueApiKey();
    const id = newId('key');
    await models.ApiKey.create({ _id: id, tenantId, lookup: issued.lookup, hash: issued.hash });
    return { id, apiKey: issued.apiKey };
  }

  router.post(
    '/tenants',
    route({ body: z.strictObject({ name: z.string().trim().min(1).max(200) }) }, async ({ body }, _req, res) => {
      const tenant = await models.Tenant.create({ _id: newId('ten'), name: body.name });
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
    route({ params: tenantParams }, async ({ params }, _req, res) => {
      if (!(await models.Tenant.exists({ _id: params.tenantId }))) throw notFound('tenant');
      res.status(201).json(await createApiKey(params.tenantId));
    }),
  );

  router.delete(
    '/tenants/:tenantId/api-keys/:keyId',
    route({ params: tenantParams.extend({ keyId: z.string().min(1).max(64) }) }, async ({ params }, _req, res) => {
      const result = await models.ApiKey.updateOne(
        { _id: params.keyId, tenantId: params.tenantId, revokedAt: null },
        { $set: { revokedAt: new Date() } },
      );
      if (result.matchedCount === 0) throw notFound('API key');
      res.status(204).end();
    }),
  );

  return router;
}
