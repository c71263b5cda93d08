/**
 * What one scoring input record does to the entries the scoring stages keep (shared by the
 * `scoring-feed` router, the `scoring-namespaces` and `scoring-cluster` stages and the one-stage
 * reference processor): decoding a record of any scoring source into a `FeedChange`, applying it,
 * and where its entry belongs (a namespace or the cluster itself). Pure: time comes from records.
 */
import type {
  AnomalyEpisode,
  ErrorGroup,
  Incident,
  MetricSampled,
  NodeHealth,
  PodHealth,
  Recommendation,
  WatchObserved,
} from '@hetu/schemas';
import type { LogRecord } from '@hetu/streams';
import { andThen } from '@hetu/streams';
import { sourceOf } from '../rekey/rekey.ts';
import {
  PREFIX,
  addSample,
  fromAnomaly,
  fromErrorGroup,
  fromIncident,
  fromMetric,
  fromNodeHealth,
  fromPodHealth,
  fromRecommendation,
  fromWatch,
  usageIsStale,
  type AnomalyEntry,
  type Entry,
  type ErrorGroupEntry,
  type FeedChange,
  type IncidentEntry,
  type Position,
  type PvcEntry,
  type RecommendationEntry,
  type UsageEntry,
} from './input-builder.ts';

/** The topics whose records the scoring stages read (`sourceOf(record).topic`). */
export const FEED_SOURCES = {
  kube: 'hetu.raw.kube',
  metrics: 'hetu.raw.metrics',
  podHealth: 'hetu.facts.pod-health',
  nodeHealth: 'hetu.facts.node-health',
  errorGroups: 'hetu.facts.error-groups',
  anomalies: 'hetu.facts.anomalies',
  incidents: 'hetu.facts.incidents',
  recommendations: 'hetu.facts.recommendations',
} as const;

/** Decodes a record value of `sourceTopic` (e.g. Avro through the registry). */
/** A decoder of source values: a promise only when it must wait (a schema to fetch). */
export type DecodeSource = (sourceTopic: string, value: Buffer) => Promise<unknown> | unknown;

/** The cluster of an entry key `<prefix><cluster>/…`; '' when the key has no cluster. */
export function entryCluster(key: string): string {
  const end = key.indexOf('/', 2);
  return end < 0 ? '' : key.slice(2, end);
}

/**
 * The change a scoring input record makes to the entries of `cluster` (docs/scoring.md "Running on
 * the log"): `sourceOf(record)` names the source topic (so `decode` picks its schema) and its key
 * names the entity; a tombstone deletes it. An entry that would not belong to `cluster` is ignored.
 * Throws `ScoringInputError` (bad input) for a watch object the scorer cannot read.
 */
export function feedChangeOf(
  record: LogRecord,
  cluster: string,
  decode: DecodeSource,
): Promise<FeedChange> | FeedChange {
  const src = sourceOf(record);
  if (record.value === null) return changeOf(record, cluster, src, null);
  const value = decode(src.topic, record.value);
  return andThen(value, (v) => changeOf(record, cluster, src, v));
}

function changeOf(
  record: LogRecord,
  cluster: string,
  src: ReturnType<typeof sourceOf>,
  value: unknown,
): FeedChange {
  const pos: Position = {
    topic: src.topic,
    partition: src.partition,
    offset: src.offset,
    ts: record.timestamp,
  };
  const sourceKey = src.key ?? '';
  const keyed = (f: () => FeedChange): FeedChange => (sourceKey === '' ? { type: 'ignored' } : f());
  let change: FeedChange;
  switch (src.topic) {
    case FEED_SOURCES.kube:
      change = value === null ? { type: 'ignored' } : fromWatch(value as WatchObserved, pos);
      break;
    case FEED_SOURCES.metrics:
      change = value === null ? { type: 'ignored' } : fromMetric(value as MetricSampled, pos);
      break;
    case FEED_SOURCES.podHealth:
      change = keyed(() => fromPodHealth(sourceKey, value as PodHealth | null));
      break;
    case FEED_SOURCES.nodeHealth:
      change = keyed(() => fromNodeHealth(sourceKey, value as NodeHealth | null));
      break;
    case FEED_SOURCES.errorGroups:
      change = keyed(() => fromErrorGroup(cluster, sourceKey, value as ErrorGroup | null, pos));
      break;
    case FEED_SOURCES.anomalies:
      change = keyed(() => fromAnomaly(cluster, sourceKey, value as AnomalyEpisode | null, pos));
      break;
    case FEED_SOURCES.incidents:
      change = keyed(() => fromIncident(cluster, sourceKey, value as Incident | null));
      break;
    case FEED_SOURCES.recommendations:
      change = keyed(() => fromRecommendation(cluster, sourceKey, value as Recommendation | null, pos));
      break;
    default:
      change = { type: 'ignored' };
  }
  // Every entry must belong to the record's cluster (its key says where it is kept).
  if (change.type !== 'ignored' && entryCluster(change.key) !== cluster) return { type: 'ignored' };
  return change;
}

/** JSON of an entry without its evidence: what decides whether it changed. */
export function substance(e: Entry): string {
  const { evidence: _evidence, ...rest } = e as { evidence?: unknown };
  return JSON.stringify(rest);
}

/**
 * Applies a change to `entries` and calls `changed(entryKey)` for what it rewrote; true when the
 * entries changed (an entry whose content, evidence aside, is the same is not rewritten).
 */
export function applyChange(
  entries: Map<string, Entry>,
  change: FeedChange,
  changed: (entryKey: string) => void,
): boolean {
  switch (change.type) {
    case 'ignored':
      return false;
    case 'delete':
      if (!entries.delete(change.key)) return false;
      changed(change.key);
      return true;
    case 'put': {
      const old = entries.get(change.key);
      if (old !== undefined && substance(old) === substance(change.entry)) return false;
      entries.set(change.key, change.entry);
      changed(change.key);
      return true;
    }
    case 'usage': {
      let u = entries.get(change.key) as UsageEntry | undefined;
      if (u === undefined) {
        u = { namespace: change.namespace, pod: change.pod, cpu: {}, memory: {} };
        entries.set(change.key, u);
      }
      const rings = u[change.resource];
      addSample((rings[change.container] ??= []), change.ts, change.value);
      changed(change.key);
      return true;
    }
    case 'pvc': {
      let v = entries.get(change.key) as PvcEntry | undefined;
      if (v === undefined) {
        v = {
          namespace: change.namespace,
          name: change.name,
          usedBytes: null,
          capacityBytes: null,
          evidence: [change.evidence],
        };
        entries.set(change.key, v);
      }
      const field = change.field === 'used' ? 'usedBytes' : 'capacityBytes';
      if (v[field] === change.value) return false;
      v[field] = change.value;
      changed(change.key);
      return true;
    }
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Drops usage rings without a sample in the hour before `at` (deleted pods), in key order. */
export function dropStaleUsage(
  entries: Map<string, Entry>,
  at: number,
  changed: (entryKey: string) => void,
): void {
  const stale: string[] = [];
  entries.forEach((e, key) => {
    if (key.startsWith(PREFIX.usage) && usageIsStale(e as UsageEntry, at)) stale.push(key);
  });
  for (const key of stale.sort(compareText)) {
    entries.delete(key);
    changed(key);
  }
}

/** The level an entry is scored at: the cluster itself (''), or a namespace. */
export const CLUSTER_LEVEL = '';

/**
 * Where the entry of a change is kept: its namespace, or `CLUSTER_LEVEL` for nodes, ClusterRoles,
 * ClusterRoleBindings, anomalies that name no namespace and incidents that touch none. An incident
 * belongs to every namespace it touches. Null for a deletion of an error group, anomaly, incident
 * or recommendation: its key (an id) does not say; the router remembers where it sent it.
 */
export function destinationsOf(change: FeedChange): string[] | null {
  switch (change.type) {
    case 'ignored':
      return [];
    case 'usage':
    case 'pvc':
      return [change.namespace];
    case 'put':
    case 'delete':
      break;
  }
  const key = change.key;
  const prefix = key.slice(0, 2);
  const parts = key.split('/');
  switch (prefix) {
    case PREFIX.podFact:
    case PREFIX.podObject:
    case PREFIX.workload:
    case PREFIX.usage:
    case PREFIX.pvc:
      // `<prefix><cluster>/<ns>/…`
      return [parts[2] ?? CLUSTER_LEVEL];
    case PREFIX.node:
      return [CLUSTER_LEVEL];
    case PREFIX.object: {
      // `o/<cluster>/<Kind>/<ns>/<name>`: a Namespace belongs to itself, cluster-scoped kinds to the cluster.
      const kind = parts[2] ?? '';
      if (kind === 'Namespace') return [parts.slice(4).join('/')];
      return [parts[3] ?? CLUSTER_LEVEL];
    }
  }
  if (change.type === 'delete') return null;
  const entry = change.entry;
  switch (prefix) {
    case PREFIX.errorGroup:
      return [(entry as ErrorGroupEntry).namespace];
    case PREFIX.anomaly:
      return [(entry as AnomalyEntry).namespace ?? CLUSTER_LEVEL];
    case PREFIX.incident: {
      const touched = [...new Set((entry as IncidentEntry).scopes.map((s) => s.namespace))].sort(compareText);
      return touched.length === 0 ? [CLUSTER_LEVEL] : touched;
    }
    case PREFIX.recommendation:
      return [(entry as RecommendationEntry).workload.namespace];
  }
  return [];
}

/** The part of a change that concerns namespace `ns`: an incident keeps only its scopes there. */
export function changeForNamespace(change: FeedChange, ns: string): FeedChange {
  if (change.type !== 'put' || !change.key.startsWith(PREFIX.incident)) return change;
  const inc = change.entry as IncidentEntry;
  return { ...change, entry: { ...inc, scopes: inc.scopes.filter((s) => s.namespace === ns) } };
}
