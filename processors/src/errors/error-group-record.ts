/**
 * The published form of an error group: the `ErrorGroup` Avro record of
 * `schemas/avro/ErrorGroup.avsc` (value of `hetu.facts.error-groups`, key = the group id).
 * It is the group state's `ErrorGroup` without the source positions of the sample and of the
 * ring (evidence for the changelog, not for readers).
 */
import type { RecordTypes } from '@hetu/schemas';
import type { ErrorGroup } from './groups/index.ts';

export type ErrorGroupRecord = RecordTypes['ErrorGroup'];

export function toErrorGroupRecord(g: ErrorGroup): ErrorGroupRecord {
  const s = g.bestSample;
  return {
    id: g.id,
    fingerprint: g.fingerprint,
    faultKey: g.faultKey,
    cluster: g.cluster,
    namespace: g.namespace,
    workload: g.workload,
    title: g.title,
    exceptionType: g.exceptionType,
    reason: g.reason,
    level: g.level,
    severityRank: g.severityRank,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    count: BigInt(g.count),
    ownCount: BigInt(g.ownCount),
    status: g.status,
    regressed: g.regressed,
    regressedAt: g.regressedAt,
    resolvedAt: g.resolvedAt,
    statusChangedAt: g.statusChangedAt,
    lastPod: g.lastPod,
    lastContainer: g.lastContainer,
    lastUrl: g.lastUrl,
    bestSample:
      s === null
        ? null
        : {
            groupId: s.groupId,
            ts: s.ts,
            pod: s.pod,
            container: s.container,
            level: s.level,
            exceptionType: s.exceptionType,
            message: s.message,
            stack: s.stack,
            url: s.url,
            requestId: s.requestId,
            traceId: s.traceId,
            truncated: s.truncated,
          },
    bestSampleScore: g.bestSampleScore,
    occurrences: g.occurrences.map((o) => ({
      groupId: o.groupId,
      ts: o.ts,
      pod: o.pod,
      container: o.container,
      level: o.level,
      message: o.message,
      hasStack: o.hasStack,
      url: o.url,
      requestId: o.requestId,
      traceId: o.traceId,
    })),
    countersAt: g.countersAt,
    count1m: BigInt(g.count1m),
    count5m: BigInt(g.count5m),
    count1h: BigInt(g.count1h),
    count24h: BigInt(g.count24h),
    sparkline: g.sparkline.slice(),
    spike: g.spike,
    mergedInto: g.mergedInto,
    mergedChildren: g.mergedChildren.slice(),
  };
}
