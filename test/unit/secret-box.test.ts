import { randomBytes } from 'node:crypto';
import { SecretBox, SecretDecryptionError } from '../../src/crypto/secret-box';
import { generateWebhookSecret } from '../../src/signing/webhook-secret';

describe('secrets at rest (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const box = new SecretBox('k1', key);

  it('round-trips, never stores the plaintext, and uses a fresh IV each time', () => {
    const secret = generateWebhookSecret();
    const a = box.encrypt(secret);
    const b = box.encrypt(secret);
    expect(box.decrypt(a)).toBe(secret);
    expect(a.keyId).toBe('k1');
    expect(JSON.stringify(a)).not.toContain(secret.slice(6));
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('refuses tampered data, another key, and another key id', () => {
    const stored = box.encrypt(generateWebhookSecret());
    const flipped = Buffer.from(stored.ciphertext, 'base64');
    flipped[0] ^= 1;
    expect(() => box.decrypt({ ...stored, ciphertext: flipped.toString('base64') })).toThrow(SecretDecryptionError);
    expect(() => new SecretBox('k1', randomBytes(32)).decrypt(stored)).toThrow(SecretDecryptionError);
    expect(() => new SecretBox('k2', key).decrypt(stored)).toThrow(/key id "k1"/);
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox('k1', randomBytes(16))).toThrow(RangeError);
  });
});
