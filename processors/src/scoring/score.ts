import { HetuError } from '@hetu/streams';
import type { Anchor, Collected } from './collect.ts';
import { collect } from './collect.ts';
import { costEfficiency } from './cost.ts';
import { levelOf, overallScore } from './overall.ts';
import type { ScorePartial } from './partial.ts';
import { combine, partialOf } from './partial.ts';
import { RULES } from './rules.ts';
import type { ParsedScope } from './scope.ts';
import { namespaceScope, parseScope } from './scope.ts';
import type { Deduction, Dimension, ScopeScore, ScoringInput } from './types.ts';

/** A rule's points ÷ its count, to two decimals (negative like the points; half away from 0). */
export function shareOf(points: number, count: number): number {
  if (count <= 0) return 0;
  const hundredths = Math.round((Math.abs(points) * 100) / count);
  return hundredths === 0 ? 0 : (Math.sign(points) * hundredths) / 100;
}

function clampScore(n: number): number {
  return Math.min(100, Math.max(0, n));
}

function noDataScore(scope: string): ScopeScore {
  return {
    scope,
    overall: null,
    level: null,
    reliability: null,
    security: null,
    cost: null,
    architecture: null,
    deductions: [],
    efficiency: null,
    noData: true,
  };
}

/** Turns the (combined) partial of a scope into its score (SPEC §3 mechanics). */
export function scoreFromPartial(scope: string, partial: ScorePartial): ScopeScore {
  if (partial.observed === 0) return noDataScore(scope);
  const efficiency = costEfficiency(partial.cost);
  const deductions: Deduction[] = [];
  const lost: Record<Dimension, number> = { reliability: 0, security: 0, cost: 0, architecture: 0 };
  for (const rule of RULES) {
    const tally = partial.rules[rule.id];
    if (tally === undefined || tally.count === 0) continue;
    const deducted = Math.min(tally.count * rule.perItem, rule.cap);
    const points = -deducted;
    const share = shareOf(points, tally.count);
    lost[rule.dimension] += deducted;
    deductions.push({
      dimension: rule.dimension,
      rule: rule.id,
      title: rule.title,
      severity: rule.severity,
      points,
      count: tally.count,
      perItem: rule.perItem,
      cap: rule.cap,
      resources: tally.resources.map((r) => ({
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        status: r.status,
        detail: r.detail,
        share,
        evidence: r.evidence,
      })),
      totalResources: tally.count,
    });
  }
  const reliability = clampScore(100 - lost.reliability);
  const security = clampScore(100 - lost.security);
  const cost = clampScore(efficiency.base - lost.cost);
  const architecture = clampScore(100 - lost.architecture);
  const overall = overallScore(reliability, security, cost, architecture);
  return {
    scope,
    overall,
    level: levelOf(overall),
    reliability,
    security,
    cost,
    architecture,
    deductions,
    efficiency,
    noData: false,
  };
}

function selector(parsed: ParsedScope): (anchor: Anchor) => boolean {
  switch (parsed.type) {
    case 'cluster':
      return () => true;
    case 'namespace':
      return (a) => a.namespace === parsed.namespace;
    case 'workload':
      return (a) => a.workload === parsed.key;
  }
}

/** Throws `HETU_SCORING_BAD_SCOPE` for a scope that is not `cluster`, `namespace:…`, `workload:…`. */
export function mustParseScope(scope: string): ParsedScope {
  const parsed = parseScope(scope);
  if (parsed === undefined) {
    throw new HetuError(
      'HETU_SCORING_BAD_SCOPE',
      `scope "${scope}" is not cluster, namespace:<ns> or workload:<ns>/<Kind>/<name>`,
    );
  }
  return parsed;
}

/** The score of one scope, computed directly from every fact in `input` (SPEC §3). */
export function scoreScope(input: ScoringInput, scope: string): ScopeScore {
  return scoreCollected(collect(input), scope);
}

export function scoreCollected(collected: Collected, scope: string): ScopeScore {
  return scoreFromPartial(scope, partialOf(collected, selector(mustParseScope(scope))));
}

/**
 * The partials of the staged aggregation (DESIGN §3: workload → namespace → cluster). Each fact
 * belongs to exactly one stage: a workload's own (`workloads`), a namespace's own facts outside
 * any workload (`namespaces`), or the cluster's own facts outside any namespace (`cluster`).
 * A namespace's score is `combine(own, ...its workloads)`; the cluster's is
 * `combine(clusterOwn, ...every namespace's combined partial)`.
 */
export interface StagedPartials {
  /** Sorted by scope. */
  workloads: { scope: string; namespace: string; partial: ScorePartial }[];
  /** Sorted by namespace; every namespace with an own fact or a workload. */
  namespaces: { namespace: string; own: ScorePartial }[];
  clusterOwn: ScorePartial;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function stagedPartials(input: ScoringInput): StagedPartials {
  // One pass: every fact goes to the bucket of its stage (workload, namespace's own, cluster's own).
  const buckets = new Map<string, Collected>();
  const workloadNamespace = new Map<string, string>();
  const namespaces = new Set<string>();
  const bucketOf = (a: Anchor): Collected => {
    let id = 'cluster';
    if (a.workload !== undefined && a.namespace !== undefined) {
      id = `workload:${a.workload}`;
      workloadNamespace.set(a.workload, a.namespace);
      namespaces.add(a.namespace);
    } else if (a.namespace !== undefined) {
      id = `namespace:${a.namespace}`;
      namespaces.add(a.namespace);
    }
    let b = buckets.get(id);
    if (b === undefined) {
      b = { items: [], observed: [], cost: [] };
      buckets.set(id, b);
    }
    return b;
  };
  const collected = collect(input);
  for (const a of collected.observed) bucketOf(a).observed.push(a);
  for (const i of collected.items) bucketOf(i.anchor).items.push(i);
  for (const c of collected.cost) bucketOf(c.anchor).cost.push(c);
  const all = (): boolean => true;
  const partialFor = (id: string): ScorePartial => {
    const b = buckets.get(id);
    return b === undefined ? partialOf({ items: [], observed: [], cost: [] }, all) : partialOf(b, all);
  };
  const workloads = [...workloadNamespace]
    .sort(([a], [b]) => compareText(a, b))
    .map(([key, namespace]) => ({
      scope: `workload:${key}`,
      namespace,
      partial: partialFor(`workload:${key}`),
    }));
  const nsOwn = [...namespaces]
    .sort(compareText)
    .map((namespace) => ({ namespace, own: partialFor(`namespace:${namespace}`) }));
  return { workloads, namespaces: nsOwn, clusterOwn: partialFor('cluster') };
}

/** Scores from staged partials: the cluster, each namespace (sorted), each workload (sorted). */
export function scoreStaged(staged: StagedPartials): ScopeScore[] {
  const workloadScores: ScopeScore[] = [];
  const byNamespace = new Map<string, ScorePartial[]>();
  for (const w of staged.workloads) {
    const list = byNamespace.get(w.namespace) ?? [];
    list.push(w.partial);
    byNamespace.set(w.namespace, list);
    const score = scoreFromPartial(w.scope, w.partial);
    if (!score.noData) workloadScores.push(score);
  }
  const namespaceScores: ScopeScore[] = [];
  const namespacePartials: ScorePartial[] = [];
  for (const ns of staged.namespaces) {
    const partial = combine(ns.own, ...(byNamespace.get(ns.namespace) ?? []));
    namespacePartials.push(partial);
    const score = scoreFromPartial(namespaceScope(ns.namespace), partial);
    if (!score.noData) namespaceScores.push(score);
  }
  const cluster = scoreFromPartial('cluster', combine(staged.clusterOwn, ...namespacePartials));
  return cluster.noData ? [] : [cluster, ...namespaceScores, ...workloadScores];
}

/** Every scope that has data: the cluster, then namespaces, then workloads (each sorted). */
export function scoreAll(input: ScoringInput): ScopeScore[] {
  return scoreStaged(stagedPartials(input));
}
