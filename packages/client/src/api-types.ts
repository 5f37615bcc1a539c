/** Names for the request and response bodies of the generated types, for the convenience methods and their callers. */
import type { paths } from './openapi';

type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** The JSON body an operation takes. */
export type RequestBody<Path extends keyof paths, M extends Method> = paths[Path][M] extends { requestBody?: infer R } ? Json<NonNullable<R>> : never;

/** The JSON body of an operation's answer with `status`. */
export type ResponseBody<Path extends keyof paths, M extends Method, Status extends number> = paths[Path][M] extends { responses: infer R }
  ? Status extends keyof R
    ? Json<R[Status]>
    : never
  : never;

/** The query an operation takes. */
export type Query<Path extends keyof paths, M extends Method> = paths[Path][M] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export type NewWebhook = RequestBody<'/v1/webhooks', 'post'>;
export type WebhookPatch = RequestBody<'/v1/webhooks/{id}', 'patch'>;
/** A webhook as created, with its `secret` (shown only here and on rotation). */
export type CreatedWebhook = ResponseBody<'/v1/webhooks', 'post', 201>['webhook'];
export type Webhook = ResponseBody<'/v1/webhooks/{id}', 'get', 200>['webhook'];
export type WebhookList = ResponseBody<'/v1/webhooks', 'get', 200>;
export type WebhookListQuery = Query<'/v1/webhooks', 'get'>;
export type SecretRotation = ResponseBody<'/v1/webhooks/{id}/rotate-secret', 'post', 200>;

export type NewEvent = RequestBody<'/v1/events', 'post'>;
export type AcceptedEvent = ResponseBody<'/v1/events', 'post', 202>;
/** An event as `sendEvent` and the batcher send it: its id always set, by the caller or the client. */
export type IdentifiedEvent = NewEvent & { id: string };
export type BatchAcceptedEvent = ResponseBody<'/v1/events/batch', 'post', 202>['events'][number];
export type EventWithDeliveries = ResponseBody<'/v1/events/{id}', 'get', 200>;
export type EventQuery = Query<'/v1/events/{id}', 'get'>;
export type EventList = ResponseBody<'/v1/events', 'get', 200>;
export type EventListQuery = Query<'/v1/events', 'get'>;

export type DeliveryList = ResponseBody<'/v1/webhooks/{id}/deliveries', 'get', 200>;
export type DeliveryListQuery = Query<'/v1/webhooks/{id}/deliveries', 'get'>;
export type Delivery = ResponseBody<'/v1/deliveries/{id}', 'get', 200>['delivery'];
export type DeliveryAction = ResponseBody<'/v1/deliveries/{id}/retry', 'post', 202>;
export type DeliveryLog = ResponseBody<'/v1/deliveries', 'get', 200>;
export type DeliveryLogQuery = Query<'/v1/deliveries', 'get'>;

export type RecoverWindow = RequestBody<'/v1/webhooks/{id}/recover', 'post'>;
export type OperationStarted = ResponseBody<'/v1/webhooks/{id}/recover', 'post', 202>;
export type Operation = ResponseBody<'/v1/operations/{id}', 'get', 200>['operation'];

export type NewTenant = RequestBody<'/v1/admin/tenants', 'post'>;
export type CreatedTenant = ResponseBody<'/v1/admin/tenants', 'post', 201>;
export type Tenant = ResponseBody<'/v1/admin/tenants/{tenantId}', 'get', 200>['tenant'];
export type TenantList = ResponseBody<'/v1/admin/tenants', 'get', 200>;
export type TenantListQuery = Query<'/v1/admin/tenants', 'get'>;
