import { customHeadersSchema, isSensitiveHeader } from '../../src/api/schemas/custom-headers';

const issues = (headers: Record<string, string>) => {
  const result = customHeadersSchema.safeParse(headers);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('custom headers', () => {
  it('accepts ordinary names and values', () => {
    expect(issues({ 'X-Team': 'billing', Authorization: 'Bearer abc.def', 'x-trace_id': 'a b\tc' })).toEqual([]);
  });

  it.each(['Content-Type', 'content-length', 'Host', 'User-Agent', 'webhook-id', 'Webhook-Signature', 'X-Webhook-Signature', 'x-webhook-anything', 'Transfer-Encoding', 'Connection', 'Proxy-Authorization'])(
    'refuses the reserved name %s',
    (name) => {
      expect(issues({ [name]: 'x' })).toEqual([`${name}: ${name} is reserved and cannot be set`]);
    },
  );

  it.each([
    ['a space', 'X Team'],
    ['a colon', 'X-Team:'],
    ['a non-ASCII letter', 'X-Tëam'],
    ['an empty name', ''],
  ])('refuses a name with %s', (_what, name) => {
    expect(issues({ [name]: 'x' })).toHaveLength(1);
  });

  it.each([
    ['CR LF (header injection)', 'a\r\nX-Injected: 1'],
    ['a lone LF', 'a\nb'],
    ['NUL', 'a\0b'],
    ['a non-ASCII character', 'café'],
    ['leading whitespace', ' a'],
  ])('refuses a value with %s', (_what, value) => {
    expect(issues({ 'X-A': value })[0]).toMatch(/^X-A: /);
  });

  it('refuses the same name twice in different case', () => {
    expect(issues({ 'X-A': '1', 'x-a': '2' })).toEqual(['x-a: x-a is given twice (header names are case-insensitive)']);
  });

  it('limits count, name and value length, and total size', () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v']));
    expect(issues(many)).toEqual([': at most 20 custom headers']);
    expect(issues({ ['X'.repeat(257)]: 'v' })).toHaveLength(1);
    expect(issues({ 'X-A': 'v'.repeat(4097) })).toHaveLength(1);
    const big = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`X-H${i}`, 'v'.repeat(4000)]));
    expect(issues(big)).toEqual([': custom headers may total at most 8192 bytes']);
  });

  it('treats credential-like names as sensitive, others not', () => {
    for (const name of ['Authorization', 'authorization', 'Cookie', 'X-Api-Key', 'X-Auth-Token', 'X-Client-Secret', 'X-Password', 'X-Session-Id']) {
      expect([name, isSensitiveHeader(name)]).toEqual([name, true]);
    }
    for (const name of ['X-Team', 'X-Request-Source', 'Accept-Language']) expect([name, isSensitiveHeader(name)]).toEqual([name, false]);
  });
});
