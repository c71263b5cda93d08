/**
 * The Prometheus metrics collector (issue G item 2; SPEC §1 `metric`): every `intervalMs` (30 s)
 * it evaluates one instant query per vocabulary name (queries.ts) at an aligned evaluation time,
 * maps each result series to a `MetricSampled` (ts = the evaluation time, labels = exactly the
 * vocabulary's labels) and appends them to `hetu.raw.metrics`, keyed like a recording's samples
 * (`metricKey`, so live and recorded keys agree).
 *
 * - A name with no result series is normal: status `empty`, no sample, no error.
 * - NaN and ±Inf values are skipped and counted (`skippedNonFinite`); series without the
 *   vocabulary's labels (cAdvisor's pod-level `container=""`, the `POD` sandbox, a `runtime` other
 *   than go/jvm) are dropped and counted (`dropped`), and so is a second series that maps to the same labels.
 * - An unreachable Prometheus, a timeout (per query, `queryTimeoutMs`) or a query error is a
 *   status per query (`error` with the message, the last success kept), never a throw: the next
 *   cycle tries again. A failed append to the log is a status too (`appendError`); the cycle's
 *   samples not appended by then are not retried (the next cycle measures again).
 * - Results are handled query by query in vocabulary order as they arrive (up to `concurrency`
 *   queries in flight) and appended in pieces of `METRICS_APPEND_RECORDS`.
 * - Cycles never overlap: a cycle that overruns the interval makes the next aligned tick skip.
 */
import type { MetricSampled, Serde } from '@hetu/schemas';
import type { AppendRecord, Log } from '@hetu/streams';
import { metricKey } from '../recording/reader.ts';
import {
  METRIC_LABELS,
  METRIC_LABEL_VALUES,
  resolveMetricQueries,
  type MetricName,
  type MetricQueryOverrides,
} from './queries.ts';

export const METRICS_TOPIC = 'hetu.raw.metrics';
export const DEFAULT_METRICS_INTERVAL_MS = 30_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
export const DEFAULT_QUERY_CONCURRENCY = 4;
/**
 * Records per append. A cycle of a 10 000-pod cluster has some 43 000 samples: each query's
 * result is mapped, encoded and appended in pieces of this size, in vocabulary order, and then
 * dropped, so the collector never holds a whole cycle's parsed results and records at once
 * (bench/collect.bench.ts, issue I's 256 Mi target), and no Kafka record batch nears the broker's
 * 1 MiB limit.
 */
export const METRICS_APPEND_RECORDS = 1000;

export interface MetricsCollectorOptions {
  /** Prometheus' base URL, e.g. `http://prometheus.monitoring:9090` (the HTTP API is under `/api/v1`). */
  readonly prometheusUrl: string;
  /** The cluster name stamped on every sample. */
  readonly cluster: string;
  readonly log: Log;
  readonly serde: Serde;
  /** Evaluation period; evaluation times are multiples of it. Default 30 000 ms (SPEC §1). */
  readonly intervalMs?: number;
  /** Per query: the client aborts after this and asks Prometheus to stop too. Default 10 000 ms. */
  readonly queryTimeoutMs?: number;
  /** Queries in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Overrides of the default PromQL per name (`null` switches a name off). */
  readonly queries?: MetricQueryOverrides;
  /** The clock, for the aligned evaluation times of `start()`. Default `Date.now`. */
  readonly now?: () => number;
  /** The HTTP client. Default the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export type QueryState = 'pending' | 'ok' | 'empty' | 'error';

export interface MetricQueryStatus {
  readonly name: MetricName;
  readonly query: string;
  /** `pending` before the first evaluation; `empty`: evaluated, no series (normal). */
  readonly state: QueryState;
  /** With `error`: one sentence, what went wrong. */
  readonly message?: string;
  /** Evaluation time (epoch ms) of the last attempt. */
  readonly lastEvaluatedAt?: number;
  /** Evaluation time of the last attempt that succeeded (`ok` or `empty`). */
  readonly lastSuccessAt?: number;
  /** Samples the last attempt produced. */
  readonly samples: number;
  /** Since the start: NaN/±Inf values skipped. */
  readonly skippedNonFinite: number;
  /** Since the start: series dropped for missing, empty or disallowed labels, or duplicates. */
  readonly dropped: number;
}

export interface MetricsCollectorStatus {
  /**
   * `unreachable`: in the last cycle no query got an HTTP answer from Prometheus; `reachable`:
   * at least one did; `unknown`: no cycle yet.
   */
  readonly prometheus: 'unknown' | 'reachable' | 'unreachable';
  /** With `unreachable`: the transport error of the last cycle. */
  readonly message?: string;
  readonly running: boolean;
  /** Cycles completed. */
  readonly cycles: number;
  /** Evaluation time of the last completed cycle. */
  readonly lastCycleAt?: number;
  /** Since the start: samples appended to the log. */
  readonly samplesAppended: number;
  /** Since the start: NaN/±Inf values skipped (all queries). */
  readonly skippedNonFinite: number;
  /** The last failed append (cleared by a successful one). */
  readonly appendError?: string;
  readonly queries: readonly MetricQueryStatus[];
}

export interface CollectResult {
  /** The evaluation time (epoch ms), every sample's `ts`. */
  readonly at: number;
  /** The samples of this cycle, in vocabulary order, then by key and labels. */
  readonly samples: readonly MetricSampled[];
  /** Whether they were appended (false: see `status().appendError`). */
  readonly appended: boolean;
}

export interface MetricsCollector {
  /** Evaluates at every aligned tick (multiples of `intervalMs`) until `close()`. Idempotent. */
  start(): void;
  /**
   * One cycle at evaluation time `at` (epoch ms; default: the current aligned tick). Resolves
   * when its samples are appended; never rejects for Prometheus or the log (see `status()`).
   */
  collectOnce(at?: number): Promise<CollectResult>;
  status(): MetricsCollectorStatus;
  /** Stops the ticks, aborts queries in flight and waits for the running cycle. Idempotent. */
  close(): Promise<void>;
}

/** The evaluation time of the tick at or before `nowMs`: a multiple of `intervalMs`. */
export function alignedEvaluationTime(nowMs: number, intervalMs: number): number {
  return Math.floor(nowMs / intervalMs) * intervalMs;
}

/** One series of an instant vector, as `/api/v1/query` serves it. */
export interface PromVectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

export interface MappedSamples {
  readonly samples: MetricSampled[];
  readonly skippedNonFinite: number;
  readonly dropped: number;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Maps an instant vector to samples of `name`: exactly the vocabulary's labels (others dropped),
 * series lacking one, or with `container` "POD", or a disallowed value, dropped; non-finite values
 * skipped; one sample per label set (the first); sorted by key, then labels.
 */
export function samplesFromVector(
  name: MetricName,
  result: readonly PromVectorSample[],
  at: number,
  cluster: string,
): MappedSamples {
  const wanted = METRIC_LABELS[name];
  const allowed = METRIC_LABEL_VALUES[name] ?? {};
  let skippedNonFinite = 0;
  let dropped = 0;
  const seen = new Set<string>();
  const out: { id: string; key: string; sample: MetricSampled }[] = [];
  for (const series of result) {
    const labels: Record<string, string> = {};
    let ok = true;
    for (const l of wanted) {
      const v = series.metric[l];
      if (v === undefined || v === '' || (l === 'container' && v === 'POD')) ok = false;
      else if (allowed[l] !== undefined && !allowed[l].includes(v)) ok = false;
      else labels[l] = v;
    }
    if (!ok) {
      dropped++;
      continue;
    }
    const value = Number(series.value[1]);
    if (!Number.isFinite(value)) {
      skippedNonFinite++;
      continue;
    }
    const id = JSON.stringify(wanted.map((l) => labels[l]));
    if (seen.has(id)) {
      dropped++;
      continue;
    }
    seen.add(id);
    out.push({ id, key: metricKey(cluster, labels), sample: { ts: at, cluster, name, labels, value } });
  }
  out.sort((a, b) => byText(a.key, b.key) || byText(a.id, b.id));
  return { samples: out.map((o) => o.sample), skippedNonFinite, dropped };
}

interface QueryOutcome {
  readonly result?: readonly PromVectorSample[];
  readonly error?: string;
  /** The error was transport-level: Prometheus did not answer over HTTP. */
  readonly unreachable?: boolean;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === 'string' && !cause.message.includes(code) ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}

interface ApiBody {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  errorType?: string;
  error?: string;
}

/** Creates the collector; nothing runs until `start()` or `collectOnce()`. */
export function createMetricsCollector(options: MetricsCollectorOptions): MetricsCollector {
  const intervalMs = options.intervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
  const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_QUERY_CONCURRENCY);
  const now = options.now ?? (() => Date.now());
  const doFetch = options.fetch ?? fetch;
  const base = options.prometheusUrl.replace(/\/+$/, '');
  const queries = resolveMetricQueries(options.queries);
  const states = new Map<MetricName, MetricQueryStatus>(
    queries.map((q) => [
      q.name,
      { name: q.name, query: q.query, state: 'pending', samples: 0, skippedNonFinite: 0, dropped: 0 },
    ]),
  );
  let prometheus: MetricsCollectorStatus['prometheus'] = 'unknown';
  let unreachableMessage: string | undefined;
  let cycles = 0;
  let lastCycleAt: number | undefined;
  let samplesAppended = 0;
  let skippedNonFinite = 0;
  let appendError: string | undefined;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let started = false;
  let closed = false;
  let running: Promise<CollectResult> | null = null;
  const abort = new AbortController();

  async function query(promql: string, at: number): Promise<QueryOutcome> {
    const form = new URLSearchParams({
      query: promql,
      time: (at / 1000).toFixed(3),
      timeout: `${timeoutMs}ms`,
    });
    let res: Response;
    let text: string;
    try {
      res = await doFetch(`${base}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      text = await res.text();
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') {
        return { error: `Prometheus at ${base} did not answer within ${timeoutMs} ms.` };
      }
      if (abort.signal.aborted) return { error: 'The collector was closed while the query ran.' };
      return { error: `Prometheus at ${base} is unreachable (${describe(err)}).`, unreachable: true };
    }
    let body: ApiBody;
    try {
      body = JSON.parse(text) as ApiBody;
    } catch {
      return { error: `Prometheus at ${base} answered HTTP ${res.status} with a body that is not JSON.` };
    }
    if (body.status !== 'success') {
      return {
        error: `Prometheus refused the query (HTTP ${res.status}, ${body.errorType ?? 'error'}: ${body.error ?? 'no message'}).`,
      };
    }
    if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
      return {
        error: `The query gave a ${body.data?.resultType ?? 'missing'} result, not an instant vector: write it to return a vector.`,
      };
    }
    return { result: body.data.result as PromVectorSample[] };
  }

  async function cycle(at: number): Promise<CollectResult> {
    // Up to `concurrency` queries in flight; their results are handled in vocabulary order, each
    // dropped once mapped and appended.
    const outcomes: ({ p: Promise<QueryOutcome>; settle(o: QueryOutcome): void } | undefined)[] = queries.map(
      () => {
        let settle!: (o: QueryOutcome) => void;
        const p = new Promise<QueryOutcome>((resolve) => (settle = resolve));
        return { p, settle };
      },
    );
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < queries.length; i = next++) {
        const q = queries[i];
        if (q !== undefined) outcomes[i]?.settle(await query(q.query, at));
      }
    };
    const workers = Promise.all(Array.from({ length: Math.min(concurrency, queries.length) }, worker));

    const samples: MetricSampled[] = [];
    let pending: AppendRecord[] = [];
    let appendedNow = 0;
    let failure: string | undefined;
    const flush = async (): Promise<void> => {
      if (pending.length === 0 || failure !== undefined) return;
      const batch = pending;
      pending = [];
      try {
        await options.log.append(METRICS_TOPIC, batch);
        appendedNow += batch.length;
      } catch (err) {
        failure = describe(err);
      }
    };
    let answered = 0;
    let transport: string | undefined;
    // the cycle's statuses, shown at once when it ends (with what it appended)
    const cycleStates = new Map<MetricName, MetricQueryStatus>();
    let skippedNow = 0;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      const o = await outcomes[i]!.p;
      outcomes[i] = undefined;
      const prev = states.get(q.name);
      if (prev === undefined) continue;
      if (o.result === undefined) {
        if (o.unreachable === true) transport ??= o.error;
        else answered++;
        cycleStates.set(q.name, {
          ...prev,
          state: 'error',
          message: o.error ?? 'unknown error',
          lastEvaluatedAt: at,
          samples: 0,
        });
        continue;
      }
      answered++;
      const mapped = samplesFromVector(q.name, o.result, at, options.cluster);
      skippedNow += mapped.skippedNonFinite;
      const { message: _drop, ...rest } = prev;
      cycleStates.set(q.name, {
        ...rest,
        state: mapped.samples.length > 0 ? 'ok' : 'empty',
        lastEvaluatedAt: at,
        lastSuccessAt: at,
        samples: mapped.samples.length,
        skippedNonFinite: prev.skippedNonFinite + mapped.skippedNonFinite,
        dropped: prev.dropped + mapped.dropped,
      });
      for (const s of mapped.samples) {
        samples.push(s);
        if (failure !== undefined) continue;
        try {
          pending.push({
            key: Buffer.from(metricKey(s.cluster, s.labels)),
            value: await options.serde.encode(METRICS_TOPIC, 'MetricSampled', s),
            timestamp: s.ts,
          });
        } catch (err) {
          failure = describe(err);
          continue;
        }
        if (pending.length >= METRICS_APPEND_RECORDS) await flush();
      }
    }
    await flush();
    await workers;
    for (const [name, st] of cycleStates) states.set(name, st);
    skippedNonFinite += skippedNow;
    samplesAppended += appendedNow;
    if (failure !== undefined)
      appendError = `Appending ${samples.length - appendedNow} samples to ${METRICS_TOPIC} failed (${failure}); the next cycle measures again.`;
    else if (samples.length > 0) appendError = undefined;
    const appended = failure === undefined;
    if (answered > 0 || queries.length === 0) {
      prometheus = 'reachable';
      unreachableMessage = undefined;
    } else {
      prometheus = 'unreachable';
      unreachableMessage = transport;
    }

    cycles++;
    lastCycleAt = at;
    return { at, samples, appended };
  }

  function collectOnce(at?: number): Promise<CollectResult> {
    const when = at ?? alignedEvaluationTime(now(), intervalMs);
    const run = (running ?? Promise.resolve()).then(
      () => cycle(when),
      () => cycle(when),
    );
    const tracked = run.finally(() => {
      if (running === tracked) running = null;
    });
    running = tracked;
    return run;
  }

  function schedule(): void {
    if (closed) return;
    const t = now();
    const tick = alignedEvaluationTime(t, intervalMs) + intervalMs;
    timer = setTimeout(() => {
      timer = null;
      if (closed) return;
      if (running !== null) {
        schedule(); // the previous cycle still runs: skip this tick
        return;
      }
      void collectOnce(tick)
        .catch(() => undefined)
        .finally(schedule);
    }, tick - t);
  }

  return {
    start() {
      if (started || closed) return;
      started = true;
      schedule();
    },
    collectOnce,
    status() {
      return {
        prometheus,
        ...(unreachableMessage !== undefined ? { message: unreachableMessage } : {}),
        running: started && !closed,
        cycles,
        ...(lastCycleAt !== undefined ? { lastCycleAt } : {}),
        samplesAppended,
        skippedNonFinite,
        ...(appendError !== undefined ? { appendError } : {}),
        queries: queries.map((q) => states.get(q.name)).filter((s) => s !== undefined),
      };
    },
    async close() {
      if (closed) {
        await running?.catch(() => undefined);
        return;
      }
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}
