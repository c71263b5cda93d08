import { collect } from './collect.ts';
import { RULE_IDS, ruleSpec } from './rules.ts';
import { namespaceScope } from './scope.ts';
import { scoreCollected, shareOf } from './score.ts';
import type { Dimension, EvidenceRef, ScopeScore, ScoringInput, Severity } from './types.ts';

/** A resource as the drill-down names it (namespace null for cluster-scoped kinds). */
export interface ResourceRef {
  kind: string;
  namespace: string | null;
  name: string;
}

/** One rule at one scope that a resource contributes to (drill-down level 4). */
export interface Impact {
  scope: string;
  dimension: Dimension;
  rule: string;
  title: string;
  severity: Severity;
  /** This resource's share of the rule's points at this scope (negative, two decimals). */
  share: number;
  /** The rule's points and count at this scope. */
  points: number;
  count: number;
  status: string;
  detail: string;
  /** What to change in the manifest, and why. */
  hint: string;
  /** Level 5: the observations that put the resource under the rule. */
  evidence: readonly EvidenceRef[];
}

const RULE_ORDER = new Map(RULE_IDS.map((id, i) => [id, i]));
const SCOPE_RANK = (scope: string): number =>
  scope.startsWith('workload:') ? 0 : scope.startsWith('namespace:') ? 1 : 2;

/**
 * Every rule, at every scope (its workload, its namespace, the cluster — as the rule applies),
 * that `ref` contributes to; ordered workload, namespace, cluster, then rule table order.
 * Empty when the resource counts under no rule.
 */
export function impactOf(input: ScoringInput, ref: ResourceRef): Impact[] {
  const collected = collect(input);
  const scores = new Map<string, ScopeScore>();
  const scoreOf = (scope: string): ScopeScore => {
    let s = scores.get(scope);
    if (s === undefined) {
      s = scoreCollected(collected, scope);
      scores.set(scope, s);
    }
    return s;
  };
  const seen = new Set<string>();
  const out: Impact[] = [];
  for (const item of collected.items) {
    const r = item.resource;
    if (r.kind !== ref.kind || r.namespace !== ref.namespace || r.name !== ref.name) continue;
    const scopes: string[] = [];
    if (item.anchor.workload !== undefined) scopes.push(`workload:${item.anchor.workload}`);
    if (item.anchor.namespace !== undefined) scopes.push(namespaceScope(item.anchor.namespace));
    scopes.push('cluster');
    const rule = ruleSpec(item.rule);
    for (const scope of scopes) {
      const id = `${scope}\u0000${item.rule}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const deduction = scoreOf(scope).deductions.find((d) => d.rule === item.rule);
      if (deduction === undefined) continue;
      out.push({
        scope,
        dimension: rule.dimension,
        rule: rule.id,
        title: rule.title,
        severity: rule.severity,
        share: shareOf(deduction.points, deduction.count),
        points: deduction.points,
        count: deduction.count,
        status: r.status,
        detail: r.detail,
        hint: rule.hint,
        evidence: r.evidence,
      });
    }
  }
  return out.sort(
    (a, b) =>
      SCOPE_RANK(a.scope) - SCOPE_RANK(b.scope) ||
      (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0) ||
      (RULE_ORDER.get(a.rule) ?? 0) - (RULE_ORDER.get(b.rule) ?? 0),
  );
}
