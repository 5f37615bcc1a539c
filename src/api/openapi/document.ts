import { z } from 'zod';
import { errorResponseSchema } from '../schemas/error';
import type { Operation, OperationResponse } from './operations';

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 (the dialect of OpenAPI 3.1) of a zod schema, inline. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const result = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  delete result.$schema; // the document's dialect applies
  return result;
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: location,
      required: location === 'path' || (object.required ?? []).includes(name),
      schema: propertySchema,
      ...(description ? { description } : {}),
    };
  });
}

/** Every error answer has the one shape, defined once under `components` (inline, it was most of a generated client's types). */
const ERROR_SCHEMA_REF = '#/components/schemas/Error';
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } } });

function response({ description, schema, contentType }: OperationResponse): JsonSchema {
  if (contentType) return { description, content: { [contentType]: {} } };
  return schema ? { description, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } } : { description };
}

/** How a path template matches concrete paths: `{id}` is one segment. */
const templatePattern = (path: string) => new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/**
 * Paths that a templated operation's path also matches and that win over it (`/v1/events/batch`
 * over `/v1/events/{id}`), without serving the operation's method: there the answer is 405.
 */
function shadowingPaths(op: Operation, operations: readonly Operation[]): string[] {
  if (!op.path.includes('{')) return [];
  const pattern = templatePattern(op.path);
  const paths = new Set(operations.filter((o) => o.path !== op.path && !o.path.includes('{') && pattern.test(o.path)).map((o) => o.path));
  return [...paths].filter((path) => !operations.some((o) => o.path === path && o.method === op.method));
}

/** The error answers an operation can give, from what it validates and who may call it. */
function errorResponses(op: Operation, operations: readonly Operation[]): Record<string, JsonSchema> {
  const errors: Record<string, JsonSchema> = {};
  const shadowed = shadowingPaths(op, operations);
  if (shadowed.length) errors[405] = errorResponse(`The path is ${shadowed.join(' or ')}, which is not this operation and takes other methods (see Allow).`);
  if (op.params || op.query || op.body || op.headers) errors[400] = errorResponse('Invalid input; `details` names each field path.');
  if (op.auth === 'signature') errors[401] = errorResponse('A missing or bad provider signature (or a Stripe or Standard Webhooks timestamp over 5 minutes old); nothing was stored.');
  else if (op.auth !== 'none') errors[401] = errorResponse('Missing, unknown or revoked credentials.');
  if (op.auth === 'admin') errors[403] = errorResponse('A tenant API key on an admin route.');
  if (op.params) errors[404] = errorResponse('Not found, or owned by another tenant.');
  if (op.conflict) errors[409] = errorResponse(op.conflict);
  if (op.body) {
    errors[413] = errorResponse('Body over the size limit.');
    errors[415] = errorResponse('Body is not application/json.');
  }
  if (op.auth === 'tenant') errors[429] = errorResponse('Over the tenant\'s rate limit; see Retry-After.');
  if (op.auth === 'tenant' || op.auth === 'admin' || op.auth === 'signature') {
    errors[500] = errorResponse('Internal error, or Temporal refused the request (`dependency_error`: a configuration error, retrying will not help).');
    errors[503] = errorResponse('Temporal or MongoDB unreachable or not answering; retry after Retry-After.');
  }
  return errors;
}

/** Each scheme is a bearer token; `metrics` takes either of two. */
const SECURITY: Record<Operation['auth'], JsonSchema[]> = {
  tenant: [{ apiKey: [] }],
  admin: [{ adminToken: [] }],
  metrics: [{ metricsToken: [] }, { adminToken: [] }],
  signature: [],
  none: [],
};

function operationObject(op: Operation, operations: readonly Operation[]): JsonSchema {
  const headers = (op.headers ?? []).map((h) => ({ name: h.name, in: 'header', required: false, description: h.description, schema: jsonSchema(h.schema, 'input') }));
  const responses = Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, response(r)]));
  return {
    summary: op.summary,
    tags: [op.tag],
    operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    security: SECURITY[op.auth],
    parameters: [...parameters(op.params, 'path'), ...parameters(op.query, 'query'), ...headers],
    ...(op.body
      ? { requestBody: { required: !op.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } }
      : {}),
    responses: { ...responses, ...errorResponses(op, operations) },
  };
}

/** The OpenAPI 3.1 document of the API, generated from the operations' zod schemas. */
export function buildOpenApiDocument(operations: readonly Operation[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations) (paths[op.path] ??= {})[op.method] = operationObject(op, operations);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Webhook delivery service',
      version,
      description: 'Durable, signed webhook delivery. Errors share one shape: {"error": {"code", "message", "details": [{"path", "message"}]}}.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(operations.map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchema(errorResponseSchema, 'output') },
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key: `Authorization: Bearer whk_...`.' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN setting, for /v1/admin routes (and /metrics).' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN setting, for /metrics only.' },
      },
    },
  };
}
