/**
 * Filters and tabs live in the URL: `withParams(params, { status: 'open', page: null })` is the
 * query string (`?…`) of `params` with those keys set, or removed where the value is null or empty.
 */
export function withParams(params: URLSearchParams, changes: Record<string, string | null>): string {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(changes)) {
    if (v) next.set(k, v);
    else next.delete(k);
  }
  return `?${next.toString()}`;
}
