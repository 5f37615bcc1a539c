import { literal } from '../../src/temporal/literal';

/**
 * A CommonMark code span (what `literal` must produce, so the Web UI shows an id as it is): a
 * fence of n backticks, content with no run of exactly n backticks, one padding space stripped
 * from each side when the content has a non-space character and a space at both ends.
 */
function codeSpanContent(text: string): string | undefined {
  const fence = /^`+/.exec(text)?.[0];
  if (!fence || !text.endsWith(fence) || text.length < 2 * fence.length + 1) return undefined;
  const inner = text.slice(fence.length, -fence.length);
  if ((inner.match(/`+/g) ?? []).some((run) => run.length === fence.length)) return undefined;
  return inner.length > 2 && inner.startsWith(' ') && inner.endsWith(' ') && inner.trim() ? inner.slice(1, -1) : inner;
}

describe('literal: ids in Web UI summaries', () => {
  it.each(['wh_OdCU--_x9', 'dlv_a__b__c', 'order-42...(c)', 'a`b', '`edge`', 'x``y`', '{"tenantId":"ten_1"}'])('makes %s a code span of itself', (id) => {
    expect(codeSpanContent(literal(id))).toBe(id);
  });

  it('uses single backticks for an id without any', () => {
    expect(literal('wh_OdCU--_x9')).toBe('`wh_OdCU--_x9`');
  });
});
