/**
 * The `scoring` processor (SPEC §3; docs/scoring.md "Running on the log"):
 * hetu.internal.cluster-feed (raw kube and metrics records and the pod-health, node-health,
 * error-group, anomaly, incident and recommendation facts, re-keyed by `<cluster>`) →
 * hetu.facts.scores and hetu.facts.score-history.
 *
 * Per cluster the state holds what the scorer counts, one changelog key per entity (see
 * `input-builder.ts`), the last published score of each scope (`s/<cluster>/<scope>`) and the
 * cluster's debounce mark (`c/<cluster>`). A change marks the cluster dirty at the current
 * watermark; once the watermark is `debounceMs` past that mark the cluster is rescored, and only
 * scopes whose score changed are published (tombstones for scopes that vanished), each with a
 * history entry.
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
import type { LogRecord, StatefulContext, StatefulProcessor, StatefulTickContext } from '@hetu/streams';
import { sourceOf } from '../rekey/rekey.ts';
import { scoreChange } from './change.ts';
import {
  PREFIX,
  ScoringInputError,
  addSample,
  buildInput,
  entryKey,
  fromAnomaly,
  fromErrorGroup,
  fromIncident,
  fromMetric,
  fromNodeHealth,
  fromPodHealth,
  fromRecommendation,
  fromWatch,
  usageIsStale,
  type Entry,
  type FeedChange,
  type Position,
  type PvcEntry,
  type UsageEntry,
} from './input-builder.ts';
import { emptyPartial } from './partial.ts';
import { scoreKey, toScopeScoreRecord, toScoreChangedRecord } from './record.ts';
import { scoreAll, scoreFromPartial } from './score.ts';
import type { ScopeScore } from './types.ts';

export { buildInput, parseQuantity, USAGE_WINDOW_MINUTES } from './input-builder.ts';

export const SCORING_PROCESSOR = 'scoring';
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
export const SCORING_CHANGELOG = 'hetu.state.scoring';
export const SCORES_TOPIC = 'hetu.facts.scores';
export const SCORE_HISTORY_TOPIC = 'hetu.facts.score-history';
/** Default: a cluster is rescored at most once per 30 s of event time. */
export const DEFAULT_DEBOUNCE_MS = 30_000;

/** The topics whose records the feed carries (`sourceOf(record).topic`). */
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

export interface ScoringProcessorDeps {
  /** Decodes a record value of `sourceTopic` (e.g. Avro through the registry). */
  decode(sourceTopic: string, value: Buffer): Promise<unknown>;
  /** Event time between a cluster's first unscored change and its rescoring. Default 30 s. */
  readonly debounceMs?: number;
}

export interface ScoringFeedInput {
  readonly cluster: string;
  readonly change: FeedChange;
}

interface ClusterState {
  readonly entries: Map<string, Entry>;
  /** scope → last published score. */
  readonly scores: Map<string, ScopeScore>;
  /** Event time of the oldest change not scored yet; null when scores are current. */
  dirtySince: number | null;
}

export interface ScoringState {
  readonly clusters: Map<string, ClusterState>;
}

const SCORE = 's/';
const META = 'c/';

/** The changelog holds something this version cannot read: fatal. */
export class ScoringStateError extends Error {
  readonly code = 'HETU_SCORING_STATE_INVALID';
  readonly transient = false;
}

/** The cluster of a state key `<prefix><cluster>/…` or `c/<cluster>`. */
function clusterOfKey(key: string): string {
  if (key.startsWith(META)) return key.slice(META.length);
  const end = key.indexOf('/', 2);
  if (end < 0) throw new ScoringStateError(`Unknown scoring state key ${JSON.stringify(key)}.`);
  return key.slice(2, end);
}

function cluster(state: ScoringState, name: string): ClusterState {
  let c = state.clusters.get(name);
  if (c === undefined) {
    c = { entries: new Map(), scores: new Map(), dirtySince: null };
    state.clusters.set(name, c);
  }
  return c;
}

/** JSON of an entry without its evidence: what decides whether it changed. */
function substance(e: Entry): string {
  const { evidence: _evidence, ...rest } = e as { evidence?: unknown };
  return JSON.stringify(rest);
}

const ENTRY_PREFIXES = Object.values(PREFIX) as string[];

export function scoringProcessor(
  deps: ScoringProcessorDeps,
): StatefulProcessor<ScoringFeedInput, ScoringState> {
  const debounceMs = deps.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  if (!Number.isFinite(debounceMs) || debounceMs < 0)
    throw new RangeError(`scoring processor: debounceMs must be a non-negative number, got ${debounceMs}.`);

  async function decodeInput(record: LogRecord): Promise<ScoringFeedInput> {
    // Feed records are keyed `<cluster>`; incidents and recommendations, read directly (their
    // tasks write each cluster's facts to the cluster's partition), `<cluster>/<id>`.
    const raw = record.key?.toString('utf8') ?? '';
    const direct = record.topic !== CLUSTER_FEED_TOPIC;
    const name = direct ? raw.slice(0, Math.max(0, raw.indexOf('/'))) : raw;
    if (name === '' || (!direct && name.includes('/')))
      throw new ScoringInputError(
        `Record ${record.topic}/${record.partition}/${record.offset} is not keyed by a cluster name${direct ? ' and an id (`<cluster>/<id>`)' : ''}.`,
      );
    const src = sourceOf(record);
    const pos: Position = {
      topic: src.topic,
      partition: src.partition,
      offset: src.offset,
      ts: record.timestamp,
    };
    const sourceKey = src.key ?? '';
    const value = record.value === null ? null : await deps.decode(src.topic, record.value);
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
        change = keyed(() => fromErrorGroup(name, sourceKey, value as ErrorGroup | null, pos));
        break;
      case FEED_SOURCES.anomalies:
        change = keyed(() => fromAnomaly(name, sourceKey, value as AnomalyEpisode | null, pos));
        break;
      case FEED_SOURCES.incidents:
        change = keyed(() => fromIncident(name, sourceKey, value as Incident | null));
        break;
      case FEED_SOURCES.recommendations:
        change = keyed(() => fromRecommendation(name, sourceKey, value as Recommendation | null, pos));
        break;
      default:
        change = { type: 'ignored' };
    }
    // Every entry must belong to the record's cluster (its key says where it is kept).
    if (change.type !== 'ignored' && clusterOfKey(change.key) !== name) change = { type: 'ignored' };
    return { cluster: name, change };
  }

  /** Applies a change; true when the cluster's entries changed. */
  function apply(c: ClusterState, change: FeedChange, ctx: StatefulContext): boolean {
    switch (change.type) {
      case 'ignored':
        return false;
      case 'delete':
        if (!c.entries.delete(change.key)) return false;
        ctx.changed(change.key);
        return true;
      case 'put': {
        const old = c.entries.get(change.key);
        if (old !== undefined && substance(old) === substance(change.entry)) return false;
        c.entries.set(change.key, change.entry);
        ctx.changed(change.key);
        return true;
      }
      case 'usage': {
        let u = c.entries.get(change.key) as UsageEntry | undefined;
        if (u === undefined) {
          u = { namespace: change.namespace, pod: change.pod, cpu: {}, memory: {} };
          c.entries.set(change.key, u);
        }
        const rings = u[change.resource];
        addSample((rings[change.container] ??= []), change.ts, change.value);
        ctx.changed(change.key);
        return true;
      }
      case 'pvc': {
        let v = c.entries.get(change.key) as PvcEntry | undefined;
        if (v === undefined) {
          v = {
            namespace: change.namespace,
            name: change.name,
            usedBytes: null,
            capacityBytes: null,
            evidence: [change.evidence],
          };
          c.entries.set(change.key, v);
        }
        const field = change.field === 'used' ? 'usedBytes' : 'capacityBytes';
        if (v[field] === change.value) return false;
        v[field] = change.value;
        ctx.changed(change.key);
        return true;
      }
    }
  }

  function process(state: ScoringState, input: ScoringFeedInput, ctx: StatefulContext): void {
    if (input.change.type === 'ignored') return;
    const c = cluster(state, input.cluster);
    if (!apply(c, input.change, ctx)) return;
    if (c.dirtySince === null || ctx.timestamp < c.dirtySince) {
      c.dirtySince = ctx.timestamp;
      ctx.changed(META + input.cluster);
    }
    // A late change (older than the debounce behind the watermark) is scored at once: no later
    // record may come to move the watermark.
    if (ctx.watermark >= c.dirtySince + debounceMs) rescore(state, input.cluster, ctx.watermark, ctx);
  }

  /** Rescores a cluster at event time `at` and publishes what changed. */
  function rescore(
    state: ScoringState,
    name: string,
    at: number,
    ctx: Pick<StatefulTickContext, 'emit' | 'changed'>,
  ): void {
    const c = cluster(state, name);
    // Usage rings of pods without a sample in the last hour are dropped (deleted pods).
    for (const [key, e] of [...c.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (key.startsWith(PREFIX.usage) && usageIsStale(e as UsageEntry, at)) {
        c.entries.delete(key);
        ctx.changed(key);
      }
    }
    const next = scoreAll(buildInput(c.entries, at));
    const seen = new Set<string>();
    for (const score of next) {
      seen.add(score.scope);
      const prev = c.scores.get(score.scope);
      if (prev !== undefined && JSON.stringify(prev) === JSON.stringify(score)) continue;
      const key = scoreKey(name, score.scope);
      ctx.emit(SCORES_TOPIC, { key, value: toScopeScoreRecord(score, name, at), timestamp: at });
      const change = scoreChange(prev ?? null, score, at);
      if (!change.unchanged)
        ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, name), timestamp: at });
      c.scores.set(score.scope, score);
      ctx.changed(SCORE + scoreKey(name, score.scope));
    }
    for (const scope of [...c.scores.keys()].sort()) {
      if (seen.has(scope)) continue;
      const prev = c.scores.get(scope) as ScopeScore;
      const key = scoreKey(name, scope);
      ctx.emit(SCORES_TOPIC, { key, value: null, timestamp: at });
      const change = scoreChange(prev, scoreFromPartial(scope, emptyPartial()), at);
      ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, name), timestamp: at });
      c.scores.delete(scope);
      ctx.changed(SCORE + key);
    }
    c.dirtySince = null;
    ctx.changed(META + name);
  }

  function onWatermark(state: ScoringState, ctx: StatefulTickContext): void {
    for (const name of [...state.clusters.keys()].sort()) {
      const c = state.clusters.get(name) as ClusterState;
      if (c.dirtySince !== null && ctx.watermark >= c.dirtySince + debounceMs)
        rescore(state, name, ctx.watermark, ctx);
    }
  }

  function snapshot(state: ScoringState, key: string): Buffer | null {
    const c = state.clusters.get(clusterOfKey(key));
    const json = (v: unknown) => Buffer.from(JSON.stringify({ v: 1, value: v }));
    if (key.startsWith(META)) return c === undefined || c.dirtySince === null ? null : json(c.dirtySince);
    if (key.startsWith(SCORE)) {
      const s = c?.scores.get(key.slice(SCORE.length + clusterOfKey(key).length + 1));
      return s === undefined ? null : json(s);
    }
    if (!ENTRY_PREFIXES.some((p) => key.startsWith(p)))
      throw new ScoringStateError(`Unknown scoring state key ${JSON.stringify(key)}.`);
    const e = c?.entries.get(key);
    return e === undefined ? null : json(e);
  }

  function restore(state: ScoringState, key: string, value: Buffer | null): void {
    const name = clusterOfKey(key);
    const c = cluster(state, name);
    let v: unknown = null;
    if (value !== null) {
      const o = JSON.parse(value.toString('utf8')) as { v?: number; value?: unknown };
      if (o.v !== 1)
        throw new ScoringStateError(`Cannot restore scoring state: record ${key} has version ${o.v}.`);
      v = o.value;
    }
    if (key.startsWith(META)) c.dirtySince = v === null ? null : (v as number);
    else if (key.startsWith(SCORE)) {
      const scope = key.slice(SCORE.length + name.length + 1);
      if (v === null) c.scores.delete(scope);
      else c.scores.set(scope, v as ScopeScore);
    } else if (ENTRY_PREFIXES.some((p) => key.startsWith(p))) {
      if (v === null) c.entries.delete(key);
      else c.entries.set(key, v as Entry);
    } else throw new ScoringStateError(`Unknown scoring state key ${JSON.stringify(key)} in the changelog.`);
  }

  return {
    name: SCORING_PROCESSOR,
    inputs: [CLUSTER_FEED_TOPIC, FEED_SOURCES.incidents, FEED_SOURCES.recommendations],
    changelogTopic: SCORING_CHANGELOG,
    decodeInput,
    init: () => ({ clusters: new Map() }),
    restore,
    process,
    onWatermark,
    snapshot,
  };
}

export { entryKey };
