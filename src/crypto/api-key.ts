import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `whk_<lookup>_<secret>`: the lookup part (8 random bytes) is stored in
 * clear and indexed, the whole key only as a SHA-256 hash. The secret part carries 32 random
 * bytes, so a plain hash is enough (no password stretching needed for random keys).
 */
export const API_KEY_PREFIX = 'whk_';
const KEY_PATTERN = /^whk_([A-Za-z0-9_-]{11})_([A-Za-z0-9_-]{43})$/;

export interface IssuedApiKey {
  apiKey: string;
  lookup: string;
  hash: string;
}

export function issueApiKey(): IssuedApiKey {
  const lookup = randomBytes(8).toString('base64url');
  const apiKey = `${API_KEY_PREFIX}${lookup}_${randomBytes(32).toString('base64url')}`;
  return { apiKey, lookup, hash: hashApiKey(apiKey) };
}

/** The indexed lookup part of a well-formed key, or undefined for anything else. */
export function apiKeyLookup(apiKey: string): string | undefined {
  return KEY_PATTERN.exec(apiKey)?.[1];
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** Constant-time comparison of a presented key against a stored hash. */
export function apiKeyMatches(apiKey: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(apiKey), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
