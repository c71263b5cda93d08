import type { CostSums } from './cost.ts';
import { addCostSums, emptyCostSums } from './cost.ts';
import type { Anchor, Collected, Item, ItemResource } from './collect.ts';
import { DISTINCT_RULES, RULE_IDS } from './rules.ts';

/** At most this many resources are kept per rule (SPEC §3.6: the first 10). */
export const MAX_RESOURCES = 10;

/**
 * One rule's tally in a partial: its count and its first `MAX_RESOURCES` resources in canonical
 * order. For rules in `DISTINCT_RULES` (an incident may touch several workloads of one namespace)
 * `keys` holds every counted key, so that `combine` counts each once; such rules are bounded by
 * their own state cap (incidents: 500, SPEC §9).
 */
export interface RuleTally {
  count: number;
  resources: ItemResource[];
  keys?: string[];
}

/**
 * Additive counts of one scope, or of the part of a scope owned by one stage (a workload; a
 * namespace's own facts; the cluster's own facts). `combine` sums partials; `scoreFromPartial`
 * turns a (combined) partial into a score.
 */
export interface ScorePartial {
  /** Objects observed (0 = no data). */
  observed: number;
  /** Rules with a count above 0, in rule table order. */
  rules: Record<string, RuleTally>;
  cost: CostSums;
}

export function emptyPartial(): ScorePartial {
  return { observed: 0, rules: {}, cost: emptyCostSums() };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Canonical resource order: namespace (cluster-scoped first), kind, name, key. */
export function compareResources(a: ItemResource, b: ItemResource): number {
  return (
    compareText(a.namespace ?? '', b.namespace ?? '') ||
    compareText(a.kind, b.kind) ||
    compareText(a.name, b.name) ||
    compareText(a.key, b.key)
  );
}

function mergeResources(
  a: readonly ItemResource[],
  b: readonly ItemResource[],
  distinct: boolean,
): ItemResource[] {
  const out: ItemResource[] = [];
  let i = 0;
  let j = 0;
  while (out.length < MAX_RESOURCES && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    let next: ItemResource;
    if (x === undefined) next = b[j++] as ItemResource;
    else if (y === undefined) next = a[i++] as ItemResource;
    else {
      const c = compareResources(x, y);
      if (c === 0 && distinct) {
        j++;
        next = a[i++] as ItemResource;
      } else if (c <= 0) next = a[i++] as ItemResource;
      else next = b[j++] as ItemResource;
    }
    const last = out[out.length - 1];
    if (distinct && last !== undefined && last.key === next.key) continue;
    out.push(next);
  }
  return out;
}

function mergeKeys(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort(compareText);
}

function combineTally(
  rule: string,
  a: RuleTally | undefined,
  b: RuleTally | undefined,
): RuleTally | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const distinct = DISTINCT_RULES.has(rule);
  const resources = mergeResources(a.resources, b.resources, distinct);
  if (!distinct) return { count: a.count + b.count, resources };
  const keys = mergeKeys(a.keys ?? [], b.keys ?? []);
  return { count: keys.length, resources, keys };
}

/** The sum of partials: counts add, resource lists merge (first 10 kept), distinct keys unite. */
export function combine(...partials: readonly ScorePartial[]): ScorePartial {
  let observed = 0;
  let cost = emptyCostSums();
  for (const p of partials) {
    observed += p.observed;
    cost = addCostSums(cost, p.cost);
  }
  const rules: Record<string, RuleTally> = {};
  for (const id of RULE_IDS) {
    let tally: RuleTally | undefined;
    for (const p of partials) tally = combineTally(id, tally, p.rules[id]);
    if (tally !== undefined && tally.count > 0) rules[id] = tally;
  }
  return { observed, rules, cost };
}

/** Adds one item to a tally in place (count, sorted first-10 list, distinct keys). */
function addItem(rules: Record<string, RuleTally>, item: Item): void {
  const distinct = DISTINCT_RULES.has(item.rule);
  let tally = rules[item.rule];
  if (tally === undefined) {
    tally = distinct ? { count: 0, resources: [], keys: [] } : { count: 0, resources: [] };
    rules[item.rule] = tally;
  }
  const r = item.resource;
  if (distinct) {
    const keys = tally.keys ?? [];
    if (keys.includes(r.key)) return;
    keys.push(r.key);
    keys.sort(compareText);
    tally.keys = keys;
    tally.count = keys.length;
  } else {
    tally.count += 1;
  }
  const list = tally.resources;
  const last = list[list.length - 1];
  if (list.length >= MAX_RESOURCES && last !== undefined && compareResources(r, last) >= 0) return;
  let at = list.length;
  while (at > 0 && compareResources(r, list[at - 1] as ItemResource) < 0) at -= 1;
  list.splice(at, 0, r);
  if (list.length > MAX_RESOURCES) list.pop();
}

/**
 * The partial of everything in `collected` whose anchor `select` accepts, folded one fact at a
 * time as a streaming stage would. Equal to `combine` of the single-fact partials.
 */
export function partialOf(collected: Collected, select: (anchor: Anchor) => boolean): ScorePartial {
  let observed = 0;
  let cost = emptyCostSums();
  for (const a of collected.observed) if (select(a)) observed += 1;
  for (const c of collected.cost) if (select(c.anchor)) cost = addCostSums(cost, c.sums);
  const unordered: Record<string, RuleTally> = {};
  for (const item of collected.items) if (select(item.anchor)) addItem(unordered, item);
  const rules: Record<string, RuleTally> = {};
  for (const id of RULE_IDS) {
    const tally = unordered[id];
    if (tally !== undefined && tally.count > 0) rules[id] = tally;
  }
  return { observed, rules, cost };
}
