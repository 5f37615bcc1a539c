/**
 * `fetch` for the typed client over an undici Pool's `request()`: the bench's keep-alive
 * connections, without the cost of fetch's own machinery on every call of a load run.
 */
import type { Dispatcher, Pool } from 'undici';

/** Statuses whose answer has no body (a Response refuses one). */
const NO_BODY = new Set([204, 205, 304]);

export function poolFetch(pool: Pool): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const res = await pool.request({
      method: request.method as Dispatcher.HttpMethod,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers),
      body: request.body ? Buffer.from(await request.arrayBuffer()) : undefined,
    });
    const body = await res.body.arrayBuffer();
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      for (const one of [value ?? []].flat()) headers.append(name, one);
    }
    return new Response(NO_BODY.has(res.statusCode) ? null : body, { status: res.statusCode, headers });
  };
}
