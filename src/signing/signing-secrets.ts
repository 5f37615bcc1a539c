import type { EncryptedSecret, SecretBox } from '../crypto/secret-box';

export interface StoredWebhookSecrets {
  secret: EncryptedSecret;
  previousSecret?: EncryptedSecret | null;
  previousSecretExpiresAt?: Date | null;
}

/**
 * The secrets a request is signed with at `now`: the current one first, then the rotated-out
 * one while its overlap lasts, so receivers that still know only the old one keep verifying.
 */
export function signingSecrets(webhook: StoredWebhookSecrets, secretBox: SecretBox, now: Date): string[] {
  const secrets = [secretBox.decrypt(webhook.secret)];
  if (webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now) {
    secrets.push(secretBox.decrypt(webhook.previousSecret));
  }
  return secrets;
}
