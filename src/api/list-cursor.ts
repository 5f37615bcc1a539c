/**
 * Opaque cursors of list pages: the sort key (creation time, id) of the last item returned,
 * so pages stay stable while items are added or removed.
 */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.getTime(), position.id])).toString('base64url');
}

/** The position a cursor names, or undefined when it is not one this service made. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [time, id] = value as unknown[];
    if (!Number.isSafeInteger(time) || typeof id !== 'string' || id.length > 64) return undefined;
    return { createdAt: new Date(time as number), id };
  } catch {
    return undefined;
  }
}
