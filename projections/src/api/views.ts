/**
 * Store rows → the objects the GraphQL types resolve from. Facts are passed through as decoded
 * (field names match the schema); only what the schema shapes differently is mapped here.
 */
import type { ProjectionFreshness } from '../projections.ts';
import type { AnomalyRow } from '../store/anomalies.ts';
import type { ErrorGroupRow } from '../store/errors.ts';
import type { IncidentRow, RcaRow } from '../store/incidents.ts';
import type { LlmAnalysisRow } from '../store/llm.ts';
import type { Page } from '../store/page.ts';
import type { RecommendationRow } from '../store/recommendations.ts';
import type { ImpactRow, ScoreRow } from '../store/scores.ts';
import type { EventRow, NodeRow, PodRow, ServiceRow, WorkloadRow } from '../store/workloads.ts';

export interface PositionView {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export const position = (r: { topic: string; partition: number; offset: string }): PositionView => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
});

export type View = Record<string, unknown>;

export function scoreView(r: ScoreRow): View {
  return { ...r.score, position: position(r) };
}

export function errorGroupView(r: ErrorGroupRow): View {
  return { ...r.group, position: position(r) };
}

export function anomalyView(r: AnomalyRow): View {
  return { ...r.episode, position: position(r) };
}

export function incidentView(r: IncidentRow): View {
  return { ...r.incident, position: position(r) };
}

export function rcaView(r: RcaRow): View {
  const rep = r.report;
  return {
    ...rep,
    evidence: rep.evidence.map((e) => ({
      id: e.id,
      type: e.type,
      ts: e.ts,
      excerpt: e.excerpt,
      position:
        e.topic !== null && e.partition !== null && e.offset !== null
          ? { topic: e.topic, partition: e.partition, offset: String(e.offset) }
          : null,
    })),
    position: position(r),
  };
}

export function llmView(r: LlmAnalysisRow): View {
  return {
    ...r.analysis,
    key: r.key,
    cluster: r.cluster,
    subjectKind: r.subjectKind,
    subjectId: r.subjectId,
    position: position(r),
  };
}

export function recommendationView(r: RecommendationRow): View {
  const x = r.recommendation;
  return {
    ...x,
    evidence: {
      ...x.evidence,
      values: Object.entries(x.evidence.values)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ name, value: typeof value === 'number' ? value : Number(value) })),
    },
    position: position(r),
  };
}

export function labels(map: Readonly<Record<string, string>> | undefined): { name: string; value: string }[] {
  return Object.entries(map ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => ({ name, value }));
}

export function workloadView(r: WorkloadRow): View {
  return {
    ...r.workload,
    cluster: r.cluster,
    labels: labels(r.workload.labels),
    updatedAt: r.updatedAt,
    position:
      r.topic !== null && r.partition !== null && r.offset !== null
        ? { topic: r.topic, partition: r.partition, offset: r.offset }
        : null,
  };
}

export function serviceView(r: ServiceRow): View {
  return {
    ...r.service,
    cluster: r.cluster,
    selector: labels(r.service.selector),
    labels: labels(r.service.labels),
    updatedAt: r.updatedAt,
    position: { topic: r.topic, partition: r.partition, offset: r.offset },
  };
}

export function podView(p: PodRow): View {
  const h = p.health;
  return {
    cluster: p.cluster,
    namespace: p.namespace,
    name: p.name,
    workloadKind: p.workloadKind,
    workloadName: p.workloadName,
    node: p.node,
    phase: p.phase,
    categories: h?.categories ?? [],
    reasons: h?.reasons ?? [],
    restarts: h?.restarts ?? null,
    restartsPerHour: h?.restartsPerHour ?? null,
    ageMs: h?.ageMs ?? null,
    containers: p.containers,
    evidence: h?.evidence ?? null,
    updatedAt: p.updatedAt,
  };
}

export function eventView(e: EventRow): View {
  return {
    ...e,
    involvedObject: { kind: e.involvedKind, namespace: e.involvedNamespace, name: e.involvedName },
    position: { topic: e.topic, partition: e.partition, offset: e.offset },
  };
}

export function nodeView(r: NodeRow): View {
  return { ...r.node, position: position(r) };
}

export function impactView(i: ImpactRow, hints: ReadonlyMap<string, string>): View {
  return {
    cluster: i.cluster,
    scope: i.scope,
    dimension: i.deduction.dimension,
    rule: i.deduction.rule,
    title: i.deduction.title,
    severity: i.deduction.severity,
    share: i.share,
    points: i.deduction.points,
    count: i.deduction.count,
    status: i.resource.status,
    detail: i.resource.detail,
    remediation: hints.get(i.deduction.rule) ?? null,
    evidence: i.resource.evidence,
  };
}

export function freshnessView(f: ProjectionFreshness): View {
  return {
    ...f,
    partitions: f.partitions.map((p) => ({
      ...p,
      applied: p.applied === null ? null : p.applied.toString(),
      committed: p.committed.toString(),
      end: p.end.toString(),
    })),
  };
}

/** A connection object; `freshness` is resolved on demand from `projection`. */
export function connection<R>(page: Page<R>, map: (r: R) => View, projection: string | null): View {
  const nodes = page.items.map(map);
  return {
    edges: nodes.map((node, i) => ({ node, cursor: page.cursors[i] })),
    nodes,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    totalCount: page.totalCount,
    projection,
  };
}
