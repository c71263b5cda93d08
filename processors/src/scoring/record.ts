/**
 * The published forms of a scope's score and of its history entries: the `ScopeScore` and
 * `ScoreChanged` Avro records (`schemas/avro/*.avsc`), values of `hetu.facts.scores` and
 * `hetu.facts.score-history`, both keyed by `scoreKey(cluster, scope)`. Pure and deterministic:
 * the same score gives the same record, field for field (so the same bytes).
 */
import type { RecordTypes } from '@hetu/schemas';
import type { ChangedResource, ScoreChange } from './change.ts';
import { mustParseScope } from './score.ts';
import type { EvidenceRef, ScopeScore } from './types.ts';

export type ScopeScoreRecord = RecordTypes['ScopeScore'];
export type ScoreChangedRecord = RecordTypes['ScoreChanged'];
type ScoreEvidenceRecord = ScopeScoreRecord['deductions'][number]['resources'][number]['evidence'][number];

/** The key of a scope's records: `<cluster>/<scope>`, e.g. `prod/workload:shop/Deployment/api`. */
export function scoreKey(cluster: string, scope: string): string {
  return `${cluster}/${scope}`;
}

function evidenceRecord(e: EvidenceRef): ScoreEvidenceRecord {
  return { topic: e.topic, partition: e.partition, offset: BigInt(e.offset), ts: e.ts, excerpt: e.excerpt };
}

/**
 * The `ScopeScore` record of `score` in `cluster`, computed at event time `ts`. Throws
 * `HETU_SCORING_BAD_SCOPE` for a scope that is not `cluster`, `namespace:…` or `workload:…`.
 */
export function toScopeScoreRecord(score: ScopeScore, cluster: string, ts: number): ScopeScoreRecord {
  const parsed = mustParseScope(score.scope);
  const e = score.efficiency;
  return {
    ts,
    cluster,
    scope: score.scope,
    scopeType: parsed.type,
    namespace: parsed.type === 'cluster' ? null : parsed.namespace,
    workloadKind: parsed.type === 'workload' ? parsed.kind : null,
    workloadName: parsed.type === 'workload' ? parsed.name : null,
    noData: score.noData,
    overall: score.overall,
    level: score.level,
    reliability: score.reliability,
    security: score.security,
    cost: score.cost,
    architecture: score.architecture,
    efficiency:
      e === null
        ? null
        : {
            cpuRatio: e.cpuRatio,
            memoryRatio: e.memoryRatio,
            storageRatio: e.storageRatio,
            cpu: e.cpu,
            memory: e.memory,
            storage: e.storage,
            base: e.base,
          },
    deductions: score.deductions.map((d) => ({
      dimension: d.dimension,
      rule: d.rule,
      title: d.title,
      severity: d.severity,
      points: d.points,
      count: d.count,
      perItem: d.perItem,
      cap: d.cap,
      resources: d.resources.map((r) => ({
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        status: r.status,
        detail: r.detail,
        share: r.share,
        evidence: r.evidence.map(evidenceRecord),
      })),
      totalResources: d.totalResources,
    })),
  };
}

function changedResource(
  r: ChangedResource,
): ScoreChangedRecord['dimensions'][number]['causes'][number]['entered'][number] {
  return { kind: r.kind, namespace: r.namespace, name: r.name };
}

/**
 * The `ScoreChanged` record of a history entry in `cluster`; `ts` is the change's `at`. An entry
 * with `unchanged: true` is not meant to be written (the record would say nothing).
 */
export function toScoreChangedRecord(change: ScoreChange, cluster: string): ScoreChangedRecord {
  return {
    ts: change.at,
    cluster,
    scope: change.scope,
    overallFrom: change.overall.from,
    overallTo: change.overall.to,
    overallDelta: change.overall.delta,
    levelFrom: change.level.from,
    levelTo: change.level.to,
    dimensions: change.dimensions.map((d) => ({
      dimension: d.dimension,
      from: d.from,
      to: d.to,
      delta: d.delta,
      causes: d.causes.map((c) => ({
        at: c.at,
        delta: c.delta,
        cause: c.cause,
        rule: c.rule,
        entered: c.entered.map(changedResource),
        left: c.left.map(changedResource),
      })),
    })),
  };
}
