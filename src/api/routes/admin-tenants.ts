import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Models } from '../../models';
import { tenantNameKey, type TenantDoc } from '../../models/tenant';
import { literal } from '../../temporal/literal';
import { removeTenantAccess } from '../../tenants/tenant-removal';
import { TenantDeletionWorkflow } from '../../workflows/tenant-deletion-workflow';
import type { ApiKeyCache } from '../api-key-cache';
import { notFound } from '../errors';
import { encodeCursor } from '../list-cursor';
import { tenantInputSchema, tenantListQuerySchema, tenantParamsSchema } from '../schemas/admin';
import { route } from '../validate';

/** The tenant deletion workflow's id: one per tenant, so a repeated DELETE finds the running one. */
export const tenantDeletionWorkflowId = (tenantId: string) => `tenant-deletion/${tenantId}`;

export const tenantView = (doc: Pick<TenantDoc, '_id' | 'name' | 'createdAt' | 'updatedAt'>) => ({
  id: doc._id,
  name: doc.name,
  createdAt: doc.createdAt.toISOString(),
  updatedAt: (doc.updatedAt ?? doc.createdAt).toISOString(),
});

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `/v1/admin/tenants` (list, search by name prefix) and `/v1/admin/tenants/{id}` (read, rename,
 * delete). A deleted tenant is gone from all of them (404), but DELETE, which stays 204 and runs
 * its cleanup again. Mounted behind adminAuth.
 */
export function adminTenantsRouter(models: Models, apiKeys: ApiKeyCache, temporal: Client, taskQueue: string): Router {
  const router = Router();
  const { Tenant } = models;

  router.get(
    '/tenants',
    route({ query: tenantListQuerySchema }, async ({ query }, _req, res) => {
      const filter: Record<string, unknown> = { state: 'live' };
      // An anchored, case-sensitive regex over the lower-cased name: MongoDB reads it as an index range.
      if (query.name) filter.nameKey = { $regex: `^${escapeRegex(tenantNameKey(query.name))}` };
      const after = query.cursor;
      if (after) filter.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
      const docs = await Tenant.find(filter).sort({ createdAt: -1, _id: -1 }).limit(query.limit + 1).lean<TenantDoc[]>();
      const tenants = docs.slice(0, query.limit);
      const last = tenants[tenants.length - 1];
      res.json({
        tenants: tenants.map(tenantView),
        nextCursor: docs.length > query.limit ? encodeCursor({ createdAt: last.createdAt, id: last._id }) : null,
      });
    }),
  );

  router.get(
    '/tenants/:tenantId',
    route({ params: tenantParamsSchema }, async ({ params }, _req, res) => {
      const doc = await Tenant.findOne({ _id: params.tenantId, state: 'live' }).lean<TenantDoc>();
      if (!doc) throw notFound('tenant');
      res.json({ tenant: tenantView(doc) });
    }),
  );

  router.patch(
    '/tenants/:tenantId',
    route({ params: tenantParamsSchema, body: tenantInputSchema }, async ({ params, body }, _req, res) => {
      const doc = await Tenant.findOneAndUpdate(
        { _id: params.tenantId, state: 'live' },
        { $set: { name: body.name, nameKey: tenantNameKey(body.name) } },
        { returnDocument: 'after' },
      ).lean<TenantDoc>();
      if (!doc) throw notFound('tenant');
      res.json({ tenant: tenantView(doc) });
    }),
  );

  router.delete(
    '/tenants/:tenantId',
    route({ params: tenantParamsSchema }, async ({ params }, _req, res) => {
      const tenantId = params.tenantId;
      const doc = await Tenant.findById(tenantId).select({ state: 1 }).lean();
      if (!doc) throw notFound('tenant');
      // The first deletion's time is kept: the retention clock of the record runs from it.
      if (doc.state !== 'deleted') await Tenant.updateOne({ _id: tenantId, state: 'live' }, { $set: { state: 'deleted', deletedAt: new Date() } });
      // This process stops trusting the tenant's keys before they are revoked, and again after
      // (a key read meanwhile is not cached); other API processes within API_KEY_CACHE_SECONDS.
      apiKeys.revokeTenant(tenantId);
      const { keyIds } = await removeTenantAccess(models, tenantId);
      for (const keyId of keyIds) apiKeys.revoke(keyId);
      apiKeys.revokeTenant(tenantId);
      // Durably, whatever happens to this process: deliveries still retrying are canceled now.
      await temporal.workflow
        .start(TenantDeletionWorkflow, {
          workflowId: tenantDeletionWorkflowId(tenantId),
          taskQueue,
          args: [tenantId],
          staticSummary: `delete tenant ${literal(tenantId)}: cancel its deliveries`,
        })
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        });
      res.status(204).end();
    }),
  );

  return router;
}
