import { z } from 'zod';
import { isOperationalEventType } from './operational-event-types';

/** Event types are lowercase dotted segments: `invoice.created`, `api_key.revoked`. */
const SEGMENT = '[a-z][a-z0-9_]*';
const EVENT_TYPE = new RegExp(`^${SEGMENT}(?:\\.${SEGMENT})*$`);
const EVENT_TYPE_PATTERN = new RegExp(`^(?:\\*|${SEGMENT}(?:\\.${SEGMENT})*(?:\\.\\*)?)$`);

export const eventTypeSchema = z
  .string()
  .max(128)
  .regex(EVENT_TYPE, 'expected lowercase dotted segments such as invoice.created');

/** What a webhook subscribes to: an exact type, a prefix wildcard (`invoice.*`) or `*`. */
export const eventTypePatternSchema = z
  .string()
  .max(128)
  .regex(EVENT_TYPE_PATTERN, 'expected an event type, a prefix wildcard such as invoice.*, or *');

/**
 * Every pattern that matches `type`: the type itself, each prefix wildcard above it and `*`.
 * Matching becomes an indexed `$in` lookup, the same on MongoDB and FerretDB.
 */
export function patternsMatching(type: string): string[] {
  const segments = type.split('.');
  const prefixes = segments.slice(0, -1).map((_, i) => `${segments.slice(0, i + 1).join('.')}.*`);
  // `*` means every event a producer sends; operational events are opted into by name or family.
  return isOperationalEventType(type) ? [type, ...prefixes] : [type, ...prefixes, '*'];
}

export function matchesEventType(patterns: readonly string[], type: string): boolean {
  const candidates = new Set(patternsMatching(type));
  return patterns.some((p) => candidates.has(p));
}
