/**
 * The LLM records on the log (SPEC §7, LLM part; docs/llm.md): keys and ids of `LlmRequest`,
 * `LlmAnalysis` and `LlmUsage`, and the JSON-safe copies of the Avro facts the requests processor
 * keeps in its state. Pure.
 */
import { createHash } from 'node:crypto';
import type { RecordTypes } from '@hetu/schemas';

export type LlmRequestRecord = RecordTypes['LlmRequest'];
export type LlmAnalysisRecord = RecordTypes['LlmAnalysis'];
export type LlmUsageRecord = RecordTypes['LlmUsage'];
export type IncidentRecord = RecordTypes['Incident'];
export type RcaRecord = RecordTypes['RcaReport'];
export type ErrorGroupRecord = RecordTypes['ErrorGroup'];

export const LLM_REQUESTS_TOPIC = 'hetu.llm.requests';
export const LLM_ANALYSES_TOPIC = 'hetu.facts.llm-analyses';
export const LLM_USAGE_TOPIC = 'hetu.facts.llm-usage';

export const SUBJECT_KINDS = ['incident', 'error-group', 'question'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** `req-` + the first 16 hex digits of SHA-256 over [cluster, kind, subject id, signature]. */
export function requestId(cluster: string, kind: string, subjectId: string, signature: string): string {
  const basis = JSON.stringify([cluster, kind, subjectId, signature]);
  return 'req-' + createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

/** Key of a request on `hetu.llm.requests`: `<cluster>/<kind>/<subject id>`. */
export function requestKey(cluster: string, kind: string, subjectId: string): string {
  return `${cluster}/${kind}/${subjectId}`;
}

/**
 * Key of an outcome on `hetu.facts.llm-analyses`: the subject's latest outcome for an incident or
 * an error group, one key per question (`<cluster>/question/<incident id>/<request id>`).
 */
export function analysisKey(cluster: string, kind: string, subjectId: string, id: string): string {
  return kind === 'question' ? `${cluster}/question/${subjectId}/${id}` : `${cluster}/${kind}/${subjectId}`;
}

// ---------------------------------------------------------------------------------------------
// JSON-safe copies (exact int64 offsets as strings, counts as numbers) for the processor's state.

type IncidentSignalRecord = IncidentRecord['signals'][number];

export interface PlainEvidence {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly ts: number;
  readonly excerpt: string;
}

export type PlainSignal = Omit<IncidentSignalRecord, 'count' | 'evidence'> & {
  readonly count: number;
  readonly evidence: readonly PlainEvidence[];
};

export type PlainIncident = Omit<IncidentRecord, 'signals'> & { readonly signals: readonly PlainSignal[] };

type RcaEvidenceRecord = RcaRecord['evidence'][number];
export type PlainRcaEvidence = Omit<RcaEvidenceRecord, 'offset'> & { readonly offset: string | null };
export type PlainRca = Omit<RcaRecord, 'evidence'> & { readonly evidence: readonly PlainRcaEvidence[] };

/** What the processor keeps of an error group: what the prompts and the trigger read. */
export interface PlainErrorGroup {
  readonly id: string;
  readonly namespace: string;
  readonly workload: string;
  readonly title: string;
  readonly reason: string;
  readonly level: string;
  readonly status: string;
  readonly exceptionType: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly count: number;
  readonly count5m: number;
  readonly count1h: number;
  readonly count24h: number;
  readonly spike: boolean;
  readonly regressed: boolean;
  readonly mergedInto: string | null;
  readonly bestSample: {
    readonly ts: number;
    readonly pod: string;
    readonly container: string;
    readonly level: string;
    readonly exceptionType: string | null;
    readonly message: string;
    readonly stack: string | null;
    readonly url: string | null;
  } | null;
  readonly occurrences: readonly {
    readonly ts: number;
    readonly pod: string;
    readonly container: string;
    readonly level: string;
    readonly message: string;
    readonly url: string | null;
  }[];
}

/** Occurrences of a group kept for its prompt (the latest). */
export const KEPT_OCCURRENCES = 20;

export function plainIncident(r: IncidentRecord): PlainIncident {
  return {
    ...r,
    workloads: r.workloads.map((w) => ({ ...w })),
    nodes: [...r.nodes],
    failedNodes: [...r.failedNodes],
    namespaces: [...r.namespaces],
    signals: r.signals.map((s) => ({
      ...s,
      count: Number(s.count),
      resource: { ...s.resource },
      workload: s.workload === null ? null : { ...s.workload },
      detail: { ...s.detail },
      evidence: s.evidence.map((e) => ({
        topic: e.topic,
        partition: e.partition,
        offset: e.offset.toString(),
        ts: e.ts,
        excerpt: e.excerpt,
      })),
    })),
  };
}

export function plainRca(r: RcaRecord): PlainRca {
  return {
    ...r,
    rootCause: { ...r.rootCause },
    derivation: r.derivation.map((d) => ({ ...d })),
    chain: r.chain.map((c) => ({ step: c.step, evidence: [...c.evidence] })),
    evidence: r.evidence.map((e) => ({ ...e, offset: e.offset === null ? null : e.offset.toString() })),
    remediation: r.remediation.map((m) => ({ ...m })),
    blastRadius: {
      workloads: r.blastRadius.workloads.map((w) => ({ ...w })),
      pods: r.blastRadius.pods.map((p) => ({ ...p })),
      namespaces: [...r.blastRadius.namespaces],
    },
  };
}

export function plainErrorGroup(g: ErrorGroupRecord): PlainErrorGroup {
  const s = g.bestSample;
  return {
    id: g.id,
    namespace: g.namespace,
    workload: g.workload,
    title: g.title,
    reason: g.reason,
    level: g.level,
    status: g.status,
    exceptionType: g.exceptionType,
    firstSeen: g.firstSeen,
    lastSeen: g.lastSeen,
    count: Number(g.count),
    count5m: Number(g.count5m),
    count1h: Number(g.count1h),
    count24h: Number(g.count24h),
    spike: g.spike,
    regressed: g.regressed,
    mergedInto: g.mergedInto,
    bestSample:
      s === null
        ? null
        : {
            ts: s.ts,
            pod: s.pod,
            container: s.container,
            level: s.level,
            exceptionType: s.exceptionType,
            message: s.message,
            stack: s.stack,
            url: s.url,
          },
    occurrences: g.occurrences.slice(-KEPT_OCCURRENCES).map((o) => ({
      ts: o.ts,
      pod: o.pod,
      container: o.container,
      level: o.level,
      message: o.message,
      url: o.url,
    })),
  };
}
