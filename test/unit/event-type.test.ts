import { eventTypePatternSchema, eventTypeSchema, matchesEventType, patternsMatching } from '../../src/events/event-type';
import { EVENT_TYPE_CATALOGUE } from '../../src/events/event-type-catalogue';

describe('event types', () => {
  it.each(['invoice.created', 'api_key.revoked', 'a', 'compliance.data_export_requested', 'a1.b2.c3'])('accepts the name %s', (name) => {
    expect(eventTypeSchema.safeParse(name).success).toBe(true);
  });

  it.each(['Invoice.created', 'invoice..created', '.invoice', 'invoice.', 'invoice created', 'invoice-created', '1invoice', 'invoice.*', '*', 'x'.repeat(129)])(
    'refuses the name %s',
    (name) => {
      expect(eventTypeSchema.safeParse(name).success).toBe(false);
    },
  );

  it.each(['*', 'invoice.*', 'invoice.created', 'a.b.*'])('accepts the subscription pattern %s', (pattern) => {
    expect(eventTypePatternSchema.safeParse(pattern).success).toBe(true);
  });

  it.each(['invoice*', '*.created', 'invoice.*.created', '**', 'invoice.**', 'INVOICE.*'])('refuses the subscription pattern %s', (pattern) => {
    expect(eventTypePatternSchema.safeParse(pattern).success).toBe(false);
  });

  it('matches exact names, prefix wildcards at any depth, and *', () => {
    expect(patternsMatching('invoice.payment.failed')).toEqual(['invoice.payment.failed', 'invoice.*', 'invoice.payment.*', '*']);
    expect(matchesEventType(['invoice.created'], 'invoice.created')).toBe(true);
    expect(matchesEventType(['invoice.created'], 'invoice.paid')).toBe(false);
    expect(matchesEventType(['invoice.*'], 'invoice.paid')).toBe(true);
    expect(matchesEventType(['invoice.*'], 'invoice')).toBe(false);
    expect(matchesEventType(['invoice.*'], 'invoices.paid')).toBe(false);
    expect(matchesEventType(['*'], 'anything.at.all')).toBe(true);
    expect(matchesEventType(['payment.*', 'user.created'], 'invoice.paid')).toBe(false);
  });

  it('has a catalogue of valid, unique, described types covering every product family', () => {
    const names = EVENT_TYPE_CATALOGUE.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const t of EVENT_TYPE_CATALOGUE) {
      expect(eventTypeSchema.safeParse(t.name).success).toBe(true);
      expect(t.description.length).toBeGreaterThan(10);
    }
    const families = new Set(names.map((n) => n.split('.')[0]));
    for (const family of ['invoice', 'payment', 'subscription', 'customer', 'user', 'ticket', 'email', 'file', 'import', 'export', 'compliance', 'usage', 'api_key', 'device', 'alert']) {
      expect([family, families.has(family)]).toEqual([family, true]);
    }
  });
});
