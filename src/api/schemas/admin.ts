import { z } from 'zod';
import { cursorSchema } from '../list-cursor';
import { storedText } from './stored-text';

const timestamp = z.iso.datetime();
const apiKey = z.string().regex(/^whk_/).meta({ description: 'Shown once: only its hash is stored.' });

export const tenantInputSchema = z.strictObject({ name: storedText().trim().min(1).max(200) });
export const tenantParamsSchema = z.strictObject({ tenantId: z.string().min(1).max(64) });
export const apiKeyParamsSchema = tenantParamsSchema.extend({ keyId: z.string().min(1).max(64) });

export const tenantCreatedResponseSchema = z.strictObject({
  tenant: z.strictObject({ id: z.string().regex(/^ten_/), name: z.string(), createdAt: timestamp }),
  apiKey,
  apiKeyId: z.string().regex(/^key_/),
});

export const apiKeyIssuedResponseSchema = z.strictObject({ id: z.string().regex(/^key_/), apiKey });

export const apiKeyListResponseSchema = z.strictObject({
  apiKeys: z.array(
    z.strictObject({
      id: z.string(),
      prefix: z.string().meta({ description: 'The key\'s public start (`whk_<lookup>`), to recognise it; never the key.' }),
      createdAt: timestamp,
      revokedAt: timestamp.nullable(),
    }),
  ),
});

/** A tenant as the admin routes show it. */
export const tenantSchema = z.strictObject({
  id: z.string().regex(/^ten_/),
  name: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp.meta({ description: 'Its last rename (its creation if never renamed).' }),
});

export const tenantResponseSchema = z.strictObject({ tenant: tenantSchema });

export const tenantListQuerySchema = z.strictObject({
  name: storedText()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Tenants whose name starts with this, ignoring case (`acme` finds `Acme Corp`, not `Big Acme`).' }),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

export const tenantListResponseSchema = z.strictObject({
  tenants: z.array(tenantSchema).meta({ description: 'Live tenants (never deleted ones), newest first.' }),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last.' }),
});
