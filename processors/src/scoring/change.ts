import { DIMENSIONS, RULE_IDS } from './rules.ts';

const RULE_ORDER = new Map(RULE_IDS.map((id, i) => [id, i]));
import type { Deduction, DeductionResource, Dimension, Level, ScopeScore } from './types.ts';

/** A resource named in a cause. */
export interface ChangedResource {
  kind: string;
  namespace: string | null;
  name: string;
}

/** One reason a dimension moved: a rule whose resources or points changed, or the cost base. */
export interface ChangeCause {
  at: number;
  /** Change of the rule's points (new − old; negative = more deducted); for `cost-efficiency` the base's change. */
  delta: number;
  /** e.g. `pod shop/api-x2 entered crashloop`. */
  cause: string;
  /** A rule id, or `cost-efficiency` for a change of the cost base. */
  rule: string;
  entered: ChangedResource[];
  left: ChangedResource[];
}

export interface DimensionChange {
  dimension: Dimension;
  from: number | null;
  to: number | null;
  /** to − from; null when either side had no data. */
  delta: number | null;
  causes: ChangeCause[];
}

/** A history entry (SPEC §3.6): what changed in one scope's score at `at`, and why. */
export interface ScoreChange {
  scope: string;
  at: number;
  overall: { from: number | null; to: number | null; delta: number | null };
  level: { from: Level | null; to: Level | null };
  /** Only dimensions whose score changed or that have causes, in dimension order. */
  dimensions: DimensionChange[];
  /** True when nothing differs (no entry needs to be kept). */
  unchanged: boolean;
}

function resourceId(r: DeductionResource): string {
  return `${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;
}

function describe(r: ChangedResource): string {
  return `${r.kind.toLowerCase()} ${r.namespace === null ? '' : `${r.namespace}/`}${r.name}`;
}

function phrase(r: DeductionResource, verb: 'entered' | 'left', rule: string): string {
  // Pods and nodes name their state (`pod shop/api-x2 entered crashloop`); others name the rule.
  const what = r.kind === 'Pod' || r.kind === 'Node' ? r.status : rule;
  return `${describe(r)} ${verb} ${what}`;
}

function strip(r: DeductionResource): ChangedResource {
  return { kind: r.kind, namespace: r.namespace, name: r.name };
}

function ruleCause(
  rule: string,
  before: Deduction | undefined,
  after: Deduction | undefined,
  at: number,
): ChangeCause | undefined {
  const oldRes = before?.resources ?? [];
  const newRes = after?.resources ?? [];
  const oldIds = new Set(oldRes.map(resourceId));
  const newIds = new Set(newRes.map(resourceId));
  const entered = newRes.filter((r) => !oldIds.has(resourceId(r)));
  const left = oldRes.filter((r) => !newIds.has(resourceId(r)));
  const delta = (after?.points ?? 0) - (before?.points ?? 0);
  const oldTotal = before?.totalResources ?? 0;
  const newTotal = after?.totalResources ?? 0;
  if (delta === 0 && entered.length === 0 && left.length === 0 && oldTotal === newTotal) return undefined;
  const parts = [
    ...entered.map((r) => phrase(r, 'entered', rule)),
    ...left.map((r) => phrase(r, 'left', rule)),
  ];
  // Only the first 10 resources are listed; what moved beyond them is told as a count.
  const unexplained = newTotal - oldTotal - (entered.length - left.length);
  if (unexplained > 0) parts.push(`${unexplained} more entered ${rule}`);
  if (unexplained < 0) parts.push(`${-unexplained} more left ${rule}`);
  if (parts.length === 0) parts.push(`${rule}: ${oldTotal} → ${newTotal}`);
  return { at, delta, cause: parts.join('; '), rule, entered: entered.map(strip), left: left.map(strip) };
}

function costCause(previous: ScopeScore | null, next: ScopeScore, at: number): ChangeCause | undefined {
  const a = previous?.efficiency ?? null;
  const b = next.efficiency;
  if (a === null || b === null || a.base === b.base) return undefined;
  const parts: string[] = [];
  if (a.cpu !== b.cpu) parts.push(`CPU efficiency ${a.cpu} → ${b.cpu}`);
  if (a.memory !== b.memory) parts.push(`memory efficiency ${a.memory} → ${b.memory}`);
  if (a.storage !== b.storage) parts.push(`storage efficiency ${a.storage} → ${b.storage}`);
  return {
    at,
    delta: b.base - a.base,
    cause: `cost base ${a.base} → ${b.base}: ${parts.join(', ')}`,
    rule: 'cost-efficiency',
    entered: [],
    left: [],
  };
}

function diff(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : b - a;
}

/**
 * The history entry for a scope whose score went from `previous` (null: never scored) to
 * `next` at event time `at`: per dimension the delta and its causes, derived by diffing each
 * rule's listed resources (entered / left) and points, and the cost base.
 */
export function scoreChange(previous: ScopeScore | null, next: ScopeScore, at: number): ScoreChange {
  const dimensions: DimensionChange[] = [];
  for (const dimension of DIMENSIONS) {
    const before = previous?.deductions.filter((d) => d.dimension === dimension) ?? [];
    const after = next.deductions.filter((d) => d.dimension === dimension);
    const rules = [...new Set([...before.map((d) => d.rule), ...after.map((d) => d.rule)])];
    rules.sort((x, y) => (RULE_ORDER.get(x) ?? 0) - (RULE_ORDER.get(y) ?? 0));
    const causes: ChangeCause[] = [];
    if (dimension === 'cost') {
      const c = costCause(previous, next, at);
      if (c !== undefined) causes.push(c);
    }
    for (const rule of rules) {
      const c = ruleCause(
        rule,
        before.find((d) => d.rule === rule),
        after.find((d) => d.rule === rule),
        at,
      );
      if (c !== undefined) causes.push(c);
    }
    const from = previous?.[dimension] ?? null;
    const to = next[dimension];
    if (from === to && causes.length === 0) continue;
    dimensions.push({ dimension, from, to, delta: diff(from, to), causes });
  }
  const overallFrom = previous?.overall ?? null;
  return {
    scope: next.scope,
    at,
    overall: { from: overallFrom, to: next.overall, delta: diff(overallFrom, next.overall) },
    level: { from: previous?.level ?? null, to: next.level },
    dimensions,
    unchanged:
      dimensions.length === 0 && overallFrom === next.overall && (previous?.noData ?? true) === next.noData,
  };
}
