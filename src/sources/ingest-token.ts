/**
 * The token in an ingest URL (`/v1/ingest/<source id>/<token>`) is a credential: 32 random bytes,
 * looked up by its SHA-256 hash (random tokens need no stretching, as API keys), compared in
 * constant time. It is also stored sealed (SecretBox), only so that reads can show the URL
 * (api/routes/sources.ts); a request is never checked against the sealed copy. A rotated-out token keeps working for INGEST_URL_OVERLAP_MS, so the provider's
 * settings can be changed without losing a delivery.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long the previous ingest URL keeps working after a rotation: 24 hours. */
export const INGEST_URL_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** base64url of 32 bytes. */
export const INGEST_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface StoredIngestTokens {
  tokenHash: string;
  previousTokenHash?: string | null;
  previousTokenExpiresAt?: Date | null;
}

export const hashIngestToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function issueIngestToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashIngestToken(token) };
}

const sameHash = (a: string, b: string) => {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether `token` opens the source: its current token, or its previous one before that expires. */
export function ingestTokenAccepted(stored: StoredIngestTokens, token: string, now: Date): boolean {
  if (!INGEST_TOKEN_PATTERN.test(token)) return false;
  const hash = hashIngestToken(token);
  const current = sameHash(hash, stored.tokenHash);
  const previous = !!stored.previousTokenHash && sameHash(hash, stored.previousTokenHash);
  return current || (previous && !!stored.previousTokenExpiresAt && stored.previousTokenExpiresAt.getTime() > now.getTime());
}
