import { randomBytes } from 'node:crypto';
import { SecretBox, SecretDecryptionError } from '../../src/crypto/secret-box';

describe('SecretBox (AES-256-GCM at rest)', () => {
  const box = new SecretBox('k1', randomBytes(32));

  it('round-trips and never stores the plaintext', () => {
    const stored = box.encrypt('whsec_abc');
    expect(stored.keyId).toBe('k1');
    expect(JSON.stringify(stored)).not.toContain('whsec_abc');
    expect(box.decrypt(stored)).toBe('whsec_abc');
  });

  it('uses a fresh IV each time', () => {
    expect(box.encrypt('same').ciphertext).not.toBe(box.encrypt('same').ciphertext);
  });

  it('refuses tampered data, another key, and another key id', () => {
    const stored = box.encrypt('whsec_abc');
    const flipped = Buffer.from(stored.ciphertext, 'base64');
    flipped[0] ^= 1;
    expect(() => box.decrypt({ ...stored, ciphertext: flipped.toString('base64') })).toThrow(SecretDecryptionError);
    expect(() => new SecretBox('k1', randomBytes(32)).decrypt(stored)).toThrow(SecretDecryptionError);
    expect(() => new SecretBox('k2', randomBytes(32)).decrypt(stored)).toThrow(SecretDecryptionError);
  });
});
