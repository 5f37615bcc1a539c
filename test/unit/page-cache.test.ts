import { PageCache } from '../../src/activities/page-cache';
import type { EventDoc } from '../../src/models/event';

const event = (id: string, dataChars: number): EventDoc =>
  ({ _id: `ten_1/${id}`, tenantId: 'ten_1', eventId: id, type: 't', data: 'x'.repeat(dataChars), metadata: [], bodyHash: 'h', acceptedAt: new Date() }) as unknown as EventDoc;

describe('page cache', () => {
  it('keeps events within their byte budget, dropping the oldest first', () => {
    // 1 MiB of payload: three events of 200,000 characters (400 KB each) do not fit.
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    cache.putEvent(event('a', 200_000));
    cache.putEvent(event('b', 200_000));
    expect(cache.event('ten_1/a')).toBeDefined();
    cache.putEvent(event('c', 200_000));
    expect(cache.event('ten_1/a')).toBeUndefined();
    expect(cache.event('ten_1/b')).toBeDefined();
    expect(cache.event('ten_1/c')).toBeDefined();
  });

  it('keeps no event larger than the whole budget, and loses none of the others for it', () => {
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    cache.putEvent(event('small', 10));
    cache.putEvent(event('huge', 600_000));
    expect(cache.event('ten_1/huge')).toBeUndefined();
    expect(cache.event('ten_1/small')).toBeDefined();
  });

  it('serves an event again after it is put a second time, counting its bytes once', () => {
    const cache = new PageCache({ eventBytes: 1024 * 1024 });
    for (let i = 0; i < 10; i++) cache.putEvent(event('same', 200_000));
    cache.putEvent(event('other', 200_000));
    expect(cache.event('ten_1/same')).toBeDefined();
    expect(cache.event('ten_1/other')).toBeDefined();
  });
});
