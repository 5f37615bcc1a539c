import { apiKeyLookup, apiKeyMatches, hashApiKey, issueApiKey } from '../../src/crypto/api-key';

describe('API keys', () => {
  it('are prefixed, carry 32 random bytes after an 8-byte lookup part, and differ each time', () => {
    const a = issueApiKey();
    const b = issueApiKey();
    expect(a.apiKey).toMatch(/^whk_[A-Za-z0-9_-]{11}_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.apiKey.slice(-43), 'base64url')).toHaveLength(32);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(apiKeyLookup(a.apiKey)).toBe(a.lookup);
  });

  it('are stored as a hash that does not contain the key, and match only themselves', () => {
    const { apiKey, hash } = issueApiKey();
    expect(hash).toBe(hashApiKey(apiKey));
    expect(hash).not.toContain(apiKey.slice(16));
    expect(apiKeyMatches(apiKey, hash)).toBe(true);
    expect(apiKeyMatches(`${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`, hash)).toBe(false);
    expect(apiKeyMatches(apiKey, 'abcd')).toBe(false);
  });

  it('have no lookup part unless well-formed', () => {
    for (const bad of ['', 'whk_', 'garbage', `whk_short_${'A'.repeat(43)}`, `xyz_AAAAAAAAAAA_${'A'.repeat(43)}`]) expect(apiKeyLookup(bad)).toBeUndefined();
  });
});
