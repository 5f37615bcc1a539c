/** Shapes of `POST /v1/portal-sessions` and of the portal's own session endpoints (docs/portal.md). */
import { z } from 'zod';
import { LINK_TTL_BOUNDS } from '../../portal/portal-settings';

/** `POST /v1/portal-sessions`: both fields optional, and so is the body. */
export const portalSessionInputSchema = z
  .strictObject({
    readOnly: z.boolean().optional().meta({ description: 'A read-only session sees everything and changes nothing. @default false' }),
    expiresInSeconds: z
      .number()
      .int()
      .min(LINK_TTL_BOUNDS.min)
      .max(LINK_TTL_BOUNDS.max)
      .optional()
      .meta({ description: 'How long the link can be opened (once). @default PORTAL_LINK_TTL_SECONDS (300)' }),
  })
  .optional();

export const portalSessionCreatedResponseSchema = z.strictObject({
  id: z.string().regex(/^ps_/),
  url: z.string().meta({ description: 'Single-use link to the portal; its token is in the fragment, so it never reaches a server log.' }),
  expiresAt: z.iso.datetime().meta({ description: 'The link cannot be opened after this time.' }),
  readOnly: z.boolean(),
  sessionTtlSeconds: z.number().int().meta({ description: 'How long the browser session lasts once the link is opened.' }),
});

/** What the portal page learns about its own session (`GET /portal/api/session`). */
export const portalSessionStateSchema = z.strictObject({
  session: z.strictObject({
    tenantId: z.string(),
    tenantName: z.string(),
    readOnly: z.boolean(),
    expiresAt: z.iso.datetime(),
  }),
  csrfToken: z.string().meta({ description: 'Send it as X-CSRF-Token on every change.' }),
  service: z.strictObject({
    allowHttpUrls: z.boolean().meta({ description: 'Whether webhook URLs may be http as well as https (WEBHOOK_ALLOW_HTTP), so forms say what is accepted.' }),
  }),
});

/** `POST /portal/api/session`: the token from the link's fragment. */
export const portalOpenInputSchema = z.strictObject({ token: z.string().max(128) });
