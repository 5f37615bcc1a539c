import { eventFilterSchema, eventPassesFilter, FILTER_MAX_BYTES, FILTER_OPERATORS, type EventFilter } from '../../src/delivery/event-filter';
import type { EventEnvelope } from '../../src/delivery/types';

const envelope = (data: unknown, metadata: Record<string, string> = {}): EventEnvelope => ({
  id: 'evt_1',
  type: 'invoice.created',
  timestamp: '2025-01-01T00:00:00.000Z',
  tenant_id: 'ten_1',
  data,
  metadata,
});

/** The problems the schema names, as `path: message`. */
function problems(filter: unknown): string[] {
  const result = eventFilterSchema.safeParse(filter);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const passes = (filter: EventFilter, event: EventEnvelope) => {
  expect(problems(filter)).toEqual([]);
  return eventPassesFilter(JSON.stringify(filter), event);
};

describe('payload filters', () => {
  it('offers exactly the documented operators', () => {
    expect([...FILTER_OPERATORS].sort()).toEqual(['$and', '$eq', '$exists', '$gt', '$gte', '$in', '$lt', '$lte', '$ne', '$nin', '$nor', '$not', '$options', '$or', '$regex'].sort());
  });

  it('matches the event as the receiver gets it, with MongoDB query semantics', () => {
    const filter = { 'data.amount': { $gte: 1000 }, 'metadata.region': { $in: ['eu'] } };
    expect(passes(filter, envelope({ amount: 1500 }, { region: 'eu' }))).toBe(true);
    expect(passes(filter, envelope({ amount: 500 }, { region: 'eu' }))).toBe(false);
    expect(passes(filter, envelope({ amount: 1500 }, { region: 'us' }))).toBe(false);
    expect(passes({ type: 'invoice.created', tenant_id: { $ne: 'other' } }, envelope({}))).toBe(true);
    expect(passes({ 'data.tags': 'vip' }, envelope({ tags: ['new', 'vip'] }))).toBe(true);
    expect(passes({ 'data.customer.email': { $regex: '@EXAMPLE\\.com$', $options: 'i' } }, envelope({ customer: { email: 'a@example.com' } }))).toBe(true);
    expect(passes({ 'data.note': { $exists: false } }, envelope({ amount: 1 }))).toBe(true);
    expect(passes({ $or: [{ 'data.amount': { $lt: 10 } }, { 'data.amount': { $gt: 100 } }] }, envelope({ amount: 50 }))).toBe(false);
    expect(passes({ $nor: [{ 'data.amount': { $lte: 10 } }] }, envelope({ amount: 50 }))).toBe(true);
    expect(passes({ $and: [{ 'data.amount': { $not: { $eq: 50 } } }] }, envelope({ amount: 50 }))).toBe(false);
    expect(passes({ 'data.status': { $nin: ['void', 'draft'] } }, envelope({ status: 'paid' }))).toBe(true);
    expect(passes({}, envelope({}))).toBe(true);
    expect(eventPassesFilter(null, envelope({}))).toBe(true);
  });

  it('refuses every other operator, $where and the code-running ones first, wherever they are', () => {
    expect(problems({ $where: 'this.data.amount > 1' })).toEqual(['$where: operator $where is not allowed: filters never run code']);
    expect(problems({ $expr: { $gt: ['$data.a', 1] } })).toEqual(['$expr: operator $expr is not allowed: filters never run code']);
    expect(problems({ 'data.a': { $function: {} } })).toEqual(['data.a.$function: operator $function is not allowed: filters never run code']);
    expect(problems({ $or: [{ 'data.a': 1 }, { 'data.b': { $elemMatch: { x: 1 } } }] })).toEqual([
      `$or.1.data.b.$elemMatch: operator $elemMatch is not allowed: use one of ${FILTER_OPERATORS.join(' ')}`,
    ]);
    // Not even as a literal compared for equality.
    expect(problems({ 'data.a': { $eq: { $where: 'x' } } })).toHaveLength(1);
    for (const op of ['$size', '$all', '$mod', '$type', '$text', '$jsonSchema']) expect([op, problems({ 'data.a': { [op]: 1 } })]).toEqual([op, [expect.stringContaining(`operator ${op} is not allowed`)]]);
    // A stored filter that names one (never one the API accepted) cannot run it either.
    expect(() => eventPassesFilter(JSON.stringify({ $where: 'true' }), envelope({}))).toThrow(/Unsupported operation: \$where/);
  });

  it('refuses regular expressions over 256 characters or invalid, and flags other than i, m, s, u', () => {
    expect(problems({ 'data.s': { $regex: 'a'.repeat(256) } })).toEqual([]);
    expect(problems({ 'data.s': { $regex: 'a'.repeat(257) } })).toEqual(['data.s.$regex: a regular expression may be at most 256 characters']);
    expect(problems({ 'data.s': { $regex: '(unclosed' } })).toEqual([expect.stringMatching(/^data\.s\.\$regex: invalid regular expression/)]);
    // RE2 syntax: what would need backtracking is refused.
    expect(problems({ 'data.s': { $regex: '(a)\\1' } })).toEqual([expect.stringMatching(/^data\.s\.\$regex: invalid regular expression \(RE2 syntax/)]);
    expect(problems({ 'data.s': { $regex: 'a(?=b)' } })).toEqual([expect.stringMatching(/^data\.s\.\$regex: invalid regular expression \(RE2 syntax/)]);
    expect(problems({ 'data.s': { $regex: 'a', $options: 'g' } })).toEqual(['data.s.$options: $options takes the flags i, m, s and u']);
    expect(problems({ 'data.s': { $options: 'i' } })).toEqual(['data.s.$options: $options goes with $regex']);
    expect(problems({ 'data.s': { $regex: 1 } })).toEqual(['data.s.$regex: $regex takes a string']);
  });

  it('runs $regex on RE2: its syntax, and a pattern that backtracks catastrophically in JavaScript answers at once', () => {
    // `(?i)` is RE2 syntax (JavaScript refuses it): this filter only compiles and matches on RE2,
    // where the 2^40 ways to split these A's that JavaScript's engine would try are one pass.
    const filter = { 'data.s': { $regex: '(?i)^(a+)+$' } };
    expect(problems(filter)).toEqual([]);
    expect(passes(filter, envelope({ s: `${'A'.repeat(40)}!` }))).toBe(false);
    expect(passes(filter, envelope({ s: 'aA'.repeat(50_000) }))).toBe(true);
    expect(passes({ 'data.s': { $regex: '^x.y$', $options: 's' } }, envelope({ s: 'x\ny' }))).toBe(true);
    expect(passes({ 'data.s': { $regex: '^y$', $options: 'm' } }, envelope({ s: 'x\ny' }))).toBe(true);
    expect(passes({ 'data.s': { $regex: '^y$' } }, envelope({ s: 'x\ny' }))).toBe(false);
  });

  it('refuses a filter over 4 KB of JSON', () => {
    const sized = (bytes: number) => ({ 'data.s': 'x'.repeat(bytes - JSON.stringify({ 'data.s': '' }).length) });
    expect(JSON.stringify(sized(FILTER_MAX_BYTES)).length).toBe(4096);
    expect(problems(sized(4096))).toEqual([]);
    expect(problems(sized(4097))).toEqual([': a filter may be at most 4096 bytes of JSON']);
    // Bytes, not characters.
    expect(problems({ 'data.s': 'é'.repeat(2050) })).toEqual([': a filter may be at most 4096 bytes of JSON']);
  });

  it('refuses malformed operands and queries sift cannot run', () => {
    expect(problems({ $or: [] })).toEqual(['$or: $or takes a non-empty array of filters']);
    expect(problems({ $and: ['x'] })).toEqual(['$and: $and takes a non-empty array of filters']);
    expect(problems({ 'data.a': { $in: 'eu' } })).toEqual(['data.a.$in: $in takes an array']);
    expect(problems({ 'data.a': { $exists: 1 } })).toEqual(['data.a.$exists: $exists takes true or false']);
    expect(problems({ 'data.a': { $not: 5 } })).toEqual(['data.a.$not: $not takes an operator expression such as {"$gte": 10}']);
    expect(problems({ 'data.a': { $gt: 1, b: 2 } })).toEqual([': Property queries must contain only operations, or exact objects.']);
    expect(problems(['data.a'])).toHaveLength(1);
    expect(problems('data.a')).toHaveLength(1);
  });
});
