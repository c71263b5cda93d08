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

/**
 * A multi-choice filter kept in the URL as a comma list (e.g. `severity=critical,high`): the list
 * with `item` added or removed, in the order of `order`; null when it ends up empty (no filter).
 */
export function toggled(list: readonly string[], item: string, order: readonly string[]): string | null {
  const set = new Set(list);
  if (set.has(item)) set.delete(item);
  else set.add(item);
  return order.filter((x) => set.has(x)).join(',') || null;
}
