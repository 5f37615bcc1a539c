import { ApiKeyCache } from '../../src/api/api-key-cache';

describe('API key cache', () => {
  const key = { keyId: 'key_1', tenantId: 'ten_1', hash: 'h' };
  /** The cache's clock, moved by the test. */
  const clock = { t: 1_000_000, now() { return this.t; } };
  beforeEach(() => (clock.t = 1_000_000));

  it('serves a verified key until its time is up, then asks again', () => {
    const cache = new ApiKeyCache(10_000, 10, clock);
    cache.set('lookup', key);
    clock.t += 10_000;
    expect(cache.get('lookup')).toEqual(key);
    clock.t += 1;
    expect(cache.get('lookup')).toBeUndefined();
  });

  it('drops a revoked key at once, and only that one', () => {
    const cache = new ApiKeyCache(10_000, 10, clock);
    const other = { ...key, keyId: 'key_2' };
    cache.set('lookup', key);
    cache.set('other', other);
    cache.revoke('key_1');
    expect([cache.get('lookup'), cache.get('other')]).toEqual([undefined, other]);
  });

  it('drops a deleted tenant\'s keys at once, and caches none of its keys read before the deletion, for its time', () => {
    const cache = new ApiKeyCache(10_000, 10, clock);
    const second = { ...key, keyId: 'key_2' };
    const other = { keyId: 'key_3', tenantId: 'ten_2', hash: 'h' };
    cache.set('lookup', key);
    cache.set('other', other);
    cache.revokeTenant('ten_1');
    // A request that read its key before the deletion, answered after it, is not cached.
    cache.set('second', second);
    expect([cache.get('lookup'), cache.get('second'), cache.get('other')]).toEqual([undefined, undefined, other]);
    clock.t += 10_001;
    cache.set('second', second);
    expect(cache.get('second')).toEqual(second);
  });

  it('keeps nothing when its time is 0, and no more than its size, the least recently used going first', () => {
    const off = new ApiKeyCache(0, 10, clock);
    off.set('lookup', key);
    expect(off.get('lookup')).toBeUndefined();
    const small = new ApiKeyCache(10_000, 2, clock);
    small.set('a', key);
    small.set('b', key);
    expect(small.get('a')).toEqual(key);
    small.set('c', key);
    expect([small.get('a'), small.get('b'), small.get('c')]).toEqual([key, undefined, key]);
  });

  it('remembers a key found unrevoked (portal sessions) until its time is up or it is revoked here', () => {
    const cache = new ApiKeyCache(10_000, 10, clock);
    expect(cache.isLive('key_1')).toBe(false);
    cache.markLive('key_1');
    clock.t += 10_000;
    expect(cache.isLive('key_1')).toBe(true);
    clock.t += 1;
    expect(cache.isLive('key_1')).toBe(false);
    cache.markLive('key_1');
    cache.revoke('key_1');
    expect(cache.isLive('key_1')).toBe(false);
    const off = new ApiKeyCache(0, 10, clock);
    off.markLive('key_1');
    expect(off.isLive('key_1')).toBe(false);
  });
});
