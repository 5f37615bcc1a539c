import { z } from 'zod';
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
