/** A PostgreSQL array literal from trusted integers (`CAST(:ids AS integer[])`): one parameter instead of one per id. */
export function intArray(ids: readonly number[]): string {
  return `{${ids.map((n) => Math.trunc(n)).join(',')}}`;
}

/** A LIKE/ILIKE pattern matching `text` anywhere, with its wildcards escaped (use with `ESCAPE '\'`). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
