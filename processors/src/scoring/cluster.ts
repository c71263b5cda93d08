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
 * `Q/<cluster>/<n>` (the n-th partial to arrive, while it waits for its round's marker: one key
 * each, as a cluster of many namespaces has many waiting at once — one key for all of them reached
 * Kafka's 1 MiB record limit at 10 000 pods), `S/<cluster>` (the last published cluster score).
 * Changelogs written before hold all waiting partials under `Q/<cluster>`: read, then rewritten
 * one key each at the cluster's next input.
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

// A round's marker and its partials carry the same time: the merge's tie-break by topic name must
// hand over the partials first (feed.ts, round()).
if (!(SCORE_PARTIALS_TOPIC < SCORING_CLUSTER_TOPIC))
  throw new Error(
    `${SCORE_PARTIALS_TOPIC} must sort before ${SCORING_CLUSTER_TOPIC}: the round markers rely on it.`,
  );
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
  /** Arrival number in its cluster (its changelog key). */
  readonly n: number;
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
  /** The next arrival number. */
  nextPending: number;
  /** Restored: `pending` may be out of arrival order. */
  unsorted: boolean;
  /** Restored from a `Q/<cluster>` record of an older changelog: rewrite as one key each. */
  legacyPending: boolean;
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
      c = {
        entries: new Map(),
        partials: new Map(),
        pending: [],
        nextPending: 0,
        unsorted: false,
        legacyPending: false,
        score: null,
      };
      state.clusters.set(name, c);
    }
    return c;
  }

  /** Puts a restored cluster's waiting partials back in arrival order, under keys of their own. */
  function settle(name: string, c: ClusterState, ctx: StatefulContext): void {
    if (c.unsorted) {
      c.pending.sort((a, b) => a.n - b.n);
      c.unsorted = false;
    }
    if (c.legacyPending) {
      for (const p of c.pending) ctx.changed(`${PENDING}${name}/${p.n}`);
      ctx.changed(`${PENDING}${name}`);
      c.legacyPending = false;
    }
  }

  function process(state: ScoringClusterState, input: ClusterInput, ctx: StatefulContext): void {
    const name = input.cluster;
    const known = state.clusters.get(name);
    if (known !== undefined) settle(name, known, ctx);
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
        const n = c.nextPending++;
        c.pending.push({ n, namespace: input.namespace, round: input.round, partial: input.partial });
        ctx.changed(`${PENDING}${name}/${n}`);
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
        ctx.changed(`${PENDING}${name}/${p.n}`);
      }
      c.pending = later;
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
    if (key.startsWith(PENDING)) {
      // `Q/<cluster>`, an older changelog's: superseded by one key each.
      if (rest === '') return null;
      const n = Number(rest);
      const p = c.pending.find((x) => x.n === n);
      return p === undefined ? null : json({ namespace: p.namespace, round: p.round, partial: p.partial });
    }
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
    else if (key.startsWith(PENDING)) restorePending(c, rest, v);
    else
      throw new ScoringClusterStateError(
        `Unknown scoring-cluster state key ${JSON.stringify(key)} in the changelog.`,
      );
  }

  function restorePending(c: ClusterState, rest: string, v: unknown): void {
    if (rest === '') {
      // An older changelog's list of every waiting partial.
      const list = (v as Omit<PendingPartial, 'n'>[] | null) ?? [];
      c.pending = list.map((p, i) => ({ ...p, n: i }));
      c.nextPending = list.length;
      c.legacyPending = list.length > 0;
      c.unsorted = false;
      return;
    }
    const n = Number(rest);
    c.pending = c.pending.filter((x) => x.n !== n);
    if (v !== null) {
      const p = v as Omit<PendingPartial, 'n'>;
      c.pending.push({ n, namespace: p.namespace, round: p.round, partial: p.partial });
      c.unsorted = true;
    }
    c.nextPending = Math.max(c.nextPending, n + 1);
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
