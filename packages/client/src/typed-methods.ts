/**
 * The types of `client.get`, `client.post`, ...: openapi-fetch's typed methods over every path of
 * the document, answering the success body itself (a non-2xx answer throws instead).
 */
import type { FetchResponse, MaybeOptionalInit } from 'openapi-fetch';
import type { paths } from './openapi';

export type HttpMethod = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** The paths that have `method`. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** The init argument: optional when nothing in it is required (as openapi-fetch's InitParam). */
type InitArg<Init> = [RequiredKeys<Init>] extends [never] ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];

type Data<Response> = Response extends { data?: infer D } ? D : never;
/** The success body; `void` for answers without one (204). */
type SuccessBody<D> = [Exclude<D, undefined>] extends [never] ? void : Exclude<D, undefined>;

export type DataMethod<M extends HttpMethod> = <P extends PathsWith<M>, Init extends MaybeOptionalInit<paths[P], M>>(
  url: P,
  ...init: InitArg<Init>
) => Promise<SuccessBody<Data<FetchResponse<paths[P][M] & Record<string | number, unknown>, Init, `${string}/${string}`>>>>;
