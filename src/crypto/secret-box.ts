import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret encrypted at rest with AES-256-GCM. `keyId` names the key, so keys can be rotated. */
export interface EncryptedSecret {
  keyId: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Thrown when a stored secret cannot be decrypted (wrong or missing key, tampered data). */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
  constructor(readonly keyId: string) {
    super(`cannot decrypt a secret stored under key id "${keyId}"`);
  }
}

export class SecretBox {
  constructor(
    private readonly keyId: string,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new RangeError('AES-256-GCM needs a 32-byte key');
  }

  encrypt(plaintext: string): EncryptedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  decrypt(secret: EncryptedSecret): string {
    if (secret.keyId !== this.keyId) throw new SecretDecryptionError(secret.keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(secret.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(secret.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(secret.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(secret.keyId);
    }
  }
}
