/**
 * Keyset pagination shared by the stores: a cursor is the sort key of the last item of a page
 * (base64url JSON), so a page never skips or repeats an item while rows change between calls.
 */
import { HetuError } from '@hetu/streams';

export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
  /** Cursor of the last item, or null for an empty page. */
  readonly endCursor: string | null;
  /** Items matching the filter, all pages together. */
  readonly totalCount: number;
  /** Cursor of each item, in order. */
  readonly cursors: readonly string[];
}

export type CursorValue = string | number | null;

export const MAX_PAGE = 500;

export function encodeCursor(values: readonly CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): CursorValue[] {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (
    !Array.isArray(v) ||
    v.length !== arity ||
    !v.every((x) => x === null || typeof x === 'string' || typeof x === 'number')
  ) {
    throw new HetuError(
      'HETU_API_BAD_CURSOR',
      'The cursor is not one this list returned: pass the endCursor of the previous page, or omit it for the first page.',
    );
  }
  return v as CursorValue[];
}

/** Checks `first` (1..MAX_PAGE). */
export function pageSize(first: number | null | undefined, fallback = 50): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new HetuError('HETU_API_BAD_ARGUMENT', `first must be an integer from 1 to ${MAX_PAGE}, not ${n}.`);
  }
  return n;
}

/** A small WHERE builder: clauses joined by AND, with positional parameters. */
export class Where {
  readonly clauses: string[] = [];
  readonly params: (string | number | bigint | null)[] = [];

  add(clause: string, ...params: (string | number | bigint | null)[]): this {
    this.clauses.push(clause);
    this.params.push(...params);
    return this;
  }

  /** `col IN (?, ?, …)`; nothing for an empty or absent list. */
  in(col: string, values: readonly string[] | null | undefined): this {
    if (!values || values.length === 0) return this;
    return this.add(`${col} IN (${values.map(() => '?').join(', ')})`, ...values);
  }

  /** `col = ?` when the value is given. */
  eq(col: string, value: string | number | null | undefined): this {
    if (value === undefined || value === null) return this;
    return this.add(`${col} = ?`, value);
  }

  /** Case-insensitive substring match on a lower-cased column. */
  like(col: string, text: string | null | undefined): this {
    if (text === undefined || text === null || text.trim() === '') return this;
    const escaped = text
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, (c) => `\\${c}`);
    return this.add(`${col} LIKE ? ESCAPE '\\'`, `%${escaped}%`);
  }

  sql(): string {
    return this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`;
  }
}

export interface SortKey {
  /** SQL expression of the sort column (never null). */
  readonly col: string;
  readonly desc: boolean;
}

/**
 * Runs a keyset-paginated query: `select` lists the columns (it must include `sortValue` and
 * `tieValue` aliases), ordered by the sort key then the tie-breaker ascending.
 */
export function keysetPage<R, T>(
  run: (
    sql: string,
    params: (string | number | bigint | null)[],
  ) => (R & { sortValue: CursorValue; tieValue: string })[],
  count: (sql: string, params: (string | number | bigint | null)[]) => number,
  opts: {
    readonly from: string;
    readonly select: string;
    readonly where: Where;
    readonly sort: SortKey;
    readonly tie: string;
    readonly first: number;
    readonly after: string | null | undefined;
    readonly map: (row: R) => T;
  },
): Page<T> {
  const total = count(`SELECT COUNT(*) AS n FROM ${opts.from} ${opts.where.sql()}`, opts.where.params);
  const w = new Where();
  w.clauses.push(...opts.where.clauses);
  w.params.push(...opts.where.params);
  if (opts.after) {
    const [sv, tv] = decodeCursor(opts.after, 2);
    const cmp = opts.sort.desc ? '<' : '>';
    w.add(
      `(${opts.sort.col} ${cmp} ? OR (${opts.sort.col} = ? AND ${opts.tie} > ?))`,
      sv ?? null,
      sv ?? null,
      tv ?? '',
    );
  }
  const rows = run(
    `SELECT ${opts.select}, ${opts.sort.col} AS sortValue, ${opts.tie} AS tieValue FROM ${opts.from} ${w.sql()}
     ORDER BY ${opts.sort.col} ${opts.sort.desc ? 'DESC' : 'ASC'}, ${opts.tie} ASC LIMIT ?`,
    [...w.params, opts.first + 1],
  );
  const hasNextPage = rows.length > opts.first;
  const page = rows.slice(0, opts.first);
  const cursors = page.map((r) => encodeCursor([r.sortValue, r.tieValue]));
  return {
    items: page.map(opts.map),
    hasNextPage,
    endCursor: cursors.length ? cursors[cursors.length - 1]! : null,
    totalCount: total,
    cursors,
  };
}
