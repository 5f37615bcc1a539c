import { PageCache } from '../../src/activities/page-cache';
import type { EventDoc } from '../../src/models/event';

const event = (id: string, dataChars: number): EventDoc =>
  ({ _id: `ten_1/${id}`, tenantId: 'ten_1', eventId: id, type: 't', data: 'x'.repeat(dataChars), metadata: [], bodyHash: 'h', acceptedAt: new Date() }) as unknown as EventDoc;

describe('page cache', () => {
  it('keeps events within their byte budget, dropping the least recently used first', () => {
    // 1 MiB of payload: three events of 200,000 characters (400 KB each) do not fit.
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    const [a, b, c] = [event('a', 200_000), event('b', 200_000), event('c', 200_000)];
    cache.putEvent(a);
    cache.putEvent(b);
    // Read again (a retry's attempt): `a` is now the most recently used.
    expect(cache.event('ten_1/a')).toBe(a);
    cache.putEvent(c);
    expect([cache.event('ten_1/a'), cache.event('ten_1/b'), cache.event('ten_1/c')]).toEqual([a, undefined, c]);
  });

  it('keeps no event larger than the whole budget, and loses none of the others for it', () => {
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    const small = event('small', 10);
    cache.putEvent(small);
    cache.putEvent(event('huge', 600_000));
    expect(cache.event('ten_1/huge')).toBeUndefined();
    expect(cache.event('ten_1/small')).toBe(small);
  });

  it('serves an event again after it is put a second time, counting its bytes once', () => {
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    const same = event('same', 200_000);
    for (let i = 0; i < 10; i++) cache.putEvent(same);
    const other = event('other', 200_000);
    cache.putEvent(other);
    expect(cache.event('ten_1/same')).toBe(same);
    expect(cache.event('ten_1/other')).toBe(other);
  });
});
