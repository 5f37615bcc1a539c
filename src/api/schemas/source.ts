import { z } from 'zod';
import { isStandardWebhooksSecret } from '../../sources/standard-webhooks';
import { cursorSchema } from '../list-cursor';
import { storedText } from './stored-text';

const timestamp = z.iso.datetime();
/** An HTTP header name (RFC 9110 token), compared in lowercase as Node gives them. */
const headerName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')
  .transform((name) => name.toLowerCase());
const secret = z.string().min(1).max(512);
const name = storedText().min(1).max(200);

/** Settings of a generic `hmac` source; omitted ones take their defaults (sources/hmac.ts). */
export const hmacSettingsInputSchema = z
  .strictObject({
    header: headerName.meta({ description: 'Request header carrying the signature, e.g. `X-Signature`.' }),
    algorithm: z.enum(['sha256', 'sha512']).optional().meta({ description: 'HMAC-SHA256 or HMAC-SHA512 of the raw body, keyed with the secret\'s UTF-8 bytes. @default sha256' }),
    encoding: z.enum(['hex', 'base64']).optional().meta({ description: 'How the header encodes the digest. @default hex' }),
    prefix: z
      .string()
      .max(32)
      .regex(/^[\x21-\x7e]*$/, 'expected printable ASCII without spaces')
      .optional()
      .meta({ description: 'Text before the digest in the header, e.g. `sha256=`. @default ""' }),
    eventType: z
      .string()
      .max(100)
      .regex(/^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/, 'expected lowercase dotted segments such as order.paid')
      .optional()
      .meta({ description: 'The event type is `hmac.<eventType>` when `eventTypeHeader` is unset or absent from a request. @default event' }),
    eventTypeHeader: headerName.optional().meta({ description: 'Header naming the event; its value, mapped to the event type grammar, gives `hmac.<value>`.' }),
    idHeader: headerName.optional().meta({ description: 'Header carrying the sender\'s delivery id (the same on its retries). Without it, the id is the SHA-256 of the body: the same body twice is one event.' }),
  })
  .meta({ description: 'Required for type `hmac`, refused for the others.' });

const base = { name, secret };
const stripeSecret = secret.regex(/^whsec_/, 'expected the endpoint\'s signing secret, whsec_...');
const standardSecret = secret.refine(isStandardWebhooksSecret, 'expected whsec_ followed by base64').meta({ pattern: '^(whsec_)?[A-Za-z0-9+/]+={0,2}$' });

/** The secret each type takes (create and PATCH). */
export const SECRET_SCHEMAS: Record<string, z.ZodType<string>> = { github: secret, stripe: stripeSecret, shopify: secret, 'standard-webhooks': standardSecret, hmac: secret };

/** `POST /v1/sources`: one shape per type; the secret is the one the provider signs with. */
export const sourceInputSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...base, type: z.literal('github').meta({ description: 'GitHub repository, organisation or App webhooks (X-Hub-Signature-256).' }) }),
  z.strictObject({
    ...base,
    type: z.literal('stripe').meta({ description: 'Stripe endpoint (Stripe-Signature, 5-minute tolerance).' }),
    secret: stripeSecret,
  }),
  z.strictObject({ ...base, type: z.literal('shopify').meta({ description: 'Shopify webhooks (X-Shopify-Hmac-Sha256), keyed with the app\'s client secret.' }) }),
  z.strictObject({
    ...base,
    type: z.literal('standard-webhooks').meta({ description: 'Any Standard Webhooks sender (webhook-id, webhook-timestamp, webhook-signature).' }),
    secret: standardSecret,
  }),
  z.strictObject({ ...base, type: z.literal('hmac').meta({ description: 'A generic HMAC signature of the body in a header.' }), hmac: hmacSettingsInputSchema }),
]);
export type SourceInput = z.output<typeof sourceInputSchema>;

/**
 * `PATCH /v1/sources/{id}`: a new name, a new secret (in the format its type takes: a provider
 * such as Stripe shows its signing secret only once the endpoint exists), new `hmac` settings
 * (replaced whole; `hmac` sources only). The ingest URL does not change.
 */
export const sourcePatchSchema = z
  .strictObject({
    name: name.optional(),
    secret: secret.optional().meta({ description: 'The provider\'s new secret; it applies to the next request. Stripe: `whsec_...`; standard-webhooks: `whsec_` + base64.' }),
    hmac: hmacSettingsInputSchema.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one field to change')
  .meta({ minProperties: 1 });

export const sourceIdParamsSchema = z.strictObject({ id: z.string().min(1).max(64) });

export const sourceListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});

const INGEST_URL_DESCRIPTION =
  'Where the provider POSTs: `<PUBLIC_URL or this API\'s address>/v1/ingest/<source id>/<token>`. It is a credential (no API key is asked there): whoever can read sources with the tenant\'s API key can see it, and rotate-url replaces it. Its token is stored hashed (for lookup) and encrypted (to show it here), never in clear.';
const ingestUrl = z.string().meta({ description: INGEST_URL_DESCRIPTION });
const storedIngestUrl = z
  .string()
  .nullable()
  .meta({
    description: `${INGEST_URL_DESCRIPTION} Null for a source created before ingest URLs were stored encrypted (its URL still works, but cannot be shown): POST /v1/sources/{id}/rotate-url to get one that is shown here.`,
  });

/** The public shape of a source: never its secret; its ingest URLs, which are credentials. */
export const sourceSchema = z.strictObject({
  id: z.string().regex(/^src_/),
  name: z.string(),
  type: z.enum(['github', 'stripe', 'shopify', 'standard-webhooks', 'hmac']),
  hmac: z
    .strictObject({
      header: z.string(),
      algorithm: z.enum(['sha256', 'sha512']),
      encoding: z.enum(['hex', 'base64']),
      prefix: z.string(),
      eventType: z.string(),
      eventTypeHeader: z.string().nullable(),
      idHeader: z.string().nullable(),
    })
    .nullable()
    .meta({ description: 'A generic `hmac` source\'s settings; null for the other types.' }),
  eventTypePrefix: z.string().meta({ description: 'Its events\' types start with this and a dot, e.g. `github.` (`github.push`).' }),
  ingestUrl: storedIngestUrl,
  previousIngestUrl: z
    .string()
    .nullable()
    .meta({ description: 'After a rotation, while it still works (until `previousIngestUrlExpiresAt`): the previous ingest URL, a credential like `ingestUrl`. Null otherwise, or when it was issued before ingest URLs were stored encrypted.' }),
  previousIngestUrlExpiresAt: timestamp.nullable().meta({ description: 'After a rotation: until then the previous ingest URL works too. Null when there is none, or once it has stopped working.' }),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type SourceView = z.output<typeof sourceSchema>;

export const sourceCreatedResponseSchema = z.strictObject({ source: sourceSchema.extend({ ingestUrl }) });
export const sourceResponseSchema = z.strictObject({ source: sourceSchema });
export const sourceListResponseSchema = z.strictObject({ sources: z.array(sourceSchema), nextCursor: z.string().nullable() });
export const ingestUrlRotationResponseSchema = z.strictObject({
  ingestUrl,
  previousIngestUrl: z.string().nullable().meta({ description: 'The URL just rotated out, working until `previousIngestUrlExpiresAt`; null when it was issued before ingest URLs were stored encrypted.' }),
  previousIngestUrlExpiresAt: timestamp.meta({ description: 'The previous ingest URL keeps working until then (24 hours); an older one stops now.' }),
  source: sourceSchema.extend({ ingestUrl }).meta({ description: 'The source after the rotation.' }),
});

/** `POST /v1/ingest/{sourceId}/{token}`: the path, checked before anything is read. */
export const ingestParamsSchema = z.strictObject({
  sourceId: z.string().min(1).max(64),
  token: z.string().min(1).max(128).meta({ description: 'The secret part of the ingest URL.' }),
});

export const ingestAcceptedResponseSchema = z.strictObject({
  id: z.string().meta({ description: 'The event id: `<source id>:<provider delivery id>`.' }),
  type: z.string().meta({ description: 'The event type, e.g. `github.push`.' }),
  status: z.literal('accepted'),
  duplicate: z.boolean().meta({ description: 'True when the provider sent this delivery before: nothing new was fanned out.' }),
});
