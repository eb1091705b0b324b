// Page cursors: the position after the last entry read, as base64url JSON. Opaque to callers, stateless for the store.

export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** The position a cursor holds; throws "invalid page cursor" for anything a store did not make. */
export function decodeCursor(cursor: string): Record<string, string | number> {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    position = undefined;
  }
  const isKeyValue = (value: unknown) => typeof value === 'string' || typeof value === 'number';
  if (
    typeof position !== 'object' ||
    position === null ||
    Array.isArray(position) ||
    !Object.values(position).every(isKeyValue)
  ) {
    throw new Error('invalid page cursor');
  }
  return position as Record<string, string | number>;
}

/** listActivePage's guard: a page of zero would hand back the cursor it was given, and paging would never end. */
export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`listActivePage: limit must be a positive integer (got ${limit})`);
  }
}
