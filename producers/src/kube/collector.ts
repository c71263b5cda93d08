/**
 * The Kubernetes collector (SPEC §1, `watch` observations): lists, then watches, every kind of
 * `WATCHED_KINDS` cluster-wide and appends `WatchObserved` records to `hetu.raw.kube` through the
 * log port, keyed by the catalogue's rule.
 *
 * Decisions (see the report of issue G item 1):
 * - **Keys** are computed by the recording reader's `RecordingDecoder`, fed the observation as a
 *   recording line, so a live observation and the same observation replayed from a recording get
 *   the same key (and the same workload resolution through ReplicaSets and Jobs).
 * - **Lists** are paged (`limit`), rate-limited by a token bucket (QPS 50, burst 100 by default;
 *   watch requests take a token too). A *full* list appends, on every partition, `GAP` (when one is
 *   owed: at start, or after a watch failed) and `SYNC_BEGIN`, then `SYNCED` for every object, then
 *   `SYNC_END` on every partition; the kube processor deletes what it knew and did not see.
 *   List items carry no `apiVersion`/`kind`, so the collector writes those two members first and
 *   the item's members after them, unchanged; watch objects are kept byte for byte.
 * - **Watches** start from the list's resourceVersion with `allowWatchBookmarks`. A watch that
 *   ends without the server saying its version is gone is **resumed** from the last
 *   resourceVersion seen (an event or a bookmark): no list, no `GAP` — lossless by the watch
 *   contract, since a watch from version v delivers every change after v or answers 410. That
 *   covers a watch the server ends cleanly (resumed at once), a connection refused, reset or cut
 *   mid-stream, and an error answer other than 410/403 (a 5xx, a 429, a watch `ERROR` event of
 *   another code, a line that is not JSON): these back off 1 s doubling to 30 s (back to 1 s once a
 *   watch was answered) and resume. A full relist, after a `GAP` with its reason, happens only
 *   when the server says the version cannot be served — `410 Gone` as the answer or as an `ERROR`
 *   watch event (etcd compacted past it, or the watch cache's window moved on), or "Too large
 *   resource version" — on a buffer overflow, when a watch is silent for longer than `watchdogMs`
 *   (bookmarks count as life), when a resync's list fails, after a 403 (see RBAC) or on
 *   `relist()`. A list that fails is retried (with a `GAP`) after the back-off. `status()` counts
 *   resumes, relists and 410s per kind apart (`resumes`, `relists`, `expired`).
 * - **Resync** every `resyncMs`: the watch is stopped, the kind is listed and only objects whose
 *   resourceVersion differs from the last one appended are appended (as `SYNCED`); objects gone
 *   from the list are appended as `DELETED` with their identity only (the collector keeps uid,
 *   resourceVersion and key per object, not whole objects, to bound memory); then the watch
 *   resumes from the list's resourceVersion. No markers, and an unchanged object is never
 *   appended again. A watch event whose resourceVersion equals the last appended one is skipped.
 * - **Back-pressure**: observations wait in one in-memory queue for the writer (batches of 500,
 *   encoded with the serde). At 3/4 of `maxBuffered` every watch response is paused (TCP
 *   back-pressure to the API server) until the queue is back under half; lists wait for room
 *   before each object. An event that still arrives with the queue full (already in the chunk
 *   being read) is dropped: its watch is ended, and the kind gets a `GAP` and a full relist once
 *   there is room, so nothing is lost for good. So the queue never holds more than `maxBuffered`
 *   observations, plus markers (at most 4 per partition per kind).
 * - **RBAC**: a 403 on a list or watch makes the kind `forbidden` in `status()` with the API's
 *   message and is retried every `resyncMs`; it is never thrown. Other errors make it `error`.
 * - A log that refuses appends is retried (1 s doubling to 30 s), its message in `status()`.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { topicSpec, type Serde, type WatchEventType, type WatchObserved } from '@hetu/schemas';
import { kubeAccess, kubeSourceOf, type KubeConfigLike } from './access.ts';
import { HetuError, type Log } from '@hetu/streams';
import { RecordingDecoder } from '../recording/reader.ts';
import { topLevelValueText } from '../recording/json-span.ts';
import { apiVersionOf, collectionPath, WATCHED_KINDS, type WatchedKind } from './kinds.ts';
import { delay, TokenBucket } from './rate.ts';
import { BufferedAppender } from './appender.ts';
import { boundedAppendLog } from '../logs/append.ts';

export const KUBE_RAW_TOPIC = 'hetu.raw.kube';

export const KUBE_COLLECTOR_DEFAULTS = {
  qps: 50,
  burst: 100,
  resyncMs: 5 * 60_000,
  watchdogMs: 5 * 60_000,
  maxBuffered: 10_000,
  pageSize: 500,
  closeTimeoutMs: 10_000,
} as const;

export interface KubeCollectorOptions {
  /** A loaded client configuration (e.g. `loadFromCluster()` for in-cluster config). */
  readonly kubeConfig?: KubeConfigLike;
  /** A kubeconfig file to load when `kubeConfig` is not given. */
  readonly kubeconfig?: string;
  /** Context of the kubeconfig to use; default its current context. */
  readonly context?: string;
  /** Load the in-cluster config (service account token) when neither of the above is given. */
  readonly inCluster?: boolean;
  /** Where the service account's token and ca.crt are in-cluster; default the standard mount. */
  readonly serviceAccountDir?: string;
  /** Name of the cluster, as configured; stamped on every record and key. */
  readonly cluster: string;
  readonly log: Log;
  readonly serde: Serde;
  /** Kinds to watch; default `WATCHED_KINDS` (SPEC §1). */
  readonly kinds?: readonly WatchedKind[];
  /** Requests per second to the API server (lists and watch starts); default 50. */
  readonly qps?: number;
  /** Token bucket size; default 100. */
  readonly burst?: number;
  /** Period of the diff resync per kind; default 5 min. */
  readonly resyncMs?: number;
  /** A watch silent (not even a bookmark) for longer than this is restarted with a relist; default 5 min. */
  readonly watchdogMs?: number;
  /** Most observations waiting for the log; default 10 000. */
  readonly maxBuffered?: number;
  /** Items per list page; default 500. */
  readonly pageSize?: number;
  /** How long `close()` waits for buffered observations to be written; default 10 s. */
  readonly closeTimeoutMs?: number;
  /** Wall clock for `ts` (event time of an observation); default `Date.now`. */
  readonly now?: () => number;
}

export type KindState = 'pending' | 'listing' | 'watching' | 'forbidden' | 'error' | 'stopped';

export interface KindStatus {
  readonly kind: string;
  readonly apiVersion: string;
  readonly state: KindState;
  /** Why it is forbidden or in error (the API's message); null otherwise. */
  readonly message: string | null;
  /** Objects currently known (as last listed or watched). */
  readonly objects: number;
  /** resourceVersion the watch resumes from; null before the first list. */
  readonly resourceVersion: string | null;
  /** Full lists completed (SYNC_BEGIN … SYNC_END appended), the first included. */
  readonly fullLists: number;
  /** Diff resyncs completed. */
  readonly resyncs: number;
  /**
   * Watches restarted from the last resourceVersion seen, with no list and no GAP: after the
   * server ended a watch, a lost or cut connection, or an error answer other than 410/403.
   */
  readonly resumes: number;
  /**
   * Full relists decided after the first list (each after a GAP): on a 410, a buffer overflow,
   * the watchdog, a failed resync, a 403 or `relist()`. A list retried after it failed is not counted
   * again. So `fullLists` = 1 + `relists` once each list has completed.
   */
  readonly relists: number;
  /** Watches the server refused because their resourceVersion is gone (410) or too large; each relists. */
  readonly expired: number;
  /** GAP markers appended for this kind (each on every partition, counted once). */
  readonly gaps: number;
  /** Observations appended to the queue for this kind (markers excluded). */
  readonly observed: number;
  /** Watch events dropped because the buffer was full (each followed by a GAP and a relist). */
  readonly dropped: number;
}

export interface KubeCollectorStatus {
  readonly cluster: string;
  readonly running: boolean;
  /** Observations (and markers) waiting to be written. */
  readonly buffered: number;
  /**
   * The most items that waited at once since the start, markers included: observations never take
   * the queue past `maxBuffered`, markers may add at most 4 per partition per kind on top.
   */
  readonly bufferedHigh: number;
  readonly maxBuffered: number;
  /** True while watch responses are paused for back-pressure. */
  readonly paused: boolean;
  /** Records appended to the log so far. */
  readonly appended: number;
  /** The log's last append error, null once an append succeeds again. */
  readonly writeError: string | null;
  readonly kinds: readonly KindStatus[];
}

export interface KubeCollector {
  /**
   * Starts every kind; resolves once each has had its first try (listed and watching, or
   * forbidden, or in error). Rejects only when the log's topic cannot be prepared.
   */
  start(): Promise<void>;
  status(): KubeCollectorStatus;
  /** Forces a GAP and a full relist of one kind (by kind name) or of every watching kind. */
  relist(kind?: string): void;
  /** Cuts every open watch connection, as a network fault would (the kinds resume from their last resourceVersion). */
  cutWatches(): void;
  /** Resolves when every observation queued so far has been appended. */
  flushed(): Promise<void>;
  /** Stops every watch, writes what is buffered (up to `closeTimeoutMs`). Idempotent. */
  close(): Promise<void>;
}

/** An error answer of the API server. */
export class KubeApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const msg = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface Pending {
  readonly key: string;
  readonly value: WatchObserved;
  readonly partition?: number;
}

interface CacheEntry {
  readonly rv: string;
  readonly key: string;
  readonly namespace: string | null;
  readonly name: string;
}

type EndReason =
  /** The server ended the watch cleanly: resume at once. */
  | 'closed'
  /** The connection failed, was refused, reset or cut: resume after a back-off. */
  | 'lost'
  /** The server answered an error other than 410/403, or sent garbage: resume after a back-off. */
  | 'failed'
  /** 410 Gone (or a resourceVersion too large): relist. */
  | 'expired'
  | 'forbidden'
  | 'watchdog'
  | 'overflow'
  | 'resync'
  | 'relist'
  | 'stopped';

interface WatchEnd {
  readonly why: EndReason;
  readonly rv: string;
  readonly detail: string;
  /** The server answered the watch with 200 (so the back-off starts again from 1 s). */
  readonly answered: boolean;
}

interface ActiveWatch {
  stop(why: EndReason, detail: string): void;
  cut(): void;
  pause(): void;
  resume(): void;
}

interface KindRun {
  readonly def: WatchedKind;
  readonly apiVersion: string;
  state: KindState;
  message: string | null;
  readonly cache: Map<string, CacheEntry>;
  rv: string | null;
  fullLists: number;
  resyncs: number;
  resumes: number;
  relists: number;
  expired: number;
  gaps: number;
  observed: number;
  dropped: number;
  active: ActiveWatch | null;
  /** A GAP is owed before the next SYNC_BEGIN. */
  gapOwed: string | null;
  /** A relist was asked for while no watch was open. */
  relistAsked: boolean;
  ready: () => void;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`kube collector: ${name} must be a positive integer, got ${v}.`);
  return v;
}

/** Creates a collector; nothing happens until `start()`. */
export function createKubeCollector(opts: KubeCollectorOptions): KubeCollector {
  const access = kubeAccess(kubeSourceOf(opts, 'Kubernetes collector'));
  const server = access.server;
  const qps = opts.qps ?? KUBE_COLLECTOR_DEFAULTS.qps;
  const bucket = new TokenBucket({
    qps,
    burst: positiveInt('burst', opts.burst ?? KUBE_COLLECTOR_DEFAULTS.burst),
  });
  const resyncMs = positiveInt('resyncMs', opts.resyncMs ?? KUBE_COLLECTOR_DEFAULTS.resyncMs);
  const watchdogMs = positiveInt('watchdogMs', opts.watchdogMs ?? KUBE_COLLECTOR_DEFAULTS.watchdogMs);
  const maxBuffered = positiveInt('maxBuffered', opts.maxBuffered ?? KUBE_COLLECTOR_DEFAULTS.maxBuffered);
  const pageSize = positiveInt('pageSize', opts.pageSize ?? KUBE_COLLECTOR_DEFAULTS.pageSize);
  const closeTimeoutMs = opts.closeTimeoutMs ?? KUBE_COLLECTOR_DEFAULTS.closeTimeoutMs;
  const clock = opts.now ?? Date.now;
  const { log, serde } = opts;
  const clusterName = opts.cluster;
  const pauseAt = Math.max(1, Math.floor((maxBuffered * 3) / 4));
  const resumeAt = Math.floor(maxBuffered / 2);

  const decoder = new RecordingDecoder({ source: `the live cluster ${clusterName}` });
  let line = 0;
  let lastTs = 0;
  let partitions = 0;
  let bufferedHigh = 0;
  let running = false;
  let closed = false;
  let closing: Promise<void> | null = null;
  const abort = new AbortController();

  const loops: Promise<void>[] = [];

  const runs: KindRun[] = (opts.kinds ?? WATCHED_KINDS).map((def) => ({
    def,
    apiVersion: apiVersionOf(def),
    state: 'pending',
    message: null,
    cache: new Map(),
    rv: null,
    fullLists: 0,
    resyncs: 0,
    resumes: 0,
    relists: 0,
    expired: 0,
    gaps: 0,
    observed: 0,
    dropped: 0,
    active: null,
    gapOwed: 'collector started: changes made while no collector watched may be missing',
    relistAsked: false,
    ready: () => undefined,
  }));

  // ---- time, queue and writer ----

  /** Wall-clock event time, never going backwards (the decoder refuses lines > 5 s late). */
  function now(): number {
    const t = clock();
    if (t > lastTs) lastTs = t;
    return lastTs;
  }

  /** One queue to the log; watch responses pause above ¾ of maxBuffered, resume under ½. */
  /** Aborted when close() stops waiting for the writer. */
  const giveUp = new AbortController();
  /** The error of the rest of a split append while it is retried. */
  let splitError: string | null = null;
  const out = new BufferedAppender<Pending>({
    // 500 large objects can be over Kafka's 1 MiB request: appended in pieces, the rest of a batch
    // retried there, so a retry of the batch never writes an observation twice (logs/append.ts)
    log: boundedAppendLog(log, { signal: giveUp.signal, onRetry: (e) => (splitError = e) }),
    topic: KUBE_RAW_TOPIC,
    pauseAt,
    resumeAt,
    toRecord: async (p) => ({
      key: Buffer.from(p.key),
      value: await serde.encode(KUBE_RAW_TOPIC, 'WatchObserved', p.value),
      timestamp: p.value.ts,
      ...(p.partition === undefined ? {} : { partition: p.partition }),
    }),
    onPause: (p) => {
      for (const r of runs) {
        if (p) r.active?.pause();
        else r.active?.resume();
      }
    },
  });

  /** Resolves when `cond()` holds (checked after each change of the queue), or when closing. */
  async function until(cond: () => boolean): Promise<void> {
    while (!cond() && !closed) await out.changed();
  }

  function enqueue(p: Pending): void {
    out.push(p);
    if (out.length > bufferedHigh) bufferedHigh = out.length;
  }

  function marker(run: KindRun, type: WatchEventType, rv: string | null, detail: string | null): void {
    const ts = now();
    for (let p = 0; p < partitions; p++) {
      enqueue({
        key: `${clusterName}/${run.def.kind}`,
        partition: p,
        value: {
          ts,
          cluster: clusterName,
          type,
          apiVersion: run.apiVersion,
          kind: run.def.kind,
          namespace: null,
          name: null,
          uid: null,
          resourceVersion: rv,
          detail,
          object: null,
        },
      });
    }
  }

  /** Queues one object observation (keyed by the recording decoder); returns its key, or null if refused. */
  function observe(
    run: KindRun,
    type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'SYNCED',
    objectText: string,
  ): string | null {
    const ts = now();
    const recLine = `{"ts":${JSON.stringify(new Date(ts).toISOString())},"cluster":${JSON.stringify(clusterName)},"kind":"watch","type":"${type}","object":${objectText}}`;
    const item = decoder.decode(Buffer.from(recLine), ++line);
    if (item === undefined || item.kind !== 'observation' || item.topic !== 'hetu.raw.kube') {
      run.message = `an object was refused: ${item?.kind === 'dead-letter' ? item.message : 'not an observation'}`;
      return null;
    }
    run.observed++;
    enqueue({ key: item.key, value: item.value });
    return item.key;
  }

  // ---- HTTP ----

  async function requestOptions(): Promise<RequestOptions> {
    const o: RequestOptions = { headers: { accept: 'application/json' } };
    await access.applyTo(o);
    return o;
  }

  function send(url: URL, o: RequestOptions): ReturnType<typeof httpRequest> {
    return url.protocol === 'http:' ? httpRequest(url, o) : httpsRequest(url, o);
  }

  function apiError(status: number, text: string): KubeApiError {
    let message = text.trim().slice(0, 300);
    try {
      const s = JSON.parse(text) as unknown;
      if (isObject(s) && typeof s['message'] === 'string') message = s['message'];
    } catch {
      // not a Status object: keep the text
    }
    return new KubeApiError(status, `HTTP ${status}: ${message}`);
  }

  /**
   * A Status saying the resourceVersion is ahead of what the server can serve ("Too large resource
   * version", e.g. after etcd was restored from a backup): resuming cannot work, only a relist.
   */
  function tooLargeVersion(status: unknown): boolean {
    if (!isObject(status)) return false;
    const details = isObject(status['details']) ? status['details'] : {};
    const causes = Array.isArray(details['causes']) ? details['causes'] : [];
    return (
      causes.some((c) => isObject(c) && c['reason'] === 'ResourceVersionTooLarge') ||
      /too large resource version/i.test(str(status['message']) ?? '')
    );
  }

  async function getJson(path: string): Promise<Json> {
    await bucket.take(abort.signal);
    const o = await requestOptions();
    const url = new URL(path, server);
    const text = await new Promise<{ status: number; text: string }>((resolve, reject) => {
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
    if (text.status !== 200) throw apiError(text.status, text.text);
    const doc = JSON.parse(text.text) as unknown;
    if (!isObject(doc))
      throw new KubeApiError(text.status, `GET ${url.pathname}: the answer is not a JSON object`);
    return doc;
  }

  // ---- list ----

  /**
   * Lists the kind. `full`: GAP (when owed), SYNC_BEGIN, SYNCED for every object, SYNC_END.
   * `diff`: SYNCED only for objects whose resourceVersion changed, DELETED for vanished ones.
   * Returns the list's resourceVersion.
   */
  async function list(run: KindRun, mode: 'full' | 'diff'): Promise<string> {
    const base = collectionPath(run.def);
    const seen = new Set<string>();
    let cont: string | undefined;
    let listRv: string | null = null;
    do {
      const q = `?limit=${pageSize}${cont === undefined ? '' : `&continue=${encodeURIComponent(cont)}`}`;
      const page = await getJson(base + q);
      const meta = isObject(page['metadata']) ? page['metadata'] : {};
      if (listRv === null) {
        listRv = str(meta['resourceVersion']) ?? '';
        if (mode === 'full') {
          if (run.gapOwed !== null) {
            marker(run, 'GAP', null, run.gapOwed);
            run.gaps++;
            run.gapOwed = null;
          }
          marker(run, 'SYNC_BEGIN', listRv, null);
        }
      }
      const items = Array.isArray(page['items']) ? page['items'] : [];
      for (const it of items) {
        if (!isObject(it) || !isObject(it['metadata'])) continue;
        const m = it['metadata'];
        const uid = str(m['uid']);
        const name = str(m['name']);
        if (uid === undefined || name === undefined) continue;
        const rv = str(m['resourceVersion']) ?? '';
        seen.add(uid);
        if (mode === 'diff' && run.cache.get(uid)?.rv === rv) continue;
        await until(() => out.length < maxBuffered);
        if (closed) throw new Error('collector closed');
        const { apiVersion: _a, kind: _k, ...rest } = it;
        const text = JSON.stringify({ apiVersion: run.apiVersion, kind: run.def.kind, ...rest });
        const key = observe(run, 'SYNCED', text);
        if (key !== null) run.cache.set(uid, { rv, key, namespace: str(m['namespace']) ?? null, name });
      }
      const next = str(meta['continue']);
      cont = next === undefined || next === '' ? undefined : next;
    } while (cont !== undefined);
    for (const [uid, e] of run.cache) {
      if (seen.has(uid)) continue;
      run.cache.delete(uid);
      if (mode === 'diff') {
        await until(() => out.length < maxBuffered);
        const metadata = {
          name: e.name,
          ...(e.namespace === null ? {} : { namespace: e.namespace }),
          uid,
          resourceVersion: e.rv,
        };
        enqueueDeleted(run, e, JSON.stringify({ apiVersion: run.apiVersion, kind: run.def.kind, metadata }));
      }
    }
    if (mode === 'full') {
      marker(run, 'SYNC_END', listRv, null);
      run.fullLists++;
    } else run.resyncs++;
    run.rv = listRv;
    return listRv;
  }

  /** A deletion found by a resync: keyed as the object was last keyed (its last state is not kept). */
  function enqueueDeleted(run: KindRun, e: CacheEntry, objectText: string): void {
    const ts = now();
    run.observed++;
    enqueue({
      key: e.key,
      value: {
        ts,
        cluster: clusterName,
        type: 'DELETED',
        apiVersion: run.apiVersion,
        kind: run.def.kind,
        namespace: e.namespace,
        name: e.name,
        uid: (JSON.parse(objectText) as { metadata: { uid: string } }).metadata.uid,
        resourceVersion: e.rv,
        detail: null,
        object: objectText,
      },
    });
  }

  // ---- watch ----

  async function watch(run: KindRun, fromRv: string): Promise<WatchEnd> {
    let o: RequestOptions;
    try {
      await bucket.take(abort.signal);
      o = await requestOptions();
    } catch (err) {
      if (closed) return { why: 'stopped', rv: fromRv, detail: 'collector closed', answered: false };
      return { why: 'lost', rv: fromRv, detail: `watch not sent: ${msg(err)}`, answered: false };
    }
    if (closed) return { why: 'stopped', rv: fromRv, detail: 'collector closed', answered: false };
    // relist() called between the list and this watch (no watch was open to stop)
    if (run.relistAsked)
      return { why: 'relist', rv: fromRv, detail: 'relist forced by the operator', answered: false };
    const path = `${collectionPath(run.def)}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(fromRv)}`;
    return new Promise<WatchEnd>((resolve) => {
      let rv = fromRv;
      let ended = false;
      let res: IncomingMessage | null = null;
      let dog: ReturnType<typeof setTimeout> | undefined;
      let isPaused = false;
      let answered = false;
      const req = send(new URL(path, server), { ...o, method: 'GET' });
      const finish = (why: EndReason, detail: string): void => {
        if (ended) return;
        ended = true;
        clearTimeout(dog);
        clearTimeout(resyncTimer);
        if (run.active === handle) run.active = null;
        req.destroy();
        resolve({ why, rv, detail, answered });
      };
      const armDog = (): void => {
        clearTimeout(dog);
        if (isPaused || ended) return;
        dog = setTimeout(
          () => finish('watchdog', `the watch was silent for ${watchdogMs} ms (not even a bookmark)`),
          watchdogMs,
        );
      };
      const resyncTimer = setTimeout(() => finish('resync', 'periodic resync'), resyncMs);
      const handle: ActiveWatch = {
        stop: finish,
        cut: () => req.destroy(new Error('watch connection cut')),
        pause: () => {
          isPaused = true;
          clearTimeout(dog);
          res?.pause();
        },
        resume: () => {
          isPaused = false;
          res?.resume();
          armDog();
        },
      };
      run.active = handle;

      const onLine = (text: string): void => {
        let ev: unknown;
        try {
          ev = JSON.parse(text);
        } catch {
          finish('failed', 'the watch sent a line that is not JSON');
          return;
        }
        if (!isObject(ev) || !isObject(ev['object'])) return;
        const type = ev['type'];
        const obj = ev['object'];
        const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
        if (type === 'BOOKMARK') {
          rv = str(meta['resourceVersion']) ?? rv;
          run.rv = rv;
          return;
        }
        if (type === 'ERROR') {
          const code = obj['code'];
          const m = str(obj['message']) ?? 'no message';
          if (code === 410) finish('expired', `410 Gone: ${m}`);
          else if (code === 403) finish('forbidden', `HTTP 403: ${m}`);
          else if (tooLargeVersion(obj)) finish('expired', `watch error ${String(code)}: ${m}`);
          else finish('failed', `watch error ${String(code)}: ${m}`);
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        const uid = str(meta['uid']);
        const name = str(meta['name']);
        const objRv = str(meta['resourceVersion']) ?? '';
        if (uid === undefined || name === undefined) return;
        if (type !== 'DELETED' && run.cache.get(uid)?.rv === objRv) {
          rv = objRv;
          return;
        }
        if (out.length >= maxBuffered) {
          run.dropped++;
          finish(
            'overflow',
            `${out.length} observations were waiting for the log, so a watch event was dropped`,
          );
          return;
        }
        rv = objRv;
        run.rv = rv;
        const key = observe(run, type, topLevelValueText(text, 'object') ?? JSON.stringify(obj));
        if (type === 'DELETED') run.cache.delete(uid);
        else if (key !== null)
          run.cache.set(uid, { rv: objRv, key, namespace: str(meta['namespace']) ?? null, name });
      };

      req.on('error', (err) => finish('lost', `watch connection failed: ${msg(err)}`));
      req.on('response', (r: IncomingMessage) => {
        res = r;
        if (r.statusCode !== 200) {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('error', (err) => finish('lost', `watch answer failed: ${msg(err)}`));
          r.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const e = apiError(r.statusCode ?? 0, text);
            let status: unknown = null;
            try {
              status = JSON.parse(text) as unknown;
            } catch {
              // not a Status object
            }
            finish(
              e.status === 410 || tooLargeVersion(status)
                ? 'expired'
                : e.status === 403
                  ? 'forbidden'
                  : 'failed',
              e.message,
            );
          });
          return;
        }
        answered = true;
        r.setEncoding('utf8');
        let partial = '';
        if (out.paused) handle.pause();
        else armDog();
        r.on('data', (chunk: string) => {
          armDog();
          partial += chunk;
          let nl = partial.indexOf('\n');
          while (nl >= 0 && !ended) {
            const text = partial.slice(0, nl);
            partial = partial.slice(nl + 1);
            if (text.trim() !== '') onLine(text);
            nl = partial.indexOf('\n');
          }
        });
        r.on('error', (err) => finish('lost', `watch connection failed mid-stream: ${msg(err)}`));
        r.on('end', () => finish('closed', 'the API server ended the watch'));
        r.on('close', () => finish(r.complete ? 'closed' : 'lost', 'the watch connection closed mid-stream'));
      });
      req.end();
      // Silence counts from the request on: a watch whose answer never comes is restarted too.
      armDog();
    });
  }

  // ---- one kind ----

  async function runKind(run: KindRun, before: Promise<void>): Promise<void> {
    let backoff = 1000;
    let rv: string | null = null;
    // First lists run one kind after another, in WATCHED_KINDS order, so owners precede the
    // Pods and Events whose keys name their workload.
    await before;
    /** The last full list failed: the next one retries it (not a new relist). */
    let listFailed = false;
    while (!closed) {
      let phase: 'full' | 'diff' | 'watch' = 'watch';
      try {
        if (rv === null || run.relistAsked) {
          if (run.fullLists > 0 && !listFailed) run.relists++;
          run.relistAsked = false;
          run.state = 'listing';
          phase = 'full';
          rv = await list(run, 'full');
          listFailed = false;
          // relist() was called while this list ran: list again (it asked for a fresh view)
          if (run.relistAsked) continue;
        }
        run.state = 'watching';
        run.message = null;
        run.ready();
        phase = 'watch';
        const end = await watch(run, rv);
        if (closed) break;
        rv = end.rv;
        if (end.answered) backoff = 1000;
        switch (end.why) {
          case 'closed':
            run.resumes++;
            break;
          case 'lost':
          case 'failed':
            // resumed from the last resourceVersion seen, after a back-off: no GAP, no list
            run.resumes++;
            run.state = 'error';
            run.message = end.detail;
            await delay(backoff, abort.signal);
            backoff = Math.min(backoff * 2, 30_000);
            break;
          case 'resync':
            backoff = 1000;
            phase = 'diff';
            rv = await list(run, 'diff');
            break;
          case 'forbidden':
            throw new KubeApiError(403, end.detail);
          case 'overflow':
          case 'watchdog':
          case 'expired':
          case 'relist':
          case 'stopped':
            if (end.why === 'expired') run.expired++;
            run.gapOwed = end.detail;
            rv = null;
            if (end.why === 'overflow') await until(() => out.length <= resumeAt);
            break;
        }
      } catch (err) {
        if (closed) break;
        rv = null;
        if (phase === 'full') listFailed = true;
        if (run.gapOwed === null) run.gapOwed = `listing failed: ${msg(err)}`;
        if (err instanceof KubeApiError && err.status === 403) {
          run.state = 'forbidden';
          run.message = err.message;
          run.ready();
          await delay(resyncMs, abort.signal).catch(() => undefined);
        } else {
          run.state = 'error';
          run.message = msg(err);
          run.ready();
          await delay(backoff, abort.signal).catch(() => undefined);
          backoff = Math.min(backoff * 2, 30_000);
        }
      }
    }
    run.state = 'stopped';
    run.ready();
  }

  // ---- the collector ----

  return {
    async start() {
      if (running || closed) return;
      running = true;
      await log.ensureTopics([topicSpec(KUBE_RAW_TOPIC)]);
      const [info] = await log.describeTopics([KUBE_RAW_TOPIC]);
      partitions = info?.partitions.length ?? 0;
      if (partitions === 0)
        throw new HetuError(
          'HETU_KUBE_TOPIC_MISSING',
          `Topic ${KUBE_RAW_TOPIC} has no partitions; create it with the catalogue's config.`,
        );
      const readies = runs.map((r) => new Promise<void>((resolve) => (r.ready = resolve)));
      runs.forEach((r, i) => loops.push(runKind(r, i === 0 ? Promise.resolve() : readies[i - 1]!)));
      await Promise.all(readies);
    },
    status() {
      return {
        cluster: clusterName,
        running: running && !closed,
        buffered: out.length,
        bufferedHigh,
        maxBuffered,
        paused: out.paused,
        appended: out.appended,
        writeError: out.writeError ?? splitError,
        kinds: runs.map((r) => ({
          kind: r.def.kind,
          apiVersion: r.apiVersion,
          state: r.state,
          message: r.message,
          objects: r.cache.size,
          resourceVersion: r.rv,
          fullLists: r.fullLists,
          resyncs: r.resyncs,
          resumes: r.resumes,
          relists: r.relists,
          expired: r.expired,
          gaps: r.gaps,
          observed: r.observed,
          dropped: r.dropped,
        })),
      };
    },
    relist(kind) {
      for (const r of runs) {
        if (kind !== undefined && r.def.kind !== kind) continue;
        r.relistAsked = true;
        // no open watch (listing, or backing off): the next list still owes its GAP
        if (r.active === null) r.gapOwed ??= 'relist forced by the operator';
        r.active?.stop('relist', 'relist forced by the operator');
      }
    },
    cutWatches() {
      for (const r of runs) r.active?.cut();
    },
    flushed: () => out.flushed(),
    close() {
      closing ??= (async () => {
        closed = true;
        abort.abort(new Error('collector closed'));
        for (const r of runs) r.active?.stop('stopped', 'collector closed');
        out.notify();
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
