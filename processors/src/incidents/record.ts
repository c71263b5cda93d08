/**
 * The published form of an incident: the `Incident` Avro record of `schemas/avro/Incident.avsc`
 * (value of `hetu.facts.incidents`, keyed by `incidentKey(cluster, id)`). Pure and deterministic;
 * absent optional fields become null, offsets exact int64 (`bigint`), repeat counts `bigint`.
 */
import type { RecordTypes } from '@hetu/schemas';
import type { EvidenceRef, Incident, IncidentSignal, ResourceRef, SignalDetail } from './types.ts';

export type IncidentRecord = RecordTypes['Incident'];
type SignalRecord = IncidentRecord['signals'][number];

/** The key of an incident's records (and of its RCA report): `<cluster>/<incident id>`. */
export function incidentKey(cluster: string, id: string): string {
  return `${cluster}/${id}`;
}

function resourceRecord(r: ResourceRef): IncidentRecord['workloads'][number] {
  return { kind: r.kind, namespace: r.namespace, name: r.name };
}

function evidenceRecord(e: EvidenceRef): SignalRecord['evidence'][number] {
  return { topic: e.topic, partition: e.partition, offset: BigInt(e.offset), ts: e.ts, excerpt: e.excerpt };
}

function detailRecord(d: SignalDetail): SignalRecord['detail'] {
  return {
    reason: d.reason ?? null,
    message: d.message ?? null,
    container: d.container ?? null,
    exitCode: d.exitCode ?? null,
    eventCount: d.eventCount ?? null,
    errorGroupId: d.errorGroupId ?? null,
    title: d.title ?? null,
    errorReason: d.errorReason ?? null,
    metric: d.metric ?? null,
    value: d.value ?? null,
    z: d.z ?? null,
    oldImage: d.oldImage ?? null,
    newImage: d.newImage ?? null,
    revision: d.revision ?? null,
  };
}

function signalRecord(s: IncidentSignal): SignalRecord {
  return {
    source: s.source,
    key: s.key,
    kind: s.kind,
    severity: s.severity,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    count: BigInt(s.count),
    cleared: s.cleared,
    clearedAt: s.clearedAt,
    resource: resourceRecord(s.resource),
    workload: s.workload === null ? null : resourceRecord(s.workload),
    node: s.node,
    detail: detailRecord(s.detail),
    evidence: s.evidence.map(evidenceRecord),
  };
}

/** The `Incident` record of `incident` in `cluster`; `ts` is the incident's `updatedAt`. */
export function toIncidentRecord(incident: Incident, cluster: string): IncidentRecord {
  return {
    ts: incident.updatedAt,
    cluster,
    id: incident.id,
    title: incident.title,
    status: incident.status,
    severity: incident.severity,
    openedAt: incident.openedAt,
    lastSignalAt: incident.lastSignalAt,
    updatedAt: incident.updatedAt,
    resolvedAt: incident.resolvedAt,
    resolvedBy: incident.resolvedBy,
    statusChangedAt: incident.statusChangedAt,
    workloads: incident.workloads.map(resourceRecord),
    nodes: incident.nodes.slice(),
    failedNodes: incident.failedNodes.slice(),
    namespaces: incident.namespaces.slice(),
    signals: incident.signals.map(signalRecord),
    omittedSignals: incident.omittedSignals,
  };
}
