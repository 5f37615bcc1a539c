import { apiKeyLookup, apiKeyMatches, hashApiKey, issueApiKey } from '../../src/crypto/api-key';

describe('API keys', () => {
  it('are random, prefixed, and carry their indexed lookup part', () => {
    const a = issueApiKey();
    const b = issueApiKey();
    expect(a.apiKey).toMatch(/^whk_[A-Za-z0-9_-]{11}_[A-Za-z0-9_-]{43}$/);
    expect(a.apiKey).not.toBe(b.apiKey);
    expect(apiKeyLookup(a.apiKey)).toBe(a.lookup);
    expect(a.hash).toBe(hashApiKey(a.apiKey));
    expect(a.hash).not.toContain(a.apiKey.slice(16));
  });

  it('match only their own hash', () => {
    const a = issueApiKey();
    expect(apiKeyMatches(a.apiKey, a.hash)).toBe(true);
    expect(apiKeyMatches(issueApiKey().apiKey, a.hash)).toBe(false);
    expect(apiKeyMatches(a.apiKey, 'not-hex')).toBe(false);
  });

  it('reject malformed keys before any lookup', () => {
    for (const key of ['', 'whk_', 'Bearer x', 'whk_short_key', `sk_${'a'.repeat(60)}`]) expect(apiKeyLookup(key)).toBeUndefined();
  });
});
