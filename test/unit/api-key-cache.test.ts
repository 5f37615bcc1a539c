import { ApiKeyCache } from '../../src/api/api-key-cache';

describe('API key cache', () => {
  const key = { keyId: 'key_1', tenantId: 'ten_1', hash: 'h' };

  it('serves a verified key until its time is up, then asks again', () => {
    const cache = new ApiKeyCache(10_000);
    cache.set('lookup', key, 1_000);
    expect(cache.get('lookup', 10_999)).toEqual(expect.objectContaining(key));
    expect(cache.get('lookup', 11_000)).toBeUndefined();
  });

  it('drops a revoked key at once', () => {
    const cache = new ApiKeyCache(10_000);
    cache.set('lookup', key, 0);
    cache.revoke('key_1');
    expect(cache.get('lookup', 1)).toBeUndefined();
  });

  it('keeps nothing when its time is 0, and no more than its size', () => {
    const off = new ApiKeyCache(0);
    off.set('lookup', key, 0);
    expect(off.get('lookup', 0)).toBeUndefined();
    const small = new ApiKeyCache(10_000, 2);
    for (const lookup of ['a', 'b', 'c']) small.set(lookup, key, 0);
    expect([small.get('a', 1), small.get('b', 1), small.get('c', 1)].map(Boolean)).toEqual([false, true, true]);
  });

  it('remembers a key found unrevoked (portal sessions) until its time is up or it is revoked here', () => {
    const cache = new ApiKeyCache(10_000);
    expect(cache.isLive('key_1', 0)).toBe(false);
    cache.markLive('key_1', 1_000);
    expect(cache.isLive('key_1', 10_999)).toBe(true);
    expect(cache.isLive('key_1', 11_000)).toBe(false);
    cache.markLive('key_1', 20_000);
    cache.revoke('key_1');
    expect(cache.isLive('key_1', 20_001)).toBe(false);
    const off = new ApiKeyCache(0);
    off.markLive('key_1', 0);
    expect(off.isLive('key_1', 0)).toBe(false);
  });
});
