/**
 * The published form of a recommendation: the `Recommendation` Avro record of
 * `schemas/avro/Recommendation.avsc` (value of `hetu.facts.recommendations`, keyed by
 * `recommendationKey(cluster, id)`; ids carry no cluster). Pure and deterministic: the evidence
 * figures are written sorted by name, absent fields become null, the sample count a `bigint`.
 */
import type { RecordTypes } from '@hetu/schemas';
import type { Recommendation } from './types.ts';

export type RecommendationRecord = RecordTypes['Recommendation'];

/** The key of a recommendation's records: `<cluster>/<id>`, e.g. `prod/hpa-at-max:HorizontalPodAutoscaler/shop/api`. */
export function recommendationKey(cluster: string, id: string): string {
  return `${cluster}/${id}`;
}

function sortedValues(values: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(values).sort()) out[name] = values[name] as number;
  return out;
}

/** The `Recommendation` record of `rec` in `cluster`; `ts` is the recommendation's `updatedAt`. */
export function toRecommendationRecord(rec: Recommendation, cluster: string): RecommendationRecord {
  const s = rec.savings;
  return {
    ts: rec.updatedAt,
    cluster,
    id: rec.id,
    type: rec.type,
    target: {
      kind: rec.target.kind,
      namespace: rec.target.namespace,
      name: rec.target.name,
      container: rec.target.container ?? null,
    },
    severity: rec.severity,
    title: rec.title,
    rationale: rec.rationale,
    patch: rec.patch,
    command: rec.command,
    savings:
      s === null
        ? null
        : {
            monthly: s.monthly,
            cpuCores: s.cpuCores,
            memoryBytes: s.memoryBytes,
            replicas: s.replicas,
            hoursPerMonth: s.hoursPerMonth,
          },
    status: rec.status,
    statusChangedAt: rec.statusChangedAt,
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    closedAt: rec.closedAt,
    evidence: {
      from: rec.evidence.from,
      to: rec.evidence.to,
      samples: BigInt(rec.evidence.samples),
      values: sortedValues(rec.evidence.values),
    },
  };
}
