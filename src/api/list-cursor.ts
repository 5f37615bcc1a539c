/**
 * Opaque cursors of list pages: the sort key (creation time, id) of the last item returned,
 * so pages stay stable while items are added or removed. The format is one regular expression,
 * so the OpenAPI document says exactly which cursors the server takes.
 */
import { z } from 'zod';

export interface ListPosition {
  createdAt: Date;
  id: string;
}

/**
 * `<milliseconds since 1970>.<id>`: at most 15 digits, so every cursor is a time a Date holds
 * (whose range ends at 8.64e15 ms), and an id of the kinds the lists sort by (`wh_…`, `dlv_…`,
 * and event ids, which may hold `.` and `:`: the digits end at the first `.`).
 */
const CURSOR = /^(0|[1-9][0-9]{0,14})\.([A-Za-z0-9_.:-]{1,128})$/;

export function encodeCursor(position: ListPosition): string {
  return `${position.createdAt.getTime()}.${position.id}`;
}

/** The position a cursor names, or undefined when it is not one this service made. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  const match = CURSOR.exec(cursor);
  return match ? { createdAt: new Date(Number(match[1])), id: match[2] } : undefined;
}

/** The `cursor` query parameter of every list: parsed into the position it names. */
export const cursorSchema = z
  .string()
  .regex(CURSOR, 'expected a cursor returned by a previous page')
  .transform((cursor) => decodeCursor(cursor)!)
  .meta({ description: 'Opaque: the `nextCursor` of the previous page.' });
