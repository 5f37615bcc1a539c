import type { EncryptedSecret, SecretBox } from './secret-box';

/**
 * Custom headers at rest: the value of a credential-like header is sealed with the SecretBox
 * (AES-256-GCM, like the signing secret) and opened only for an attempt; other values stay in
 * the clear, since the API shows them. A plaintext sensitive value written by an older version
 * is still sent, and `sealPlaintextHeaders` seals it.
 */

/** Names whose values are credentials: stored sealed and sent, never shown again (like the webhook secret). */
const SENSITIVE_HEADER = /^(authorization|proxy-authorization|cookie)$|auth|token|secret|key|passw|credential|session|signature/i;

export const isSensitiveHeader = (name: string): boolean => SENSITIVE_HEADER.test(name);

/** One custom header as the `webhooks` collection holds it: `value` in the clear, or `sealed`. */
export interface StoredHeader {
  name?: string | null;
  value?: string | null;
  sealed?: EncryptedSecret | null;
}

export interface HeaderValue {
  name: string;
  value: string;
}

/** The form to store: sensitive values sealed, the others as given. */
export function sealHeaders(headers: readonly HeaderValue[], box: SecretBox): StoredHeader[] {
  return headers.map(({ name, value }) => (isSensitiveHeader(name) ? { name, sealed: box.encrypt(value) } : { name, value }));
}

/** The values to send: sealed ones opened (at attempt time only), plaintext ones as stored. */
export function openHeaders(stored: readonly StoredHeader[], box: SecretBox): HeaderValue[] {
  return stored.map((h) => ({ name: h.name ?? '', value: h.sealed ? box.decrypt(h.sealed) : (h.value ?? '') }));
}

/** Whether an older version left a sensitive value in the clear. */
export const hasPlaintextSensitive = (stored: readonly StoredHeader[]): boolean =>
  stored.some((h) => !h.sealed && typeof h.value === 'string' && isSensitiveHeader(h.name ?? ''));

/** `stored` with every plaintext sensitive value sealed (sealed and non-sensitive ones untouched). */
export function sealPlaintext(stored: readonly StoredHeader[], box: SecretBox): StoredHeader[] {
  return stored.map((h) =>
    !h.sealed && typeof h.value === 'string' && isSensitiveHeader(h.name ?? '') ? { name: h.name, sealed: box.encrypt(h.value) } : { name: h.name, ...(h.sealed ? { sealed: h.sealed } : { value: h.value }) },
  );
}
