import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/operations.md as the tests that perform its steps read it: the names of what an operator
 * clicks and the queries they paste come from the page itself, so the guide cannot drift from
 * what the Web UI shows without a test failing.
 */
const GUIDE = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');

/** The text from `heading` (a whole heading line) up to the next heading of any level. */
export function guideSection(heading: string): string {
  const start = GUIDE.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/operations.md has no heading "${heading}"`);
  const body = GUIDE.slice(start + heading.length + 2);
  const next = body.search(/^#{1,6} /m);
  return next < 0 ? body : body.slice(0, next);
}

/** The **bold** names of a text, in order: the guide puts what an operator sees or clicks in bold. */
export function boldNames(text: string): string[] {
  return [...text.matchAll(/\*\*(.+?)\*\*/gs)].map((m) => m[1].replace(/\s+/g, ' '));
}

/** The `code` spans of a text, in order. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** The rows of the first `| What | Query |` table of a text: description → query. */
export function queryTable(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\| ([^|]+?) \| `([^`]+)` \|$/gm)) rows.set(m[1], m[2]);
  return rows;
}
