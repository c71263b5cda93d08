/**
 * The `scoring-namespaces` stage (docs/scoring.md "Running on the log"): one task per partition of
 * `hetu.internal.scoring-feed` (keyed `<cluster>/<namespace>`), holding the entries of its
 * namespaces only. At each round marker of a namespace it scores the namespace at the marker's
 * event time — its workloads and itself — publishes what changed to hetu.facts.scores and
 * hetu.facts.score-history (as the one-stage scorer did), and writes the namespace's combined
 * `ScorePartial` to hetu.internal.score-partials when it changed (with the round's number; empty
 * when the namespace has no data any more), for the cluster stage.
 *
 * State per namespace (changelog keys): `E/<cluster>/<ns>/<entry key>` the entries
 * (`input-builder.ts`), `S/<cluster>/<ns>/<scope>` the last published score of each of its scopes,
 * `P/<cluster>/<ns>` the last partial written.
 */
import type { LogRecord, StatefulContext, StatefulProcessor } from '@hetu/streams';
import { utf8Text } from '@hetu/schemas';
import { andThen } from '@hetu/streams';
import { scoreChange } from './change.ts';
import {
  applyChange,
  changeForNamespace,
  dropStaleUsage,
  feedChangeOf,
  type DecodeSource,
} from './feed-change.ts';
import { SCORING_FEED_TOPIC, roundOf } from './feed.ts';
import { ScoringInputError, buildInput, type Entry, type FeedChange } from './input-builder.ts';
import { combine, emptyPartial, type ScorePartial } from './partial.ts';
import { partialKey, toPartialRecord } from './partial-record.ts';
import { scoreKey, toScopeScoreRecord, toScoreChangedRecord } from './record.ts';
import { scoreFromPartial, stagedPartials } from './score.ts';
import { namespaceScope } from './scope.ts';
import type { ScopeScore } from './types.ts';

export const SCORING_NAMESPACES_PROCESSOR = 'scoring-namespaces';
export const SCORING_NAMESPACES_CHANGELOG = 'hetu.state.scoring-namespaces';
export const SCORES_TOPIC = 'hetu.facts.scores';
export const SCORE_HISTORY_TOPIC = 'hetu.facts.score-history';
export const SCORE_PARTIALS_TOPIC = 'hetu.internal.score-partials';

const MINUTE = 60_000;

export interface ScoringNamespacesDeps {
  /** Decodes a record value of `sourceTopic` (e.g. Avro through the registry). */
  readonly decode: DecodeSource;
}

export type NamespaceInput =
  | {
      readonly type: 'round';
      readonly cluster: string;
      readonly namespace: string;
      readonly at: number;
      readonly seq: number;
    }
  | {
      readonly type: 'change';
      readonly cluster: string;
      readonly namespace: string;
      readonly change: FeedChange;
    };

interface NamespaceState {
  readonly entries: Map<string, Entry>;
  /** scope → last published score. */
  readonly scores: Map<string, ScopeScore>;
  /** scope → JSON of the last published score (what a new score is compared with). */
  readonly published: Map<string, string>;
  /** The last partial written (JSON), null when none is (or a tombstone was). */
  partial: string | null;
  /** False when nothing changed since the last round (then a round in the same minute scores the same). */
  dirty: boolean;
  /** The minute of event time of the last round (usage means are per minute). */
  lastMinute: number | null;
}

export interface ScoringNamespacesState {
  /** `<cluster>/<namespace>` → its state. */
  readonly namespaces: Map<string, NamespaceState>;
}

/** The changelog holds something this version cannot read: fatal. */
export class ScoringNamespacesStateError extends Error {
  readonly code = 'HETU_SCORING_STATE_INVALID';
  readonly transient = false;
}

const ENTRY = 'E/';
const SCORE = 'S/';
const PARTIAL = 'P/';

/** `<T>/<cluster>/<ns>/<rest>` → [group `<cluster>/<ns>`, rest]. */
function splitStateKey(key: string): [string, string] {
  const a = key.indexOf('/', 2);
  const b = a < 0 ? -1 : key.indexOf('/', a + 1);
  if (a < 0)
    throw new ScoringNamespacesStateError(`Unknown scoring-namespaces state key ${JSON.stringify(key)}.`);
  if (b < 0) return [key.slice(2), ''];
  return [key.slice(2, b), key.slice(b + 1)];
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function scoringNamespacesProcessor(
  deps: ScoringNamespacesDeps,
): StatefulProcessor<NamespaceInput, ScoringNamespacesState> {
  function decodeInput(record: LogRecord): Promise<NamespaceInput> | NamespaceInput {
    const key = record.key ? utf8Text(record.key) : '';
    const slash = key.indexOf('/');
    const cluster = slash > 0 ? key.slice(0, slash) : '';
    const namespace = slash > 0 ? key.slice(slash + 1) : '';
    if (cluster === '' || namespace === '' || namespace.includes('/'))
      throw new ScoringInputError(
        `Record ${record.topic}/${record.partition}/${record.offset} is not keyed \`<cluster>/<namespace>\`: only the scoring-feed stage writes ${SCORING_FEED_TOPIC}.`,
      );
    const round = roundOf(record);
    if (round !== null) return { type: 'round', cluster, namespace, at: round.at, seq: round.seq };
    const input = (change: FeedChange): NamespaceInput => ({
      type: 'change',
      cluster,
      namespace,
      change: changeForNamespace(change, namespace),
    });
    const change = feedChangeOf(record, cluster, deps.decode);
    return andThen(change, input);
  }

  function group(state: ScoringNamespacesState, id: string): NamespaceState {
    let g = state.namespaces.get(id);
    if (g === undefined) {
      g = {
        entries: new Map(),
        scores: new Map(),
        published: new Map(),
        partial: null,
        dirty: true,
        lastMinute: null,
      };
      state.namespaces.set(id, g);
    }
    return g;
  }

  function process(state: ScoringNamespacesState, input: NamespaceInput, ctx: StatefulContext): void {
    const id = `${input.cluster}/${input.namespace}`;
    if (input.type === 'round') {
      const g = state.namespaces.get(id);
      if (g !== undefined) round(state, input.cluster, input.namespace, g, input.at, input.seq, ctx);
      return;
    }
    if (input.change.type === 'ignored') return;
    const g = group(state, id);
    if (applyChange(g.entries, input.change, (k) => ctx.changed(`${ENTRY}${id}/${k}`))) g.dirty = true;
  }

  /** Scores a namespace at event time `at` and publishes what changed. */
  function round(
    state: ScoringNamespacesState,
    cluster: string,
    ns: string,
    g: NamespaceState,
    at: number,
    seq: number,
    ctx: StatefulContext,
  ): void {
    const id = `${cluster}/${ns}`;
    const minute = Math.floor(at / MINUTE);
    // Nothing changed and the usage window did not move: the scores would be the same.
    if (!g.dirty && g.lastMinute === minute) return;
    dropStaleUsage(g.entries, at, (k) => ctx.changed(`${ENTRY}${id}/${k}`));
    const staged = stagedPartials(buildInput(g.entries, at));
    const workloads = staged.workloads.filter((w) => w.namespace === ns);
    const own = staged.namespaces.find((n) => n.namespace === ns)?.own ?? emptyPartial();
    const partial = combine(own, ...workloads.map((w) => w.partial));
    const next: ScopeScore[] = [];
    const nsScore = scoreFromPartial(namespaceScope(ns), partial);
    if (!nsScore.noData) next.push(nsScore);
    for (const w of workloads) {
      const s = scoreFromPartial(w.scope, w.partial);
      if (!s.noData) next.push(s);
    }
    const seen = new Set<string>();
    for (const score of next) {
      seen.add(score.scope);
      const prev = g.scores.get(score.scope);
      const json = JSON.stringify(score);
      if (prev !== undefined && g.published.get(score.scope) === json) continue;
      const key = scoreKey(cluster, score.scope);
      ctx.emit(SCORES_TOPIC, { key, value: toScopeScoreRecord(score, cluster, at), timestamp: at });
      const change = scoreChange(prev ?? null, score, at);
      if (!change.unchanged)
        ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, cluster), timestamp: at });
      g.scores.set(score.scope, score);
      g.published.set(score.scope, json);
      ctx.changed(`${SCORE}${id}/${score.scope}`);
    }
    for (const scope of [...g.scores.keys()].sort(compareText)) {
      if (seen.has(scope)) continue;
      const prev = g.scores.get(scope) as ScopeScore;
      const key = scoreKey(cluster, scope);
      ctx.emit(SCORES_TOPIC, { key, value: null, timestamp: at });
      const change = scoreChange(prev, scoreFromPartial(scope, emptyPartial()), at);
      ctx.emit(SCORE_HISTORY_TOPIC, { key, value: toScoreChangedRecord(change, cluster), timestamp: at });
      g.scores.delete(scope);
      g.published.delete(scope);
      ctx.changed(`${SCORE}${id}/${scope}`);
    }
    publishPartial(cluster, ns, g, partial, at, seq, ctx);
    g.dirty = false;
    g.lastMinute = minute;
    // A namespace with nothing left is forgotten (its changelog keys are all tombstoned by now).
    if (g.entries.size === 0 && g.scores.size === 0 && g.partial === null) state.namespaces.delete(id);
  }

  function publishPartial(
    cluster: string,
    ns: string,
    g: NamespaceState,
    partial: ScorePartial,
    at: number,
    seq: number,
    ctx: StatefulContext,
  ): void {
    const key = partialKey(cluster, ns);
    if (partial.observed === 0) {
      if (g.partial === null) return;
      // An empty partial (not a tombstone) so that it still names its round.
      ctx.emit(SCORE_PARTIALS_TOPIC, {
        key,
        value: toPartialRecord(partial, cluster, ns, at, seq),
        timestamp: at,
      });
      g.partial = null;
    } else {
      const json = JSON.stringify(partial);
      if (json === g.partial) return;
      ctx.emit(SCORE_PARTIALS_TOPIC, {
        key,
        value: toPartialRecord(partial, cluster, ns, at, seq),
        timestamp: at,
      });
      g.partial = json;
    }
    ctx.changed(`${PARTIAL}${key}`);
  }

  function snapshot(state: ScoringNamespacesState, key: string): Buffer | null {
    const [id, rest] = splitStateKey(key);
    const g = state.namespaces.get(id);
    const json = (v: unknown) => Buffer.from(JSON.stringify({ v: 1, value: v }));
    if (g === undefined) return null;
    if (key.startsWith(ENTRY)) {
      const e = g.entries.get(rest);
      return e === undefined ? null : json(e);
    }
    if (key.startsWith(SCORE)) {
      const s = g.scores.get(rest);
      return s === undefined ? null : json(s);
    }
    if (key.startsWith(PARTIAL)) return g.partial === null ? null : json(g.partial);
    throw new ScoringNamespacesStateError(`Unknown scoring-namespaces state key ${JSON.stringify(key)}.`);
  }

  function restore(state: ScoringNamespacesState, key: string, value: Buffer | null): void {
    const [id, rest] = splitStateKey(key);
    let v: unknown = null;
    if (value !== null) {
      const o = JSON.parse(value.toString('utf8')) as { v?: number; value?: unknown };
      if (o.v !== 1)
        throw new ScoringNamespacesStateError(
          `Cannot restore scoring-namespaces state: record ${key} has version ${o.v}.`,
        );
      v = o.value;
    }
    const g = group(state, id);
    if (key.startsWith(ENTRY)) {
      if (v === null) g.entries.delete(rest);
      else g.entries.set(rest, v as Entry);
    } else if (key.startsWith(SCORE)) {
      if (v === null) {
        g.scores.delete(rest);
        g.published.delete(rest);
      } else {
        g.scores.set(rest, v as ScopeScore);
        g.published.set(rest, JSON.stringify(v));
      }
    } else if (key.startsWith(PARTIAL)) g.partial = v as string | null;
    else
      throw new ScoringNamespacesStateError(
        `Unknown scoring-namespaces state key ${JSON.stringify(key)} in the changelog.`,
      );
    // Restored state is scored again at the next round (the skip needs the last round's minute).
    g.dirty = true;
  }

  return {
    name: SCORING_NAMESPACES_PROCESSOR,
    inputs: [SCORING_FEED_TOPIC],
    changelogTopic: SCORING_NAMESPACES_CHANGELOG,
    decodeInput,
    init: () => ({ namespaces: new Map() }),
    restore,
    process,
    snapshot,
  };
}
