/**
 * Scoring on the log (SPEC §3; docs/scoring.md "Running on the log").
 *
 * The pipeline runs it in three stages, exported here: `scoringFeedProcessor` (route by namespace,
 * keep the clock), `scoringNamespacesProcessor` (workload and namespace scores, a partial per
 * namespace) and `scoringClusterProcessor` (the cluster score from the partials).
 *
 * `scoringProcessor` below is the one-stage form: one task per cluster holding all of it, fed by
 * hetu.internal.cluster-feed (+ incidents and recommendations). It is the reference the staged
 * form is tested against (`stages.test.ts`: the same facts, key for key). Per cluster its state
 * holds what the scorer counts, one changelog key per entity (see `input-builder.ts`), the last
 * published score of each scope (`s/<cluster>/<scope>`) and the cluster's debounce mark
 * (`c/<cluster>`). A change marks the cluster dirty; once the watermark is `debounceMs` past that
 * mark the cluster is rescored, and only scopes whose score changed are published (tombstones for
 * scopes that vanished), each with a history entry.
 */
import type { LogRecord, StatefulContext, StatefulProcessor, StatefulTickContext } from '@hetu/streams';
import { scoreChange } from './change.ts';
import { FEED_SOURCES, applyChange, dropStaleUsage, feedChangeOf } from './feed-change.ts';
import {
  PREFIX,
  ScoringInputError,
  buildInput,
  entryKey,
  type Entry,
  type FeedChange,
} from './input-builder.ts';
import { emptyPartial } from './partial.ts';
import { scoreKey, toScopeScoreRecord, toScoreChangedRecord } from './record.ts';
import { scoreAll, scoreFromPartial } from './score.ts';
import type { ScopeScore } from './types.ts';

export { buildInput, parseQuantity, USAGE_WINDOW_MINUTES } from './input-builder.ts';
// The staged form the pipeline runs (docs/scoring.md "Running on the log").
export {
  ROUND_HEADER,
  SCORING_CLUSTER_TOPIC,
  SCORING_FEED_CHANGELOG,
  SCORING_FEED_PROCESSOR,
  SCORING_FEED_TOPIC,
  scoringFeedProcessor,
  type RouterInput,
  type ScoringFeedDeps,
  type ScoringFeedState,
} from './feed.ts';
export {
  SCORE_PARTIALS_TOPIC,
  SCORING_NAMESPACES_CHANGELOG,
  SCORING_NAMESPACES_PROCESSOR,
  scoringNamespacesProcessor,
  type NamespaceInput,
  type ScoringNamespacesDeps,
  type ScoringNamespacesState,
} from './namespaces.ts';
export {
  SCORING_CLUSTER_CHANGELOG,
  SCORING_CLUSTER_PROCESSOR,
  scoringClusterProcessor,
  type ClusterInput,
  type ScoringClusterDeps,
  type ScoringClusterState,
} from './cluster.ts';

export const SCORING_PROCESSOR = 'scoring';
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
export const SCORING_CHANGELOG = 'hetu.state.scoring';
export const SCORES_TOPIC = 'hetu.facts.scores';
export const SCORE_HISTORY_TOPIC = 'hetu.facts.score-history';
/** Default: a cluster is rescored at most once per 30 s of event time. */
export const DEFAULT_DEBOUNCE_MS = 30_000;

export { FEED_SOURCES };

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
    const change = await feedChangeOf(record, name, deps.decode);
    return { cluster: name, change };
  }

  /** Applies a change; true when the cluster's entries changed. */
  function apply(c: ClusterState, change: FeedChange, ctx: StatefulContext): boolean {
    return applyChange(c.entries, change, ctx.changed);
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
    dropStaleUsage(c.entries, at, ctx.changed);
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
