import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { $and, $eq, $exists, $gt, $gte, $in, $lt, $lte, $ne, $nin, $nor, $not, $options, $or, createEqualsOperation, createQueryTester, type Query } from 'sift';
import { z } from 'zod';
import type { EventEnvelope } from './types';

/** RE2 flags for the `$options` letters (`u` is RE2's own behaviour: it matches code points). */
const RE2_FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0 };

/** A `$regex` pattern compiled by RE2; throws for one RE2 does not take (backreferences, lookaround). */
function re2(pattern: string, options: unknown): RE2JS {
  const flags = [...(typeof options === 'string' ? options : '')].reduce((all, letter) => all | (RE2_FLAGS[letter] ?? 0), 0);
  return RE2JS.compile(pattern, flags);
}

/**
 * `$regex` on RE2 instead of JavaScript's backtracking engine: a tenant's pattern such as
 * `(a+)+$` would otherwise hold a worker's event loop (and every tenant's deliveries) for minutes
 * on one large event; RE2 matches in time linear in the input.
 */
const $regex = (pattern: string, owner: Query<unknown>, options: Parameters<typeof createEqualsOperation>[2]) => {
  const re = re2(pattern, (owner as { $options?: unknown }).$options);
  return createEqualsOperation((value: unknown) => typeof value === 'string' && re.test(value), owner, options);
};

/**
 * A webhook's payload filter: a MongoDB-style query over the event as the receiver gets it
 * (`{id, type, timestamp, tenant_id, data, metadata}`), evaluated by sift. sift is handed these
 * operations alone, so `$where`, `$expr`, `$function` or any other code-running operator can
 * never run, whatever a stored filter says.
 */
const OPERATIONS = { $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $regex, $options, $and, $or, $nor, $not };

export const FILTER_OPERATORS = Object.keys(OPERATIONS);

/** Largest filter, as compact JSON (UTF-8 bytes). */
export const FILTER_MAX_BYTES = 4096;

/** Longest `$regex` pattern, in characters. */
export const FILTER_REGEX_MAX_LENGTH = 256;

/** `$options` flags that mean the same to MongoDB and JavaScript; `g` and `y` would make a test stateful. */
const REGEX_FLAGS = /^[imsu]*$/;

export type EventFilter = Record<string, unknown>;

interface FilterProblem {
  path: (string | number)[];
  message: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with the operand of `operator` (found in `owner`), or undefined. */
function operandProblem(operator: string, operand: unknown, owner: Record<string, unknown>): string | undefined {
  switch (operator) {
    case '$and':
    case '$or':
    case '$nor':
      return Array.isArray(operand) && operand.length > 0 && operand.every(isObject) ? undefined : `${operator} takes a non-empty array of filters`;
    case '$in':
    case '$nin':
      return Array.isArray(operand) ? undefined : `${operator} takes an array`;
    case '$exists':
      return typeof operand === 'boolean' ? undefined : '$exists takes true or false';
    case '$not':
      return isObject(operand) ? undefined : '$not takes an operator expression such as {"$gte": 10}';
    case '$options':
      if (!('$regex' in owner)) return '$options goes with $regex';
      return typeof operand === 'string' && REGEX_FLAGS.test(operand) ? undefined : '$options takes the flags i, m, s and u';
    case '$regex': {
      if (typeof operand !== 'string') return '$regex takes a string';
      if (operand.length > FILTER_REGEX_MAX_LENGTH) return `a regular expression may be at most ${FILTER_REGEX_MAX_LENGTH} characters`;
      try {
        re2(operand, owner.$options);
      } catch (err) {
        return `invalid regular expression (RE2 syntax: no backreferences or lookaround): ${(err as Error).message}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Every problem of a filter, each at its path inside it (`data.amount.$gte`). */
function filterProblems(node: unknown, path: (string | number)[] = []): FilterProblem[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => filterProblems(item, [...path, i]));
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) => {
    const at = [...path, key];
    if (key.startsWith('$') && !FILTER_OPERATORS.includes(key)) {
      const why = ['$where', '$function', '$accumulator', '$expr'].includes(key) ? 'filters never run code' : `use one of ${FILTER_OPERATORS.join(' ')}`;
      return [{ path: at, message: `operator ${key} is not allowed: ${why}` }];
    }
    const problem = key.startsWith('$') ? operandProblem(key, value, node) : undefined;
    return problem ? [{ path: at, message: problem }] : filterProblems(value, at);
  });
}

/** The filter as sift runs it; throws sift's message for a query it cannot run. */
const compile = (filter: EventFilter) => createQueryTester<EventEnvelope>(filter, { operations: OPERATIONS });

export const eventFilterSchema = z
  .record(z.string(), z.unknown())
  .superRefine((filter, ctx) => {
    if (Buffer.byteLength(JSON.stringify(filter)) > FILTER_MAX_BYTES) {
      ctx.addIssue({ code: 'custom', message: `a filter may be at most ${FILTER_MAX_BYTES} bytes of JSON` });
      return;
    }
    const problems = filterProblems(filter);
    for (const { path, message } of problems) ctx.addIssue({ code: 'custom', path, message });
    if (problems.length) return;
    try {
      compile(filter);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  })
  .meta({
    description: `MongoDB-style query over the event as the receiver gets it ({id, type, timestamp, tenant_id, data, metadata}), e.g. {"data.amount": {"$gte": 1000}}; only events it matches are delivered. Operators: ${FILTER_OPERATORS.join(' ')}; any other ($where included) is refused. At most ${FILTER_MAX_BYTES} bytes of JSON; each $regex at most ${FILTER_REGEX_MAX_LENGTH} characters.`,
  });

/**
 * Compiled filters by their JSON: a fan-out tests every webhook of a page against each event,
 * and the same filters come back event after event.
 */
const compiled = new LRUCache<string, (envelope: EventEnvelope) => boolean>({ max: 10_000 });

/** Whether the event passes a filter stored as JSON (`webhooks.filter`; see eventFilterSchema); no filter: it does. */
export function eventPassesFilter(filterJson: string | null | undefined, envelope: EventEnvelope): boolean {
  if (!filterJson) return true;
  let test = compiled.get(filterJson);
  if (!test) {
    test = compile(JSON.parse(filterJson) as EventFilter);
    compiled.set(filterJson, test);
  }
  return test(envelope);
}
