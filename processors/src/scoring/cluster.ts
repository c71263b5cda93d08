/**
 * The `scoring-cluster` stage (docs/scoring.md "Running on the log"): a single task reading
 * hetu.internal.score-partials (each namespace's `ScorePartial`, keyed `<cluster>/<namespace>`)
 * and hetu.internal.scoring-cluster (the cluster's own facts and round markers, keyed
 * `<cluster>`), merged by event time. Per cluster it holds one partial per namespace and the
 * cluster's own entries — O(namespaces + cluster-scoped objects), never the pods. At each round
 * marker it combines them and publishes the cluster score (and its history entry) when it changed.
 *
 * A round's partials carry the round's event time and number, and its marker here is 1 ms later,
 * so the event-time merge hands every partial of the round over before the marker. Rounds of the
 * same event time (late records) all come before their markers: a partial waits (`pending`) until
 * the marker of its round, so at round n each namespace counts with its partial of a round ≤ n.
 *
 * State (changelog keys): `E/<cluster>/<entry key>`, `P/<cluster>/<namespace>` (a partial, JSON),
 * `Q/<cluster>` (partials waiting for their round's marker), `S/<cluster>` (the last published
 * cluster score).
 */
import type { LogRecord, StatefulContext, StatefulProcessor } from '@hetu/streams';
import { scoreChange } from './change.ts';
import { applyChange, feedChangeOf, type DecodeSource } from './feed-change.ts';
import { SCORING_CLUSTER_TOPIC, roundOf } from './feed.ts';
import { ScoringInputError, buildInput, type Entry, type FeedChange } from './input-builder.ts';
import { SCORE_HISTORY_TOPIC, SCORE_PARTIALS_TOPIC, SCORES_TOPIC } from './namespaces.ts';
import { combine, emptyPartial, partialOf, type ScorePartial } from './partial.ts';
import { fromPartialRecord, type NamespaceScorePartialRecord } from './partial-record.ts';
import { scoreKey, toScopeScoreRecord, toScoreChangedRecord } from './record.ts';
import { scoreFromPartial } from './score.ts';
import { collect } from './collect.ts';
import type { ScopeScore } from './types.ts';

export const SCORING_CLUSTER_PROCESSOR = 'scoring-cluster';
export const SCORING_CLUSTER_CHANGELOG = 'hetu.state.scoring-cluster';

export interface ScoringClusterDeps {
  /** Decodes a record value of `sourceTopic` (e.g. Avro through the registry). */
  readonly decode: DecodeSource;
}

export type ClusterInput =
  | { readonly type: 'round'; readonly cluster: string; readonly at: number; readonly seq: number }
  | { readonly type: 'change'; readonly cluster: string; readonly change: FeedChange }
  | {
      readonly type: 'partial';
      readonly cluster: string;
      readonly namespace: string;
      readonly round: number;
      readonly partial: ScorePartial | null;
    };

/** A partial not combined yet: it belongs to a round whose marker has not come yet. */
interface PendingPartial {
  readonly namespace: string;
  readonly round: number;
  readonly partial: ScorePartial | null;
}

interface ClusterState {
  readonly entries: Map<string, Entry>;
  /** namespace → its latest partial combined so far. */
  readonly partials: Map<string, ScorePartial>;
  /** Partials in arrival order whose round is later than the last marker's. */
  pending: PendingPartial[];
  score: ScopeScore | null;
}

export interface ScoringClusterState {
  readonly clusters: Map<string, ClusterState>;
}

/** The changelog holds something this version cannot read: fatal. */
export class ScoringClusterStateError extends Error {
  readonly code = 'HETU_SCORING_STATE_INVALID';
  readonly transient = false;
}

const ENTRY = 'E/';
const PARTIAL = 'P/';
const SCORE = 'S/';
const PENDING = 'Q/';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `<T>/<cluster>[/<rest>]` → [cluster, rest]. */
function splitStateKey(key: string): [string, string] {
  const a = key.indexOf('/', 2);
  return a < 0 ? [key.slice(2), ''] : [key.slice(2, a), key.slice(a + 1)];
}

export function scoringClusterProcessor(
  deps: ScoringClusterDeps,
): StatefulProcessor<ClusterInput, ScoringClusterState> {
  async function decodeInput(record: LogRecord): Promise<ClusterInput> {
    const key = record.key?.toString('utf8') ?? '';
    if (record.topic === SCORE_PARTIALS_TOPIC) {
      const slash = key.indexOf('/');
      if (slash <= 0 || slash === key.length - 1)
        throw new ScoringInputError(
          `Record ${record.topic}/${record.partition}/${record.offset} is not keyed \`<cluster>/<namespace>\`.`,
        );
      const rec =
        record.value === null
          ? null
          : ((await deps.decode(record.topic, record.value)) as NamespaceScorePartialRecord);
      return {
        type: 'partial',
        cluster: key.slice(0, slash),
        namespace: key.slice(slash + 1),
        // A tombstone (the topic's compaction) is applied at the next marker.
        round: rec === null ? 0 : Number(rec.round),
        partial: rec === null ? null : fromPartialRecord(rec),
      };
    }
    if (key === '' || key.includes('/'))
      throw new ScoringInputError(
        `Record ${record.topic}/${record.partition}/${record.offset} is not keyed by a cluster name: only the scoring-feed stage writes ${SCORING_CLUSTER_TOPIC}.`,
      );
    const round = roundOf(record);
    if (round !== null) return { type: 'round', cluster: key, at: round.at, seq: round.seq };
    return { type: 'change', cluster: key, change: await feedChangeOf(record, key, deps.decode) };
  }

  function cluster(state: ScoringClusterState, name: string): ClusterState {
    let c = state.clusters.get(name);
    if (c === undefined) {
      c = { entries: new Map(), partials: new Map(), pending: [], score: null };
      state.clusters.set(name, c);
    }
    return c;
  }

  function process(state: ScoringClusterState, input: ClusterInput, ctx: StatefulContext): void {
    const name = input.cluster;
    switch (input.type) {
      case 'round': {
        const c = state.clusters.get(name);
        if (c !== undefined) round(name, c, input.at, input.seq, ctx);
        return;
      }
      case 'partial': {
        // Kept until its round's marker: later rounds' partials of the same event time come
        // before earlier rounds' markers in the merge (each marker is 1 ms after its round).
        const c = cluster(state, name);
        c.pending.push({ namespace: input.namespace, round: input.round, partial: input.partial });
        ctx.changed(`${PENDING}${name}`);
        return;
      }
      case 'change':
        if (input.change.type === 'ignored') return;
        applyChange(cluster(state, name).entries, input.change, (k) => ctx.changed(`${ENTRY}${name}/${k}`));
    }
  }

  /** Combines the cluster's own facts and its namespaces' partials at event time `at`; publishes a change. */
  function round(name: string, c: ClusterState, at: number, seq: number, ctx: StatefulContext): void {
    if (c.pending.length > 0) {
      const later: PendingPartial[] = [];
      for (const p of c.pending) {
        if (p.round > seq) {
          later.push(p);
          continue;
        }
        // An empty partial (or a tombstone): the namespace has no data any more.
        if (p.partial === null || p.partial.observed === 0) c.partials.delete(p.namespace);
        else c.partials.set(p.namespace, p.partial);
        ctx.changed(`${PARTIAL}${name}/${p.namespace}`);
      }
      c.pending = later;
      ctx.changed(`${PENDING}${name}`);
    }
    const own = partialOf(collect(buildInput(c.entries, at)), () => true);
    const namespaces = [...c.partials.keys()]
      .sort(compareText)
      .map((ns) => c.partials.get(ns) as ScorePartial);
    const score = scoreFromPartial('cluster', combine(own, ...namespaces));
    const key = scoreKey(name, 'cluster');
    const prev = c.score;
    if (score.noData) {
      if (prev === null) return;
      ctx.emit(SCORES_TOPIC, { key, value: null, timestamp: at });
      const change = scoreChange(prev, scoreFromPartial('cluster', emptyPartial()), at);
      ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, name), timestamp: at });
      c.score = null;
    } else {
      if (prev !== null && JSON.stringify(prev) === JSON.stringify(score)) return;
      ctx.emit(SCORES_TOPIC, { key, value: toScopeScoreRecord(score, name, at), timestamp: at });
      const change = scoreChange(prev, score, at);
      if (!change.unchanged)
        ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, name), timestamp: at });
      c.score = score;
    }
    ctx.changed(`${SCORE}${name}`);
  }

  function snapshot(state: ScoringClusterState, key: string): Buffer | null {
    const [name, rest] = splitStateKey(key);
    const c = state.clusters.get(name);
    const json = (v: unknown) => Buffer.from(JSON.stringify({ v: 1, value: v }));
    if (c === undefined) return null;
    if (key.startsWith(ENTRY)) {
      const e = c.entries.get(rest);
      return e === undefined ? null : json(e);
    }
    if (key.startsWith(PARTIAL)) {
      const p = c.partials.get(rest);
      return p === undefined ? null : json(p);
    }
    if (key.startsWith(SCORE)) return c.score === null ? null : json(c.score);
    if (key.startsWith(PENDING)) return c.pending.length === 0 ? null : json(c.pending);
    throw new ScoringClusterStateError(`Unknown scoring-cluster state key ${JSON.stringify(key)}.`);
  }

  function restore(state: ScoringClusterState, key: string, value: Buffer | null): void {
    const [name, rest] = splitStateKey(key);
    let v: unknown = null;
    if (value !== null) {
      const o = JSON.parse(value.toString('utf8')) as { v?: number; value?: unknown };
      if (o.v !== 1)
        throw new ScoringClusterStateError(
          `Cannot restore scoring-cluster state: record ${key} has version ${o.v}.`,
        );
      v = o.value;
    }
    const c = cluster(state, name);
    if (key.startsWith(ENTRY)) {
      if (v === null) c.entries.delete(rest);
      else c.entries.set(rest, v as Entry);
    } else if (key.startsWith(PARTIAL)) {
      if (v === null) c.partials.delete(rest);
      else c.partials.set(rest, v as ScorePartial);
    } else if (key.startsWith(SCORE)) c.score = v as ScopeScore | null;
    else if (key.startsWith(PENDING)) c.pending = (v as PendingPartial[] | null) ?? [];
    else
      throw new ScoringClusterStateError(
        `Unknown scoring-cluster state key ${JSON.stringify(key)} in the changelog.`,
      );
  }

  return {
    name: SCORING_CLUSTER_PROCESSOR,
    singleTask: true,
    inputs: [SCORE_PARTIALS_TOPIC, SCORING_CLUSTER_TOPIC],
    changelogTopic: SCORING_CLUSTER_CHANGELOG,
    decodeInput,
    init: () => ({ clusters: new Map() }),
    restore,
    process,
    snapshot,
  };
}
