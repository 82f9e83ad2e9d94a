import { BadRequest } from '../errors';

/**
 * The two ways Herald pages a list, in one place. Users' own lists are keyset-paged (an opaque cursor holding the
 * last id seen: stable while new rows arrive); the console's tables are offset-paged (they jump to any page),
 * with the total riding on the rows as `count(*) OVER ()`.
 */

/** 1-based page, bounded page size (the API validates both). */
export interface PageRequest {
  page: number;
  pageSize: number;
}

/** One page of an offset-paged list and the number of matches across all pages. */
export interface Page<T> {
  results: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** One page of a keyset-paged list; `nextCursor` is null on the last page. */
export interface KeysetPage<T> {
  results: T[];
  nextCursor: string | null;
}

export function offsetOf(p: PageRequest): number {
  return (p.page - 1) * p.pageSize;
}

/**
 * Builds a page from rows carrying `count(*) OVER ()` as `total`. Past the last page there is no row for the
 * total to ride on, so only then `countAll` runs (one more statement, for a page nobody should normally ask for).
 */
export async function offsetPage<R extends { total: string | number }, T>(
  p: PageRequest,
  rows: R[],
  toResult: (row: R) => T,
  countAll: () => Promise<number>,
): Promise<Page<T>> {
  let total = rows.length > 0 ? Number(rows[0].total) : 0;
  if (rows.length === 0 && p.page > 1) total = await countAll();
  return { results: rows.map(toResult), total, page: p.page, pageSize: p.pageSize };
}

const CURSOR_RE = /^n(\d{1,18})$/;

/** Keyset cursors are opaque to clients; inside they are the last id seen. */
export function encodeCursor(id: number): string {
  return Buffer.from(`n${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = CURSOR_RE.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m || cursor.length > 40) throw new BadRequest('The cursor is invalid.', { field: 'cursor' });
  return Number(m[1]);
}

/**
 * Rows fetched with `limit + 1` become a page of `limit` and the cursor after its last row; the extra row only
 * says that there is more.
 */
export function keysetPage<T>(rows: T[], limit: number, idOf: (row: T) => number): KeysetPage<T> {
  const more = rows.length > limit;
  const results = more ? rows.slice(0, limit) : rows;
  return { results, nextCursor: more ? encodeCursor(idOf(results[results.length - 1])) : null };
}
