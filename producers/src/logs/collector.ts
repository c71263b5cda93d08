/**
 * The pod-log collector (SPEC §1, `log` observations): follows the log of every started container
 * (init containers too) through the API server and appends `LogLineObserved` records to
 * `hetu.raw.logs`, keyed `<cluster>/<namespace>/<workload>`.
 *
 * Decisions (issue G item 3):
 * - **Pods** come from the collector's own pod list + watch (plain HTTPS with the client
 *   library's `applyToHTTPSOptions`; a token bucket of 5 requests/s of their own, so the first
 *   list never waits behind the follows, which open at `qps`). A container is followed
 *   once it has started (running, terminated, or a restart count above 0). Its *instance* is
 *   `containerID` + `restartCount`; when that changes the follow is reopened at once.
 * - **Keys and workloads** come from the recording reader's `RecordingDecoder`, fed the pod watch
 *   events and then each line as a recording line, exactly as the kube collector does, so a live
 *   line and the same line replayed from a recording get the same key, `workload` and
 *   `workloadKind`. (The decoder is given the collector's monotonic clock as the line's `ts` so
 *   it never refuses an old line as late; the record's `ts` is then set to the kubelet's timestamp.)
 * - **No duplicates** after a reconnect, a restart of the container or of the collector: the
 *   resume rule of `lines.ts` (cursor = last timestamp + how many lines had it; reconnect with
 *   `sinceTime` and skip what was emitted). Every record carries its exact kubelet timestamp in the
 *   header `hetu-log-ts` (and its container in `hetu-log-source`), and a starting collector recovers
 *   each container's cursor from the last `resumeScanRecords` records of every partition of the
 *   topic (headers only, no decoding).
 * - **Gaps** (`gap: true`, reason in `line`): a container already running when the collector
 *   started and with no cursor in the log (its earlier lines are not read: `initialTailLines`,
 *   default 0); a resume whose cursor lines the server no longer sends (rotated away, or a new
 *   instance's log); reading that has failed for longer than `gapAfterMs` (once per outage).
 *   A pod created while the collector runs is read from its first line, with no gap.
 * - Lines longer than `maxLineBytes` (16 KiB) are cut on a character boundary and flagged
 *   `truncated`; invalid UTF-8 becomes U+FFFD. Lines without a timestamp get the collector's clock.
 * - **Bounded memory**: the queue to the log pauses every follow connection at ¾ of `maxBuffered`
 *   records *or* ¾ of `maxBufferedBytes` of line text (8 MiB), and resumes under ½ of both. The
 *   count alone let a burst of lines at the 16 KiB cap queue 7 500 × 16 KiB = 120 MiB (the fault
 *   suite's hostile-log test saw the collector at 418 MiB with its queue full of them).
 * - **Follows over HTTP/2** (`h2.ts`): the containers' log streams share a few TLS connections
 *   to the API server (up to its stream limit each, 100 on kube-apiserver); a TLS connection per
 *   container cost ~120 KiB each, over a GiB at 10 000 pods (bench/collect.bench.ts). A server
 *   that does not offer h2 is followed over HTTP/1.1; the pod list and watch use HTTP/1.1.
 * - Never a crash: every failure is a per-container status (`reconnecting`, `error` with the
 *   message) and a retry with back-off (1 s doubling to 30 s). `close()` ends every stream.
 */
import {
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { topicSpec, type LogLineObserved, type Serde } from '@hetu/schemas';
import { kubeAccess, kubeSourceOf, type KubeConfigLike } from '../kube/access.ts';
import { HetuError, partitionForKey, type AppendRecord, type Log } from '@hetu/streams';
import { RecordingDecoder } from '../recording/reader.ts';
import { H2Pool, http1Call, type LogCall, type StreamSink } from './h2.ts';
import { topLevelValueText } from '../recording/json-span.ts';
import { delay, TokenBucket } from '../kube/rate.ts';
import { BufferedAppender } from '../kube/appender.ts';
import { boundedAppendLog } from './append.ts';
import {
  advanceCursor,
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  parseKubeTimestamp,
  parseLogLine,
  ResumeFilter,
  sinceTimeOf,
  type LogCursor,
} from './lines.ts';

export const LOGS_RAW_TOPIC = 'hetu.raw.logs';
/** Record header holding the line's exact kubelet timestamp (RFC 3339 with nanoseconds). */
export const LOG_TS_HEADER = 'hetu-log-ts';
/** Record header naming the line's container: `<cluster>/<namespace>/<pod>/<container>`. */
export const LOG_SOURCE_HEADER = 'hetu-log-source';

/** Requests a second for the pod list pages and watches, besides `qps` for the follows. */
const POD_REQUESTS_QPS = 5;

export const LOG_COLLECTOR_DEFAULTS = {
  qps: 50,
  burst: 100,
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  maxBuffered: 10_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  gapAfterMs: 30_000,
  initialTailLines: 0,
  resumeScanRecords: 100_000,
  watchdogMs: 5 * 60_000,
  closeTimeoutMs: 10_000,
  lingerMs: 5,
} as const;

export interface LogCollectorOptions {
  readonly kubeConfig?: KubeConfigLike;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly inCluster?: boolean;
  /** Where the service account's token and ca.crt are in-cluster; default the standard mount. */
  readonly serviceAccountDir?: string;
  readonly cluster: string;
  readonly log: Log;
  readonly serde: Serde;
  /** Only pods of this namespace; default all namespaces. */
  readonly namespace?: string;
  /**
   * Follow only the containers of the pods this shard owns (`logShardOf`): several collectors,
   * each with its own `index` of the same `count`, share a large cluster's logs, every pod's to
   * exactly one of them. Default: every pod (one collector).
   */
  readonly shard?: LogShard;
  /** Lines are cut to this many bytes (flagged truncated); default 16 KiB. */
  readonly maxLineBytes?: number;
  readonly qps?: number;
  readonly burst?: number;
  /** Most records waiting for the log before the streams are paused; default 10 000. */
  readonly maxBuffered?: number;
  /**
   * Most line text (UTF-16 code units: bytes for ASCII) waiting for the log before the streams are
   * paused; default 8 MiB (512 lines at the 16 KiB cap; typical lines meet `maxBuffered` first).
   */
  readonly maxBufferedBytes?: number;
  /** A container whose log cannot be read for this long gets a gap record (once per outage); default 30 s. */
  readonly gapAfterMs?: number;
  /**
   * Lines read from a container that was already running at start and has no cursor in the log:
   * 0 (default) reads the lines stamped from the second the collector found the container on (by
   * the collector's clock: a node clock behind it loses lines, one ahead repeats none), a number
   * the last that many, null all of them. A gap record precedes them in every case.
   */
  readonly initialTailLines?: number | null;
  /** Records read back from the end of each partition to recover cursors; default 100 000 (0: none). */
  readonly resumeScanRecords?: number;
  /** The pod watch is restarted when silent (no event, no bookmark) for this long; default 5 min. */
  readonly watchdogMs?: number;
  readonly closeTimeoutMs?: number;
  /**
   * How long a line may wait for others before they are appended together; default 5 ms (as
   * Kafka's producer `linger.ms`). At 0 each line arriving alone was its own append and, on the
   * embedded log, its own SQLite transaction and its own batch of the errors stage: at 1 000
   * lines/s over 10 containers the process could not keep up (bench/latency.bench.ts).
   */
  readonly lingerMs?: number;
  /** Clock for records without a kubelet timestamp and for gap markers; default `Date.now`. */
  readonly now?: () => number;
}

/** One collector's share of the pods: shard `index` (0-based) of `count`. */
export interface LogShard {
  readonly index: number;
  readonly count: number;
}

/**
 * The shard (0 … count − 1) that follows pod `namespace/name`: Kafka's default partitioner
 * (murmur2) over `<namespace>/<name>`, so a pod keeps its shard across restarts of the collectors
 * and a StatefulSet pod recreated under its name comes back to the same one.
 */
export function logShardOf(namespace: string, name: string, count: number): number {
  return count <= 1 ? 0 : partitionForKey(Buffer.from(`${namespace}/${name}`, 'utf8'), count);
}

/**
 * Parses `<index>/<count>` (e.g. `0/3`) as given to `hetu run collect-logs --shard`; throws one
 * sentence naming what is wrong.
 */
export function parseLogShard(text: string, where: string): LogShard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count) || count > 1024)
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `${where} is '${text}': give <index>/<count> with 0 ≤ index < count ≤ 1024, e.g. 0/2 and 1/2 for two collectors sharing the pods.`,
    );
  return { index, count };
}

export type ContainerState = 'following' | 'resuming' | 'reconnecting' | 'error' | 'ended' | 'stopped';

export interface ContainerLogStatus {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly init: boolean;
  readonly state: ContainerState;
  /** The last failure (the API's message), null while following. */
  readonly message: string | null;
  /** restartCount of the instance followed. */
  readonly restartCount: number;
  /** Lines appended to the queue (gap markers excluded). */
  readonly lines: number;
  readonly truncated: number;
  readonly gaps: number;
  /** Lines skipped because they had been emitted before (the resume rule). */
  readonly skipped: number;
  /** Follow connections opened. */
  readonly connects: number;
  readonly cursor: { readonly ts: string; readonly count: number } | null;
}

export interface LogCollectorStatus {
  readonly cluster: string;
  readonly running: boolean;
  /** 'watching' once pods are listed; 'error' with `podMessage` while the pod list/watch fails. */
  readonly pods: 'pending' | 'watching' | 'error' | 'stopped';
  readonly podMessage: string | null;
  readonly buffered: number;
  /** Line text of the buffered records (UTF-16 code units). */
  readonly bufferedBytes: number;
  readonly appended: number;
  readonly writeError: string | null;
  readonly containers: readonly ContainerLogStatus[];
}

export interface LogCollector {
  /** Recovers cursors, lists pods and opens the follows; resolves once pods were listed (or failed once). */
  start(): Promise<void>;
  status(): LogCollectorStatus;
  /** Destroys every open follow connection, as a network fault would (each resumes). */
  cutStreams(): void;
  /** Resolves when every record queued so far has been appended. */
  flushed(): Promise<void>;
  /** Ends every stream and the pod watch, writes what is buffered. Idempotent. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const msg = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface Pending {
  readonly key: string;
  readonly value: LogLineObserved;
  readonly tsText: string | null;
  /** Its line's share of `bufferedBytes`, until the writer takes it (then 0). */
  bytes: number;
}

interface Follow {
  readonly id: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly init: boolean;
  podUid: string;
  instance: string;
  restartCount: number;
  state: ContainerState;
  message: string | null;
  cursor: LogCursor | null;
  /** Where a container with no cursor is read from on its first connection. */
  initial: { kind: 'all' } | { kind: 'tail'; lines: number; sinceNs: bigint | null };
  lines: number;
  truncated: number;
  gaps: number;
  skipped: number;
  connects: number;
  stopped: boolean;
  failingSince: number | null;
  outageGapped: boolean;
  /** Wakes the follow loop (instance change, stop, close). */
  wake: () => void;
  /** The open follow connection. */
  conn: { readonly call: LogCall | null } | null;
  loop: Promise<void> | null;
}

/** Why a follow connection ended ('ok' = the server ended it cleanly). */
interface FollowEnd {
  readonly ok: boolean;
  readonly detail: string;
}

const NOOP = (): void => undefined;

/** The containers of a pod that have started, with their instance identity. */
function startedContainers(
  pod: Json,
): { name: string; init: boolean; instance: string; restartCount: number }[] {
  const status = isObject(pod['status']) ? pod['status'] : {};
  const out: { name: string; init: boolean; instance: string; restartCount: number }[] = [];
  for (const [field, init] of [
    ['initContainerStatuses', true],
    ['containerStatuses', false],
  ] as const) {
    const list = status[field];
    if (!Array.isArray(list)) continue;
    for (const cs of list) {
      if (!isObject(cs)) continue;
      const name = str(cs['name']);
      if (name === undefined) continue;
      const restartCount = typeof cs['restartCount'] === 'number' ? cs['restartCount'] : 0;
      const state = isObject(cs['state']) ? cs['state'] : {};
      const last = isObject(cs['lastState']) ? cs['lastState'] : {};
      const started =
        isObject(state['running']) ||
        isObject(state['terminated']) ||
        isObject(last['terminated']) ||
        restartCount > 0;
      if (!started) continue;
      out.push({ name, init, instance: `${str(cs['containerID']) ?? ''}#${restartCount}`, restartCount });
    }
  }
  return out;
}

/** Creates a log collector; nothing happens until `start()`. */
export function createLogCollector(opts: LogCollectorOptions): LogCollector {
  const access = kubeAccess(kubeSourceOf(opts, 'log collector'));
  const server = access.server;
  const bucket = new TokenBucket({
    qps: opts.qps ?? LOG_COLLECTOR_DEFAULTS.qps,
    burst: opts.burst ?? LOG_COLLECTOR_DEFAULTS.burst,
  });
  // The pod list and watch have a small bucket of their own: in the follows' queue, each page of
  // the first list waited behind the follows the page before it had started (500 a page at 50/s),
  // so at 10 000 pods the list took ~200 s and `start()` (and `hetu start` with it) waited for it.
  const podBucket = new TokenBucket({ qps: POD_REQUESTS_QPS, burst: POD_REQUESTS_QPS * 2 });
  const maxLineBytes = opts.maxLineBytes ?? LOG_COLLECTOR_DEFAULTS.maxLineBytes;
  const maxBuffered = opts.maxBuffered ?? LOG_COLLECTOR_DEFAULTS.maxBuffered;
  const gapAfterMs = opts.gapAfterMs ?? LOG_COLLECTOR_DEFAULTS.gapAfterMs;
  const initialTailLines =
    opts.initialTailLines === undefined ? LOG_COLLECTOR_DEFAULTS.initialTailLines : opts.initialTailLines;
  const resumeScan = opts.resumeScanRecords ?? LOG_COLLECTOR_DEFAULTS.resumeScanRecords;
  const watchdogMs = opts.watchdogMs ?? LOG_COLLECTOR_DEFAULTS.watchdogMs;
  const closeTimeoutMs = opts.closeTimeoutMs ?? LOG_COLLECTOR_DEFAULTS.closeTimeoutMs;
  const clock = opts.now ?? Date.now;
  const { log, serde } = opts;
  const clusterName = opts.cluster;
  const pauseAt = Math.max(1, Math.floor((maxBuffered * 3) / 4));
  const resumeAt = Math.floor(maxBuffered / 2);
  const maxBufferedBytes = opts.maxBufferedBytes ?? LOG_COLLECTOR_DEFAULTS.maxBufferedBytes;
  const bytesPauseAt = Math.max(1, Math.floor((maxBufferedBytes * 3) / 4));
  const bytesResumeAt = Math.floor(maxBufferedBytes / 2);

  const shard = opts.shard;
  if (shard !== undefined && !(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `The log collector's shard ${shard.index}/${shard.count} does not exist: give 0 ≤ index < count.`,
    );
  /** Whether this collector follows the containers of pod `namespace/name`. */
  const mine = (namespace: string, name: string): boolean =>
    shard === undefined || logShardOf(namespace, name, shard.count) === shard.index;

  const decoder = new RecordingDecoder({ source: `the live cluster ${clusterName}` });
  let decLine = 0;
  let lastNow = 0;
  let running = false;
  let closed = false;
  let closing: Promise<void> | null = null;
  const abort = new AbortController();

  const follows = new Map<string, Follow>();
  /** Cursors recovered from the log, by `<ns>/<pod>/<container>`, used once. */
  const recovered = new Map<string, LogCursor>();
  let podsState: LogCollectorStatus['pods'] = 'pending';
  let podMessage: string | null = null;
  let podLoop: Promise<void> | null = null;
  let podReq: ClientRequest | null = null;
  let firstListDone = false;

  function now(): number {
    const t = clock();
    if (t > lastNow) lastNow = t;
    return lastNow;
  }

  // ---- queue and writer ----

  /** Line text queued and not yet taken by the writer. */
  let bufferedBytes = 0;
  /** Aborted when close() stops waiting for the writer. */
  const giveUp = new AbortController();
  /** The error of the rest of a split append while it is retried. */
  let splitError: string | null = null;
  /** Paused by the queue's record count (the appender's marks) or by its line text. */
  let countPaused = false;
  let bytesPaused = false;
  const paused = (): boolean => countPaused || bytesPaused;

  /** Pauses or resumes every follow connection when `paused()` changed from `before`. */
  function applyPause(before: boolean): void {
    const now = paused();
    if (now === before) return;
    for (const f of follows.values()) {
      // a resumed call gives the body it held at once, which can pause every call again: the
      // rest then stay paused
      if (paused() !== now) return;
      if (now) f.conn?.call?.pause();
      else f.conn?.call?.resume();
    }
  }

  /**
   * One queue to the log; log streams pause above ¾ of maxBuffered records or ¾ of
   * maxBufferedBytes of line text, and resume under ½ of both.
   */
  const out = new BufferedAppender<Pending>({
    // Kafka refuses a request over 1 MiB: 500 lines at the cap would wedge the writer (append.ts)
    log: boundedAppendLog(log, { signal: giveUp.signal, onRetry: (e) => (splitError = e) }),
    topic: LOGS_RAW_TOPIC,
    pauseAt,
    resumeAt,
    lingerMs: opts.lingerMs ?? LOG_COLLECTOR_DEFAULTS.lingerMs,
    toRecord: async (p) => {
      if (p.bytes > 0) {
        bufferedBytes -= p.bytes;
        p.bytes = 0;
        if (bytesPaused && bufferedBytes <= bytesResumeAt) {
          const before = paused();
          bytesPaused = false;
          applyPause(before);
        }
      }
      return record(p);
    },
    onPause: (p) => {
      const before = paused();
      countPaused = p;
      applyPause(before);
    },
  });

  /** Queues a record and pauses the streams when the queue's line text is over its mark. */
  function enqueue(p: Pending): void {
    bufferedBytes += p.bytes;
    out.push(p);
    if (!bytesPaused && bufferedBytes >= bytesPauseAt) {
      const before = paused();
      bytesPaused = true;
      applyPause(before);
    }
  }

  /** The log record of a queued line. */
  async function record(p: Pending): Promise<AppendRecord> {
    return {
      key: Buffer.from(p.key),
      value: await serde.encode(LOGS_RAW_TOPIC, 'LogLineObserved', p.value),
      timestamp: p.value.ts,
      ...(p.tsText === null
        ? {}
        : {
            headers: {
              [LOG_TS_HEADER]: Buffer.from(p.tsText),
              [LOG_SOURCE_HEADER]: Buffer.from(
                `${p.value.cluster}/${p.value.namespace}/${p.value.pod}/${p.value.container}`,
              ),
            },
          }),
    };
  }

  /** Queues one line or gap of a container, keyed by the recording decoder. */
  function emit(
    f: Follow,
    ts: number,
    text: string,
    extra: { truncated?: boolean; gap?: boolean },
    tsText: string | null,
  ): void {
    // The decoder keys the record by its pod; the text plays no part there, so it gets an empty
    // line and the record gets the text: a 16 KiB line is not copied four more times on its way
    // (JSON text, bytes, text again, parsed).
    const recLine =
      `{"ts":${JSON.stringify(new Date(now()).toISOString())},"cluster":${JSON.stringify(clusterName)},"kind":"log",` +
      `"namespace":${JSON.stringify(f.namespace)},"pod":${JSON.stringify(f.pod)},"container":${JSON.stringify(f.container)},` +
      `"line":"","truncated":${extra.truncated === true},"gap":${extra.gap === true}}`;
    const item = decoder.decode(Buffer.from(recLine), ++decLine);
    if (item === undefined || item.kind !== 'observation' || item.topic !== 'hetu.raw.logs') {
      f.message = `a line was refused: ${item?.kind === 'dead-letter' ? item.message : 'not an observation'}`;
      return;
    }
    enqueue({ key: item.key, value: { ...item.value, ts, line: text }, tsText, bytes: text.length });
  }

  function gap(f: Follow, ts: number, reason: string): void {
    f.gaps++;
    emit(f, ts, reason, { gap: true }, null);
  }

  // ---- HTTP ----

  async function requestOptions(): Promise<RequestOptions> {
    const o: RequestOptions = { headers: { accept: '*/*' } };
    await access.applyTo(o);
    return o;
  }

  /** The follow connections: HTTP/2 streams sharing a few connections when the server offers h2. */
  const h2 = server.protocol === 'https:' ? new H2Pool(server) : null;

  /** A follow: an HTTP/2 stream (h2.ts: a TLS connection per container costs ~120 KiB). */
  function openFollow(path: string, o: RequestOptions, sink: StreamSink): LogCall {
    return h2 !== null && !h2.unsupported
      ? h2.open(path, o, sink)
      : http1Call(send(new URL(path, server), { ...o, method: 'GET' }), sink);
  }

  function send(url: URL, o: RequestOptions): ClientRequest {
    return url.protocol === 'http:' ? httpRequest(url, o) : httpsRequest(url, o);
  }

  function errorText(status: number, body: string): string {
    let message = body.trim().slice(0, 300);
    try {
      const s = JSON.parse(body) as unknown;
      if (isObject(s) && typeof s['message'] === 'string') message = s['message'];
    } catch {
      // not a Status object
    }
    return `HTTP ${status}: ${message}`;
  }

  // ---- one container ----

  /**
   * One follow connection: the sink of its stream, with the state of the connection (resume
   * filter, line splitter). One object per open follow and no closures: at 10 000 follows each
   * per-connection object and closure costs about a MiB (docs/benchmarks.md, collect-logs).
   */
  class FollowConn implements StreamSink {
    readonly f: Follow;
    readonly filter: ResumeFilter;
    readonly openedAt: number;
    call: LogCall | null = null;
    /** Until the connection ended. */
    private resolve: ((end: FollowEnd) => void) | null;
    /** The answer's status; 0 before it. */
    private status = 0;
    private splitter: LineSplitter | null = null;
    /** The body of an answer other than 200 (its error). */
    private body: Buffer[] | null = null;

    constructor(f: Follow, resolve: (end: FollowEnd) => void) {
      this.f = f;
      this.filter = new ResumeFilter(f.cursor);
      this.openedAt = now();
      this.resolve = resolve;
    }

    get ended(): boolean {
      return this.resolve === null;
    }

    finish(ok: boolean, detail: string): void {
      const resolve = this.resolve;
      if (resolve === null) return;
      this.resolve = null;
      if (this.f.conn === this) this.f.conn = null;
      this.call?.destroy();
      resolve({ ok, detail });
    }

    onResponse(status: number): void {
      this.status = status;
      if (status !== 200) {
        this.body = [];
        return;
      }
      const f = this.f;
      f.state = this.filter.isResuming ? 'resuming' : 'following';
      f.message = null;
      f.failingSince = null;
      f.outageGapped = false;
      if (f.cursor === null && f.initial.kind === 'tail' && f.initial.sinceNs === null)
        f.initial = { ...f.initial, sinceNs: BigInt(this.openedAt) * 1_000_000n };
      if (paused()) this.call?.pause();
      this.splitter = new LineSplitter(maxLineBytes + 64);
    }

    onData(chunk: Buffer): void {
      if (this.resolve === null) return;
      if (this.splitter !== null) this.splitter.push(chunk, (raw, cut) => this.onLine(raw, cut));
      else this.body?.push(chunk);
    }

    onClose(complete: boolean, err: Error | null): void {
      if (this.status === 0) {
        this.finish(false, `log connection failed: ${msg(err ?? 'closed before an answer')}`);
      } else if (this.status !== 200) {
        if (err !== null) this.finish(false, `log answer failed: ${msg(err)}`);
        else this.finish(false, errorText(this.status, Buffer.concat(this.body ?? []).toString('utf8')));
      } else if (err !== null) {
        this.finish(false, `log stream failed mid-stream: ${msg(err)}`);
      } else if (complete) {
        if (this.resolve !== null) this.splitter?.end((raw, cut) => this.onLine(raw, cut));
        this.finish(true, 'the server ended the log stream');
      } else this.finish(false, 'the log connection closed mid-stream');
    }

    private onLine(raw: Buffer, cut: boolean): void {
      const f = this.f;
      const p = parseLogLine(raw, cut, maxLineBytes);
      const verdict = this.filter.next(p.ns);
      if (verdict === 'skip') {
        f.skipped++;
        return;
      }
      const ts = p.ms ?? now();
      if (verdict === 'gap-then-emit') {
        gap(
          f,
          ts,
          `The log no longer holds the lines at ${f.cursor?.ts ?? '?'} where reading resumed (rotated away, or a new container instance): lines written before ${p.tsText} may be missing.`,
        );
      }
      if (f.state === 'resuming' && !this.filter.isResuming) f.state = 'following';
      f.lines++;
      if (p.truncated) f.truncated++;
      emit(f, ts, p.text, { truncated: p.truncated }, p.ns === null ? null : p.tsText);
      if (p.ns !== null) f.cursor = advanceCursor(f.cursor, p.tsText, p.ns);
    }
  }

  /** One follow connection; resolves with why it ended ('ok' = the server ended it cleanly). */
  async function followOnce(f: Follow): Promise<FollowEnd> {
    await bucket.take(abort.signal);
    const o = await requestOptions();
    if (closed || f.stopped) return { ok: true, detail: 'stopped' };
    const q = new URLSearchParams({ container: f.container, follow: 'true', timestamps: 'true' });
    if (f.cursor !== null) q.set('sinceTime', sinceTimeOf(f.cursor.ns));
    else if (f.initial.kind === 'tail') {
      if (f.initial.sinceNs !== null) q.set('sinceTime', sinceTimeOf(f.initial.sinceNs));
      else q.set('tailLines', String(f.initial.lines));
    }
    const path = `/api/v1/namespaces/${encodeURIComponent(f.namespace)}/pods/${encodeURIComponent(f.pod)}/log?${q.toString()}`;
    f.connects++;
    return new Promise<FollowEnd>((resolve) => {
      const conn = new FollowConn(f, resolve);
      f.conn = conn;
      try {
        conn.call = openFollow(path, o, conn);
      } catch (err) {
        conn.finish(false, `log connection failed: ${msg(err)}`);
        return;
      }
      // the stream may have ended while it was being opened
      if (conn.ended) conn.call.destroy();
    });
  }

  async function runFollow(f: Follow): Promise<void> {
    let backoff = 1000;
    while (!closed && !f.stopped) {
      const instance = f.instance;
      let end: FollowEnd;
      try {
        end = await followOnce(f);
      } catch (err) {
        end = { ok: false, detail: msg(err) };
      }
      if (closed || f.stopped) break;
      if (f.instance !== instance) {
        // a new instance: reopen at once, from the cursor
        backoff = 1000;
        f.state = 'reconnecting';
        continue;
      }
      if (end.ok) {
        // the server ends a follow when the container stops: wait for a new instance
        f.state = 'ended';
        f.message = end.detail;
        await new Promise<void>((resolve) => (f.wake = resolve));
        backoff = 1000;
        continue;
      }
      const t = now();
      f.failingSince ??= t;
      // reconnecting while within the bound, error (with the message) once it is passed
      f.state = t - f.failingSince < gapAfterMs ? 'reconnecting' : 'error';
      f.message = end.detail;
      if (!f.outageGapped && t - f.failingSince >= gapAfterMs) {
        f.outageGapped = true;
        gap(
          f,
          t,
          `The log could not be read for ${Math.round((t - f.failingSince) / 1000)} s (${end.detail}): lines may be missing if it rotated meanwhile.`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff);
        f.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      backoff = Math.min(backoff * 2, 30_000);
    }
    f.state = 'stopped';
  }

  function stopFollow(f: Follow): void {
    f.stopped = true;
    f.conn?.call?.destroy();
    f.wake();
  }

  // ---- pods ----

  /** Feeds a pod event to the decoder (owners for keys) and reconciles its follows. */
  function onPod(
    type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNCED',
    objectText: string,
    pod: Json,
    listed: boolean,
  ): void {
    const meta = isObject(pod['metadata']) ? pod['metadata'] : {};
    const ns = str(meta['namespace']);
    const name = str(meta['name']);
    const uid = str(meta['uid']) ?? '';
    // Another shard's pod: not followed, not decoded (its owners are that shard's to know).
    if (ns === undefined || name === undefined || !mine(ns, name)) return;
    const recLine = `{"ts":${JSON.stringify(new Date(now()).toISOString())},"cluster":${JSON.stringify(clusterName)},"kind":"watch","type":"${type}","object":${objectText}}`;
    decoder.decode(Buffer.from(recLine), ++decLine);
    const prefix = `${ns}/${name}/`;
    if (type === 'DELETED') {
      for (const [id, f] of follows)
        if (id.startsWith(prefix) && f.podUid === uid) {
          stopFollow(f);
          follows.delete(id);
        }
      return;
    }
    for (const c of startedContainers(pod)) {
      const id = `${prefix}${c.name}`;
      const f = follows.get(id);
      if (f !== undefined && f.podUid === uid) {
        if (f.instance !== c.instance) {
          f.instance = c.instance;
          f.restartCount = c.restartCount;
          f.state = 'reconnecting';
          f.conn?.call?.destroy();
          f.wake();
        }
        continue;
      }
      if (f !== undefined) {
        // same name, another pod (recreated): a new log
        stopFollow(f);
        follows.delete(id);
      }
      const cursor = f === undefined ? (recovered.get(id) ?? null) : null;
      recovered.delete(id);
      const fresh: Follow = {
        id,
        namespace: ns,
        pod: name,
        container: c.name,
        init: c.init,
        podUid: uid,
        instance: c.instance,
        restartCount: c.restartCount,
        state: 'reconnecting',
        message: null,
        cursor,
        initial:
          listed && cursor === null && initialTailLines !== null
            ? {
                kind: 'tail',
                lines: initialTailLines,
                // 0 lines: from this second on (by the collector's clock), so a line written
                // while the connection opens is not lost
                sinceNs: initialTailLines === 0 ? BigInt(now()) * 1_000_000n : null,
              }
            : { kind: 'all' },
        lines: 0,
        truncated: 0,
        gaps: 0,
        skipped: 0,
        connects: 0,
        stopped: false,
        failingSince: null,
        outageGapped: false,
        wake: NOOP,
        conn: null,
        loop: null,
      };
      follows.set(id, fresh);
      if (listed && cursor === null) {
        gap(
          fresh,
          now(),
          initialTailLines === null
            ? 'The collector started with no position for this container: lines rotated away before now may be missing.'
            : `The collector started with no position for this container: lines written before now (beyond the last ${initialTailLines}) are not read.`,
        );
      }
      fresh.loop = runFollow(fresh);
    }
  }

  async function getText(path: string): Promise<{ status: number; text: string }> {
    await podBucket.take(abort.signal);
    const o = await requestOptions();
    const url = new URL(path, server);
    return new Promise((resolve, reject) => {
      const req = send(url, { ...o, method: 'GET', signal: abort.signal, timeout: 60_000 });
      req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: no answer within 60 s`)));
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.end();
    });
  }

  const podsPath = (): string =>
    opts.namespace === undefined
      ? '/api/v1/pods'
      : `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/pods`;

  /** Lists the pods (reconciling follows; pods gone are stopped); returns the list's resourceVersion. */
  async function listPods(): Promise<string> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    const initial = !firstListDone;
    do {
      const r = await getText(
        `${podsPath()}?limit=500${cont === undefined ? '' : `&continue=${encodeURIComponent(cont)}`}`,
      );
      if (r.status !== 200) throw new Error(errorText(r.status, r.text));
      const page = JSON.parse(r.text) as Json;
      const meta = isObject(page['metadata']) ? page['metadata'] : {};
      if (rv === '') rv = str(meta['resourceVersion']) ?? '';
      for (const it of Array.isArray(page['items']) ? page['items'] : []) {
        if (!isObject(it) || !isObject(it['metadata'])) continue;
        const m = it['metadata'];
        seen.add(`${str(m['namespace']) ?? ''}/${str(m['name']) ?? ''}/`);
        if (!mine(str(m['namespace']) ?? '', str(m['name']) ?? '')) continue;
        const { apiVersion: _a, kind: _k, ...rest } = it;
        onPod('SYNCED', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...rest }), it, initial);
      }
      const next = str(meta['continue']);
      cont = next === undefined || next === '' ? undefined : next;
    } while (cont !== undefined);
    for (const [id, f] of follows) {
      if (seen.has(`${f.namespace}/${f.pod}/`)) continue;
      stopFollow(f);
      follows.delete(id);
    }
    firstListDone = true;
    return rv;
  }

  /** Watches pods from `rv`; resolves with the last resourceVersion, or null when a relist is needed. */
  async function watchPods(fromRv: string): Promise<string | null> {
    await podBucket.take(abort.signal);
    const o = await requestOptions();
    if (closed) return null;
    const path = `${podsPath()}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(fromRv)}`;
    return new Promise((resolve) => {
      let rv: string | null = fromRv;
      let ended = false;
      let dog: ReturnType<typeof setTimeout> | undefined;
      const req = send(new URL(path, server), { ...o, method: 'GET' });
      podReq = req;
      const finish = (next: string | null, detail: string | null): void => {
        if (ended) return;
        ended = true;
        clearTimeout(dog);
        if (podReq === req) podReq = null;
        if (detail !== null) podMessage = detail;
        req.destroy();
        resolve(next);
      };
      const armDog = (): void => {
        clearTimeout(dog);
        dog = setTimeout(() => finish(null, `the pod watch was silent for ${watchdogMs} ms`), watchdogMs);
      };
      const onLine = (text: string): void => {
        let ev: unknown;
        try {
          ev = JSON.parse(text);
        } catch {
          finish(null, 'the pod watch sent a line that is not JSON');
          return;
        }
        if (!isObject(ev) || !isObject(ev['object'])) return;
        const type = ev['type'];
        const obj = ev['object'];
        const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
        if (type === 'ERROR') {
          finish(null, `pod watch error ${String(obj['code'])}: ${str(obj['message']) ?? 'no message'}`);
          return;
        }
        rv = str(meta['resourceVersion']) ?? rv;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
          onPod(type, topLevelValueText(text, 'object') ?? JSON.stringify(obj), obj, false);
      };
      req.on('error', (err) => finish(null, `pod watch failed: ${msg(err)}`));
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => finish(null, `pod watch answer failed: ${msg(err)}`));
          res.on('end', () =>
            finish(null, errorText(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
          );
          return;
        }
        armDog();
        res.setEncoding('utf8');
        let partial = '';
        res.on('data', (chunk: string) => {
          armDog();
          partial += chunk;
          let nl = partial.indexOf('\n');
          while (nl >= 0 && !ended) {
            const line = partial.slice(0, nl);
            partial = partial.slice(nl + 1);
            if (line.trim() !== '') onLine(line);
            nl = partial.indexOf('\n');
          }
        });
        res.on('error', (err) => finish(null, `pod watch failed mid-stream: ${msg(err)}`));
        res.on('end', () => finish(rv, null));
        res.on('close', () =>
          finish(res.complete ? rv : null, res.complete ? null : 'the pod watch closed mid-stream'),
        );
      });
      req.end();
    });
  }

  async function runPods(ready: () => void): Promise<void> {
    let backoff = 1000;
    let rv: string | null = null;
    while (!closed) {
      try {
        if (rv === null) rv = await listPods();
        podsState = 'watching';
        podMessage = null;
        ready();
        rv = await watchPods(rv);
        if (rv !== null) backoff = 1000;
        else if (!closed) {
          podsState = 'error';
          await delay(backoff, abort.signal).catch(() => undefined);
          backoff = Math.min(backoff * 2, 30_000);
        }
      } catch (err) {
        if (closed) break;
        rv = null;
        podsState = 'error';
        podMessage = msg(err);
        ready();
        await delay(backoff, abort.signal).catch(() => undefined);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
    podsState = 'stopped';
    ready();
  }

  /** Recovers each container's cursor from the headers of the last records of every partition. */
  async function recoverCursors(): Promise<void> {
    if (resumeScan <= 0) return;
    const [info] = await log.describeTopics([LOGS_RAW_TOPIC]);
    for (const p of info?.partitions ?? []) {
      const from = p.high - BigInt(resumeScan) > p.low ? p.high - BigInt(resumeScan) : p.low;
      let offset = from;
      while (offset < p.high) {
        const recs = await log.read(LOGS_RAW_TOPIC, p.partition, {
          fromOffset: offset,
          toOffset: p.high,
          maxRecords: 5000,
        });
        if (recs.length === 0) break;
        for (const r of recs) {
          const tsText = r.headers[LOG_TS_HEADER]?.toString('latin1');
          const source = r.headers[LOG_SOURCE_HEADER]?.toString('utf8');
          if (tsText === undefined || source === undefined || !source.startsWith(`${clusterName}/`)) continue;
          const ns = parseKubeTimestamp(tsText);
          if (ns === null) continue;
          const id = source.slice(clusterName.length + 1);
          if (shard !== undefined) {
            const [namespace = '', pod = ''] = id.split('/');
            if (!mine(namespace, pod)) continue;
          }
          const c = advanceCursor(recovered.get(id) ?? null, tsText, ns);
          recovered.set(id, c);
        }
        offset = recs[recs.length - 1]!.offset + 1n;
      }
    }
  }

  return {
    async start() {
      if (running || closed) return;
      running = true;
      await log.ensureTopics([topicSpec(LOGS_RAW_TOPIC)]);
      await recoverCursors();
      await new Promise<void>((resolve) => {
        podLoop = runPods(resolve);
      });
    },
    status() {
      return {
        cluster: clusterName,
        running: running && !closed,
        pods: podsState,
        podMessage,
        buffered: out.length,
        bufferedBytes,
        appended: out.appended,
        writeError: out.writeError ?? splitError,
        containers: [...follows.values()].map((f) => ({
          namespace: f.namespace,
          pod: f.pod,
          container: f.container,
          init: f.init,
          state: f.state,
          message: f.message,
          restartCount: f.restartCount,
          lines: f.lines,
          truncated: f.truncated,
          gaps: f.gaps,
          skipped: f.skipped,
          connects: f.connects,
          cursor: f.cursor === null ? null : { ts: f.cursor.ts, count: f.cursor.count },
        })),
      };
    },
    cutStreams() {
      for (const f of follows.values()) f.conn?.call?.destroy(new Error('log connection cut'));
    },
    flushed: () => out.flushed(),
    close() {
      closing ??= (async () => {
        closed = true;
        abort.abort(new Error('collector closed'));
        podReq?.destroy();
        const loops: Promise<void>[] = [];
        for (const f of follows.values()) {
          stopFollow(f);
          if (f.loop !== null) loops.push(f.loop);
        }
        // every HTTP/2 stream ends with its session, also one still waiting for the connection
        h2?.close();
        out.notify();
        await podLoop;
        await Promise.all(loops);
        const deadline = setTimeout(() => giveUp.abort(), closeTimeoutMs);
        await out.drain(closeTimeoutMs);
        clearTimeout(deadline);
        giveUp.abort();
        out.stop();
      })();
      return closing;
    },
  };
}
