/**
 * The published form of a namespace's `ScorePartial`: the `NamespaceScorePartial` Avro record on
 * hetu.internal.score-partials, keyed `<cluster>/<namespace>`. Converting there and back gives the
 * same partial (integer sums, resources and their evidence, distinct keys), so the cluster stage
 * combines exactly what the namespace stage computed.
 */
import type { RecordTypes } from '@hetu/schemas';
import type { ItemResource } from './collect.ts';
import type { RuleTally, ScorePartial } from './partial.ts';
import type { EvidenceRef } from './types.ts';

export type NamespaceScorePartialRecord = RecordTypes['NamespaceScorePartial'];

/** The key of a namespace's partial: `<cluster>/<namespace>`. */
export function partialKey(cluster: string, namespace: string): string {
  return `${cluster}/${namespace}`;
}

export function toPartialRecord(
  partial: ScorePartial,
  cluster: string,
  namespace: string,
  ts: number,
  round: number,
): NamespaceScorePartialRecord {
  const c = partial.cost;
  return {
    ts,
    round: BigInt(round),
    cluster,
    namespace,
    observed: partial.observed,
    cost: {
      cpuUsageMicro: BigInt(c.cpuUsageMicro),
      cpuRequestMicro: BigInt(c.cpuRequestMicro),
      memoryUsageBytes: BigInt(c.memoryUsageBytes),
      memoryRequestBytes: BigInt(c.memoryRequestBytes),
      pvcUsedBytes: BigInt(c.pvcUsedBytes),
      pvcCapacityBytes: BigInt(c.pvcCapacityBytes),
    },
    rules: Object.entries(partial.rules).map(([rule, t]) => ({
      rule,
      count: t.count,
      resources: t.resources.map((r) => ({
        key: r.key,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        status: r.status,
        detail: r.detail,
        evidence: r.evidence.map((e) => ({
          topic: e.topic,
          partition: e.partition,
          offset: BigInt(e.offset),
          ts: e.ts,
          excerpt: e.excerpt,
        })),
      })),
      keys: t.keys === undefined ? null : [...t.keys],
    })),
  };
}

/** A long as the record holds it: bigint from Avro (number or string in JSON test doubles). */
type Long = bigint | number | string;
const num = (v: Long): number => Number(v);

/** The partial a record holds (its long fields read as bigint, number or string). */
export function fromPartialRecord(rec: NamespaceScorePartialRecord): ScorePartial {
  const c = rec.cost as unknown as Record<string, Long>;
  const rules: Record<string, RuleTally> = {};
  for (const r of rec.rules) {
    const resources: ItemResource[] = r.resources.map((x) => ({
      key: x.key,
      kind: x.kind,
      namespace: x.namespace,
      name: x.name,
      status: x.status,
      detail: x.detail,
      evidence: x.evidence.map(
        (e): EvidenceRef => ({
          topic: e.topic,
          partition: e.partition,
          offset: String(e.offset as Long),
          ts: num(e.ts),
          excerpt: e.excerpt,
        }),
      ),
    }));
    rules[r.rule] =
      r.keys === null ? { count: r.count, resources } : { count: r.count, resources, keys: [...r.keys] };
  }
  return {
    observed: rec.observed,
    rules,
    cost: {
      cpuUsageMicro: num(c['cpuUsageMicro'] ?? 0),
      cpuRequestMicro: num(c['cpuRequestMicro'] ?? 0),
      memoryUsageBytes: num(c['memoryUsageBytes'] ?? 0),
      memoryRequestBytes: num(c['memoryRequestBytes'] ?? 0),
      pvcUsedBytes: num(c['pvcUsedBytes'] ?? 0),
      pvcCapacityBytes: num(c['pvcCapacityBytes'] ?? 0),
    },
  };
}
