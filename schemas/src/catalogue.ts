/**
 * The topic catalogue: every topic hetu writes, with its key, value schema, cleanup policy,
 * partitions and retention. Topics are named `hetu.<stage>.<thing>`; retired names are never reused.
 * Processor state changelogs are not listed here: the runtime names them per processor.
 */
import type { RecordName } from './generated/records.ts';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** What a log adapter needs to create a topic (the shape of streams' TopicSpec). */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Kafka's retention.ms; -1 keeps records forever; absent: the broker's default (compacted topics). */
  readonly retentionMs?: number;
  /** How long tombstones stay readable in a compacted topic (Kafka's delete.retention.ms). */
  readonly deleteRetentionMs?: number;
}

export type TopicStage = 'raw' | 'facts' | 'commands' | 'dlq' | 'llm' | 'internal';

export interface TopicEntry extends TopicSpec {
  readonly stage: TopicStage;
  /** What the key is: always a UTF-8 string, built as described. */
  readonly key: string;
  /**
   * The record of the value (subject `<name>-value`, TopicNameStrategy); null while the fact's
   * schema is not written yet (`pending` says what it will hold).
   */
  readonly valueSchema: RecordName | null;
  /** For a topic whose value schema is not written yet: what its record will be called. */
  readonly pendingSchema?: string;
  /** One line: what the topic holds. */
  readonly description: string;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Defaults for each stage. */
export const STAGE_DEFAULTS = {
  raw: { partitions: 3, cleanupPolicy: 'delete', retentionMs: 7 * DAY_MS },
  facts: { partitions: 3, cleanupPolicy: 'compact', deleteRetentionMs: DAY_MS },
  // Co-partitioned with the raw topics: a command is keyed like the input of the fact it targets.
  commands: { partitions: 3, cleanupPolicy: 'delete', retentionMs: -1 },
  dlq: { partitions: 1, cleanupPolicy: 'delete', retentionMs: 30 * DAY_MS },
} as const;

/** A fact topic whose value record is written. */
const factOf = (name: string, key: string, valueSchema: RecordName, description: string): TopicEntry => ({
  name,
  stage: 'facts',
  ...STAGE_DEFAULTS.facts,
  key,
  valueSchema,
  description,
});

export const TOPICS: readonly TopicEntry[] = [
  {
    name: 'hetu.raw.kube',
    stage: 'raw',
    ...STAGE_DEFAULTS.raw,
    key:
      'Namespaced objects: `<cluster>/<namespace>/<workload>`, the workload being the top owner as far as the object ' +
      'itself shows it (ownerReferences; a ReplicaSet with a `pod-template-hash` label stands for its Deployment; an ' +
      "Event uses its involvedObject), else the object's own name; cluster-scoped objects: `<cluster>/<Kind>/<name>`; " +
      'markers (GAP, SYNC_BEGIN, SYNC_END) are appended to every partition with key `<cluster>/<Kind>`.',
    valueSchema: 'WatchObserved',
    description: 'Kubernetes watch events and list markers, as the API served them (SPEC §1 `watch`).',
  },
  {
    name: 'hetu.raw.metrics',
    stage: 'raw',
    ...STAGE_DEFAULTS.raw,
    key:
      "The series' subject: `<cluster>/<namespace>/<pod>` (container metrics), `<cluster>/<namespace>/<service>`, " +
      '`<cluster>/<namespace>/<persistentvolumeclaim>`, `<cluster>/node/<node>`, or `<cluster>` for cluster-wide ' +
      'series, so every sample of a series lands on one partition.',
    valueSchema: 'MetricSampled',
    description: "Metric samples in hetu's vocabulary (SPEC §1 `metric`).",
  },
  {
    name: 'hetu.raw.logs',
    stage: 'raw',
    ...STAGE_DEFAULTS.raw,
    retentionMs: 3 * DAY_MS,
    key: "`<cluster>/<namespace>/<workload>` (the pod when it has no owner), so one workload's lines (and its error groups) stay in one partition, in order per container.",
    valueSchema: 'LogLineObserved',
    description: 'Raw container log lines and gap markers (SPEC §1 `log`).',
  },
  {
    name: 'hetu.commands',
    stage: 'commands',
    ...STAGE_DEFAULTS.commands,
    key: 'The partition key of what it targets, so it reaches the task that owns it: for error-group commands `<cluster>/<namespace>/<workload>` of the group.',
    valueSchema: 'Command',
    description:
      'User and system commands (resolve, ignore, merge, split, set status, regenerate, ask); kept forever so a replay applies them again.',
  },
  {
    name: 'hetu.dlq',
    stage: 'dlq',
    ...STAGE_DEFAULTS.dlq,
    key: '`<sourceTopic>/<sourcePartition>/<sourceOffset>` of the refused record, or `<file>:<line>` for a recording line.',
    valueSchema: 'DeadLetter',
    description: 'Inputs that could not be processed, with their original bytes and a reason code.',
  },
  factOf(
    'hetu.facts.pod-health',
    '`<cluster>/<namespace>/<pod>`.',
    'PodHealth',
    "A pod's health categories (SPEC §2), workload identity and restarts per hour; tombstone when the pod is gone.",
  ),
  factOf(
    'hetu.facts.node-health',
    '`<cluster>/<node>`.',
    'NodeHealth',
    "A node's state: NotReady, MemoryPressure, DiskPressure, PIDPressure (SPEC §2); tombstone when the node is gone.",
  ),
  factOf(
    'hetu.facts.error-groups',
    '`<cluster>/<group id>`, group id = the first 16 hex digits of SHA-256 over [cluster, namespace, workload, fingerprint].',
    'ErrorGroup',
    'Error groups (SPEC §4): fingerprint, counts, rates, status, best sample and last 50 occurrences.',
  ),
  factOf(
    'hetu.facts.anomalies',
    '`<cluster>/<episode id>`, episode id = `an-` + 16 hex digits of the 64-bit FNV-1a of `<seriesKey>\\n<openedAt ms>`.',
    'AnomalyEpisode',
    'Anomaly episodes per series (SPEC §5), open and recently closed.',
  ),
  factOf(
    'hetu.facts.scores',
    '`<cluster>/<scope>`, scope `cluster`, `namespace:<ns>` or `workload:<ns>/<Kind>/<name>` (e.g. `prod/workload:shop/Deployment/api`).',
    'ScopeScore',
    'Current scores of a scope: overall, four dimensions, level and every rule with its resources (SPEC §3).',
  ),
  {
    ...factOf(
      'hetu.facts.score-history',
      '`<cluster>/<scope>`, as in hetu.facts.scores.',
      'ScoreChanged',
      "Every change of a scope's scores with the rules that moved it, for trendlines (SPEC §3.6); kept 30 days.",
    ),
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    deleteRetentionMs: undefined,
  },
  factOf(
    'hetu.facts.incidents',
    '`<cluster>/<incident id>` (id: `inc-` + 16 hex digits).',
    'Incident',
    'Incidents with their signals, severity and status (SPEC §6).',
  ),
  factOf(
    'hetu.facts.rca',
    "The incident's key, `<cluster>/<incident id>`.",
    'RcaReport',
    'The deterministic root-cause analysis of an incident (SPEC §7).',
  ),
  factOf(
    'hetu.facts.llm-analyses',
    '`<cluster>/incident/<incident id>`, `<cluster>/error-group/<group id>` (the latest outcome of the subject) or ' +
      "`<cluster>/question/<incident id>/<request id>` (one per question); written to the request's partition, so " +
      "it is co-partitioned with the cluster's other analysis inputs.",
    'LlmAnalysis',
    'LLM analyses of incidents and error groups and answers to questions (recorded, failed or refused), stored beside the deterministic RCA, never over it (SPEC §7).',
  ),
  {
    ...factOf(
      'hetu.facts.llm-usage',
      'The UTC day, `YYYY-MM-DD`.',
      'LlmUsage',
      'Tokens spent per UTC day against the daily budget, and every call (model, tokens, prompt hash, redaction counts) for audit (SPEC §7); one writer, the LLM worker.',
    ),
    partitions: 1,
    cleanupPolicy: 'compact,delete',
    retentionMs: 90 * DAY_MS,
  },
  factOf(
    'hetu.facts.recommendations',
    '`<cluster>/<recommendation id>`, id `<type>:<Kind>/<namespace>/<name>[/<container>]` (empty namespace for nodes).',
    'Recommendation',
    'Recommendations with their YAML patch, savings and status (SPEC §8).',
  ),
  {
    name: 'hetu.internal.score-partials',
    stage: 'internal',
    ...STAGE_DEFAULTS.facts,
    key: '`<cluster>/<namespace>`; written by the scoring-namespaces stage to its own partition (one writer per partition), read by the single-task scoring-cluster stage.',
    valueSchema: 'NamespaceScorePartial',
    description:
      "What each namespace adds to its cluster's score (counts, first 10 resources per rule, cost sums), so the cluster score is combined without holding the cluster's pods (docs/scoring.md).",
  },
  {
    name: 'hetu.llm.requests',
    stage: 'llm',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    key: "`<cluster>/<subjectKind>/<subjectId>`; written by the `llm-requests` processor to the cluster's partition.",
    valueSchema: 'LlmRequest',
    description:
      '"Analysis requested" events: the redacted prompt the LLM worker is to send for an incident, an error group or a question (SPEC §7; DESIGN §3).',
  },
].map((entry) => {
  // Drop keys set to undefined so the entries compare and print cleanly.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) if (v !== undefined) out[k] = v;
  return Object.freeze(out) as unknown as TopicEntry;
});

/** Thrown for a topic name the catalogue does not hold. */
export class CatalogueError extends Error {
  readonly code = 'HETU_CATALOGUE_UNKNOWN_TOPIC';
  readonly transient = false;
  constructor(message: string) {
    super(message);
    this.name = 'CatalogueError';
  }
}

const byName = new Map(TOPICS.map((t) => [t.name, t]));

/** The catalogue entry of a topic, or undefined for a topic hetu does not know. */
export function topicEntry(name: string): TopicEntry | undefined {
  return byName.get(name);
}

/** The TopicSpec of a catalogued topic; throws for an unknown name. */
export function topicSpec(name: string): TopicSpec {
  const entry = byName.get(name);
  if (entry === undefined) {
    throw new CatalogueError(
      `Topic ${name} is not in hetu's topic catalogue; use one of ${[...byName.keys()].join(', ')}.`,
    );
  }
  const spec: { -readonly [K in keyof TopicSpec]: TopicSpec[K] } = {
    name: entry.name,
    partitions: entry.partitions,
    cleanupPolicy: entry.cleanupPolicy,
  };
  if (entry.retentionMs !== undefined) spec.retentionMs = entry.retentionMs;
  if (entry.deleteRetentionMs !== undefined) spec.deleteRetentionMs = entry.deleteRetentionMs;
  return spec;
}

/** The TopicSpecs of every catalogued topic. */
export function topicSpecs(): TopicSpec[] {
  return TOPICS.map((t) => topicSpec(t.name));
}
