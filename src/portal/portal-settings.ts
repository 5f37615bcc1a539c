/** How portal links and sessions behave (settings of src/config, documented in README). */
export interface PortalSettings {
  /** How long a link can be opened when the request names no `expiresInSeconds`. @default 300 */
  linkTtlSeconds: number;
  /** How long a browser session lasts once its link is opened. @default 3600 */
  sessionTtlSeconds: number;
  /**
   * The service's address as browsers reach it (e.g. https://hooks.example.com), for the links.
   * @default the address the request came to
   */
  publicUrl?: string;
}

export const DEFAULT_PORTAL_SETTINGS: PortalSettings = { linkTtlSeconds: 300, sessionTtlSeconds: 3600 };

/** Bounds of `expiresInSeconds` on `POST /v1/portal-sessions`: a link is meant to be opened at once. */
export const LINK_TTL_BOUNDS = { min: 10, max: 86_400 } as const;
