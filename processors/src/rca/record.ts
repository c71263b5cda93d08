/**
 * The published form of a root-cause analysis: the `RcaReport` Avro record of
 * `schemas/avro/RcaReport.avsc` (value of `hetu.facts.rca`, keyed like the incident:
 * `<cluster>/<incident id>`). Pure and deterministic; offsets become exact int64 (`bigint`).
 */
import type { RecordTypes } from '@hetu/schemas';
import type { ResourceRef } from '../incidents/types.ts';
import type { RcaReport } from './types.ts';

export type RcaReportRecord = RecordTypes['RcaReport'];

function resourceRecord(r: ResourceRef): RcaReportRecord['rootCause'] {
  return { kind: r.kind, namespace: r.namespace, name: r.name };
}

/** The `RcaReport` record of `report` in `cluster`; `ts` is the report's `asOf`. */
export function toRcaReportRecord(report: RcaReport, cluster: string): RcaReportRecord {
  return {
    ts: report.asOf,
    cluster,
    incidentId: report.incidentId,
    category: report.category,
    subtype: report.subtype,
    rootCause: resourceRecord(report.rootCause),
    summary: report.summary,
    confidence: report.confidence,
    derivation: report.derivation.map((f) => ({ factor: f.factor, weight: f.weight })),
    chain: report.chain.map((c) => ({ step: c.step, evidence: c.evidence.slice() })),
    evidence: report.evidence.map((e) => ({
      id: e.id,
      type: e.type,
      ts: e.ts,
      excerpt: e.excerpt,
      topic: e.topic,
      partition: e.partition,
      offset: e.offset === null ? null : BigInt(e.offset),
    })),
    remediation: report.remediation.map((r) => ({
      step: r.step,
      risk: r.risk,
      automatable: r.automatable,
      effort: r.effort,
    })),
    blastRadius: {
      workloads: report.blastRadius.workloads.map(resourceRecord),
      pods: report.blastRadius.pods.map(resourceRecord),
      namespaces: report.blastRadius.namespaces.slice(),
    },
  };
}
