/**
 * The `scoring-feed` router (docs/design-analysis-topology.md, staged scoring): a single task that
 * reads what the one-stage scorer read — hetu.internal.cluster-feed, hetu.facts.incidents and
 * hetu.facts.recommendations, merged by event time — and copies each record, byte for byte with
 * its source position in headers (`sourceOf`), to where its entry is scored:
 *
 *  - `hetu.internal.scoring-feed`, keyed `<cluster>/<namespace>`, for everything inside a
 *    namespace (an incident goes to every namespace it touches);
 *  - `hetu.internal.scoring-cluster`, keyed `<cluster>`, for the cluster's own facts (nodes,
 *    ClusterRoles and their bindings, anomalies naming no namespace, incidents touching none).
 *
 * It also keeps each cluster's scoring clock, the debounce of the one-stage scorer: a routed
 * record marks the cluster dirty at its event time; once the cluster's watermark is `debounceMs`
 * past the mark, it appends a **round** marker (value null, header `hetu-scoring-round` = the
 * watermark) to every namespace of the cluster it has routed to and to the cluster stage, right
 * after the record that closed the round (the cluster's marker 1 ms later, so that the round's
 * partials come first in the cluster stage's event-time merge). Each namespace task then scores
 * its namespace with exactly the records that came before the marker, as the one-stage scorer did
 * at that point.
 *
 * Only a record that changes what the scorer holds is passed on and starts the debounce, as in the
 * one-stage scorer: the router keeps a fingerprint of each entry (SHA-1 of its content without
 * evidence) to tell a change from a repeat. Records that no stage would score (events, other
 * metrics, list markers) and repeats are dropped, but still move the cluster's watermark.
 *
 * State per cluster: its watermark and debounce mark, the namespaces it routed to, where it sent
 * each error group, anomaly episode, incident and recommendation (their keys are ids, so a
 * tombstone is routed where its fact went), and the entries' fingerprints.
 */
import { createHash } from 'node:crypto';
import { utf8Text } from '@hetu/schemas';
import type { AppendRecord, LogRecord, StatefulContext, StatefulProcessor } from '@hetu/streams';
import { andThen } from '@hetu/streams';
import {
  SOURCE_KEY_HEADER,
  SOURCE_OFFSET_HEADER,
  SOURCE_PARTITION_HEADER,
  SOURCE_TOPIC_HEADER,
  sourceOf,
  textBytes,
} from '../rekey/rekey.ts';
import {
  CLUSTER_LEVEL,
  FEED_SOURCES,
  destinationsOf,
  entryCluster,
  feedChangeOf,
  substance,
  type DecodeSource,
} from './feed-change.ts';
import { ScoringInputError, type FeedChange } from './input-builder.ts';

export const SCORING_FEED_PROCESSOR = 'scoring-feed';
export const SCORING_FEED_CHANGELOG = 'hetu.state.scoring-feed';
/** The input the router reads first: raw records and facts re-keyed by cluster. */
export const CLUSTER_FEED_TOPIC = 'hetu.internal.cluster-feed';
/** A namespace's scoring inputs and round markers, keyed `<cluster>/<namespace>`. */
export const SCORING_FEED_TOPIC = 'hetu.internal.scoring-feed';
/** The cluster's own scoring inputs and round markers, keyed `<cluster>`. */
export const SCORING_CLUSTER_TOPIC = 'hetu.internal.scoring-cluster';
/**
 * The header that marks a scoring round (record value null): the round's event time in ms, as
 * decimal text. A namespace's marker has that event time; the cluster's, 1 ms more.
 */
export const ROUND_HEADER = 'hetu-scoring-round';
/** Default: a cluster is rescored at most once per 30 s of event time. */
export const DEFAULT_DEBOUNCE_MS = 30_000;

export interface ScoringFeedDeps {
  /** Decodes a record value of `sourceTopic` (e.g. Avro through the registry). */
  readonly decode: DecodeSource;
  /** Event time between a cluster's first unscored change and its scoring round. Default 30 s. */
  readonly debounceMs?: number;
}

export interface RouterInput {
  readonly record: LogRecord;
  readonly cluster: string;
  /** What the record does to the scorer's entries. */
  readonly change: FeedChange;
  /** For a put: the fingerprint of the entry's content (evidence aside). */
  readonly print: string | null;
  /** Namespaces (or `CLUSTER_LEVEL`) the record goes to; null: where its id's fact went. */
  readonly destinations: readonly string[] | null;
  /** For facts keyed by id: the key under which the router remembers their destinations. */
  readonly routeKey: string | null;
}

interface ClusterClock {
  watermark: number;
  /** Event time of the oldest routed record not in a round yet; null when none. */
  dirtySince: number | null;
  /** Rounds closed so far. */
  rounds: number;
  readonly namespaces: Set<string>;
  /** routeKey → destinations, for facts keyed by id. */
  readonly routes: Map<string, string[]>;
  /** entry key → fingerprint of its content (a PVC's: its two values), to tell a change from a repeat. */
  readonly prints: Map<string, string>;
}

export interface ScoringFeedState {
  readonly clusters: Map<string, ClusterClock>;
}

/** The router's changelog holds something this version cannot read: fatal. */
/** A round: its number in the cluster (1, 2, …) and its event time. */
export interface Round {
  readonly seq: number;
  readonly at: number;
}

/** The round a marker closes (its header `<seq> <at ms>`), or null for a record that is not one. */
export function roundOf(record: LogRecord): Round | null {
  const h = record.headers[ROUND_HEADER];
  if (h === undefined) return null;
  const [seq, at] = h.toString('utf8').split(' ').map(Number);
  if (seq === undefined || at === undefined || !Number.isSafeInteger(seq) || !Number.isFinite(at))
    throw new ScoringInputError(
      `Record ${record.topic}/${record.partition}/${record.offset} has a ${ROUND_HEADER} header that is not \`<round> <time in ms>\`.`,
    );
  return { seq, at };
}

export class ScoringFeedStateError extends Error {
  readonly code = 'HETU_SCORING_STATE_INVALID';
  readonly transient = false;
}

const CLOCK = 'c/';
const NAMESPACE = 'n/';
const ROUTE = 'r/';
const PRINT = 'f/';
const BY_ID = new Set<string>([
  FEED_SOURCES.errorGroups,
  FEED_SOURCES.anomalies,
  FEED_SOURCES.incidents,
  FEED_SOURCES.recommendations,
]);

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function clock(state: ScoringFeedState, name: string): ClusterClock {
  let c = state.clusters.get(name);
  if (c === undefined) {
    c = {
      watermark: Number.NEGATIVE_INFINITY,
      dirtySince: null,
      rounds: 0,
      namespaces: new Set(),
      routes: new Map(),
      prints: new Map(),
    };
    state.clusters.set(name, c);
  }
  return c;
}

/** The cluster a changelog key belongs to: `c/<cluster>`, `n/<cluster>/<ns>`, `r/<x>/<cluster>/…`. */
function clusterOfStateKey(key: string): string {
  if (key.startsWith(CLOCK)) return key.slice(CLOCK.length);
  if (key.startsWith(NAMESPACE)) return key.slice(NAMESPACE.length, key.indexOf('/', NAMESPACE.length));
  if (key.startsWith(ROUTE) || key.startsWith(PRINT)) return entryCluster(key.slice(2));
  throw new ScoringFeedStateError(`Unknown scoring-feed state key ${JSON.stringify(key)}.`);
}

/** The destination key of a record: `<cluster>/<namespace>`, or `<cluster>` for the cluster level. */
function destinationKey(cluster: string, destination: string): string {
  return destination === CLUSTER_LEVEL ? cluster : `${cluster}/${destination}`;
}

export function scoringFeedProcessor(
  deps: ScoringFeedDeps,
): StatefulProcessor<RouterInput, ScoringFeedState> {
  const debounceMs = deps.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  if (!Number.isFinite(debounceMs) || debounceMs < 0)
    throw new RangeError(
      `scoring-feed processor: debounceMs must be a non-negative number, got ${debounceMs}.`,
    );

  function decodeInput(record: LogRecord): Promise<RouterInput> | RouterInput {
    // Feed records are keyed `<cluster>`; incidents and recommendations, read directly, `<cluster>/<id>`.
    const raw = record.key ? utf8Text(record.key) : '';
    const direct = record.topic !== CLUSTER_FEED_TOPIC;
    const cluster = direct ? raw.slice(0, Math.max(0, raw.indexOf('/'))) : raw;
    if (cluster === '' || (!direct && cluster.includes('/')))
      throw new ScoringInputError(
        `Record ${record.topic}/${record.partition}/${record.offset} is not keyed by a cluster name${direct ? ' and an id (`<cluster>/<id>`)' : ''}: the scoring stages cannot place it.`,
      );
    const src = sourceOf(record);
    const input = (change: FeedChange): RouterInput => {
      const destinations = destinationsOf(change);
      const routeKey = BY_ID.has(src.topic) && change.type !== 'ignored' ? change.key : null;
      const print =
        change.type === 'put' ? createHash('sha1').update(substance(change.entry)).digest('base64') : null;
      return { record, cluster, change, print, destinations, routeKey };
    };
    const change = feedChangeOf(record, cluster, deps.decode);
    return andThen(change, input);
  }

  function copy(input: RouterInput, destination: string, value: Buffer | null): [string, AppendRecord] {
    const r = input.record;
    const src = sourceOf(r);
    const topic = destination === CLUSTER_LEVEL ? SCORING_CLUSTER_TOPIC : SCORING_FEED_TOPIC;
    return [
      topic,
      {
        key: textBytes(destinationKey(input.cluster, destination)),
        value,
        timestamp: r.timestamp,
        headers: {
          ...r.headers,
          [SOURCE_TOPIC_HEADER]: textBytes(src.topic),
          [SOURCE_PARTITION_HEADER]: textBytes(String(src.partition)),
          [SOURCE_OFFSET_HEADER]: Buffer.from(src.offset),
          ...(src.key !== null ? { [SOURCE_KEY_HEADER]: Buffer.from(src.key) } : {}),
        },
      },
    ];
  }

  /** Whether the record changes what the scorer holds (its fingerprint of the entry), updating it. */
  function effective(c: ClusterClock, input: RouterInput, ctx: StatefulContext): boolean {
    const change = input.change;
    switch (change.type) {
      case 'ignored':
        return false;
      case 'usage':
        return true;
      case 'delete':
        if (!c.prints.delete(change.key)) return false;
        ctx.changed(PRINT + change.key);
        return true;
      case 'put': {
        if (c.prints.get(change.key) === input.print) return false;
        c.prints.set(change.key, input.print as string);
        ctx.changed(PRINT + change.key);
        return true;
      }
      case 'pvc': {
        const values = JSON.parse(c.prints.get(change.key) ?? '[null,null]') as (number | null)[];
        const i = change.field === 'used' ? 0 : 1;
        if (values[i] === change.value) return false;
        values[i] = change.value;
        c.prints.set(change.key, JSON.stringify(values));
        ctx.changed(PRINT + change.key);
        return true;
      }
    }
  }

  function process(state: ScoringFeedState, input: RouterInput, ctx: StatefulContext): void {
    const name = input.cluster;
    const c = clock(state, name);
    const ts = input.record.timestamp;
    // Only a record that changes an entry is passed on and starts the debounce, as in the
    // one-stage scorer (a repeat keeps the entry, and its evidence, as it was).
    let destinations: readonly string[] = [];
    const changes = effective(c, input, ctx);
    if (changes) {
      destinations = input.destinations ?? [];
      if (input.routeKey !== null) {
        const before = c.routes.get(input.routeKey) ?? [];
        if (input.destinations === null) {
          // A deletion by id: where the fact went.
          destinations = before;
          if (c.routes.delete(input.routeKey)) ctx.changed(ROUTE + input.routeKey);
        } else {
          // Where it no longer belongs, it is deleted (an incident that left a namespace).
          for (const d of before) if (!destinations.includes(d)) ctx.emit(...copy(input, d, null));
          if (before.join('\n') !== destinations.join('\n')) {
            c.routes.set(input.routeKey, [...destinations]);
            ctx.changed(ROUTE + input.routeKey);
          }
        }
      }
    }
    for (const d of destinations) {
      ctx.emit(...copy(input, d, input.record.value));
      if (d !== CLUSTER_LEVEL && !c.namespaces.has(d)) {
        c.namespaces.add(d);
        ctx.changed(`${NAMESPACE}${name}/${d}`);
      }
    }
    let clockChanged = false;
    if (ts > c.watermark) {
      c.watermark = ts;
      clockChanged = true;
    }
    if (changes && (c.dirtySince === null || ts < c.dirtySince)) {
      c.dirtySince = ts;
      clockChanged = true;
    }
    if (c.dirtySince !== null && c.watermark >= c.dirtySince + debounceMs) {
      round(name, c, ctx);
      clockChanged = true;
    }
    if (clockChanged) ctx.changed(CLOCK + name);
  }

  /** Closes a scoring round of a cluster at its watermark: a marker to each namespace and the cluster. */
  function round(name: string, c: ClusterClock, ctx: StatefulContext): void {
    const at = c.watermark;
    c.rounds += 1;
    const seq = c.rounds;
    const marker = (key: string, timestamp: number): AppendRecord => ({
      key: Buffer.from(key),
      value: null,
      timestamp,
      headers: { [ROUND_HEADER]: Buffer.from(`${seq} ${at}`) },
    });
    for (const ns of [...c.namespaces].sort(compareText))
      ctx.emit(SCORING_FEED_TOPIC, marker(destinationKey(name, ns), at));
    // Stamped `at` like the round's partials: the cluster stage's event-time merge orders equal
    // times by topic name, and hetu.internal.score-partials sorts before
    // hetu.internal.scoring-cluster, so every partial of the round comes before the marker,
    // whatever partition each came from.
    ctx.emit(SCORING_CLUSTER_TOPIC, marker(name, at));
    c.dirtySince = null;
  }

  function snapshot(state: ScoringFeedState, key: string): Buffer | null {
    const c = state.clusters.get(clusterOfStateKey(key));
    const json = (v: unknown) => Buffer.from(JSON.stringify({ v: 1, value: v }));
    if (c === undefined) return null;
    if (key.startsWith(CLOCK))
      return json({
        watermark: Number.isFinite(c.watermark) ? c.watermark : null,
        dirtySince: c.dirtySince,
        rounds: c.rounds,
      });
    if (key.startsWith(NAMESPACE)) {
      const ns = key.slice(NAMESPACE.length + clusterOfStateKey(key).length + 1);
      return c.namespaces.has(ns) ? json(1) : null;
    }
    if (key.startsWith(PRINT)) {
      const print = c.prints.get(key.slice(PRINT.length));
      return print === undefined ? null : json(print);
    }
    const routes = c.routes.get(key.slice(ROUTE.length));
    return routes === undefined ? null : json(routes);
  }

  function restore(state: ScoringFeedState, key: string, value: Buffer | null): void {
    const name = clusterOfStateKey(key);
    const c = clock(state, name);
    let v: unknown = null;
    if (value !== null) {
      const o = JSON.parse(value.toString('utf8')) as { v?: number; value?: unknown };
      if (o.v !== 1)
        throw new ScoringFeedStateError(
          `Cannot restore scoring-feed state: record ${key} has version ${o.v}.`,
        );
      v = o.value;
    }
    if (key.startsWith(CLOCK)) {
      const m = v as { watermark: number | null; dirtySince: number | null; rounds?: number } | null;
      c.watermark = m?.watermark ?? Number.NEGATIVE_INFINITY;
      c.dirtySince = m?.dirtySince ?? null;
      c.rounds = m?.rounds ?? 0;
    } else if (key.startsWith(NAMESPACE)) {
      const ns = key.slice(NAMESPACE.length + name.length + 1);
      if (v === null) c.namespaces.delete(ns);
      else c.namespaces.add(ns);
    } else if (key.startsWith(PRINT)) {
      if (v === null) c.prints.delete(key.slice(PRINT.length));
      else c.prints.set(key.slice(PRINT.length), v as string);
    } else if (v === null) c.routes.delete(key.slice(ROUTE.length));
    else c.routes.set(key.slice(ROUTE.length), v as string[]);
  }

  return {
    name: SCORING_FEED_PROCESSOR,
    singleTask: true,
    inputs: [CLUSTER_FEED_TOPIC, FEED_SOURCES.incidents, FEED_SOURCES.recommendations],
    // The usage samples of a scrape go to a namespace together, with one time: one record each.
    bundled: [SCORING_FEED_TOPIC, SCORING_CLUSTER_TOPIC],
    changelogTopic: SCORING_FEED_CHANGELOG,
    decodeInput,
    init: () => ({ clusters: new Map() }),
    restore,
    process,
    snapshot,
  };
}
