import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import {
  HetuError,
  partitionForKey,
  prefixedLog,
  type AppendRecord,
  type BatchCommittedInfo,
} from '@hetu/streams';
import { readRecording } from '@hetu/producers/recording';
import { RULES } from '@hetu/processors/scoring';
import {
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  Projections,
  startApiServer,
  type AuthConfig,
  type ProcessorInfo,
  type ServerAbout,
} from '@hetu/projections';
import type { GlobalConfig } from '../config.ts';
import { openBackend, type Backend } from '../backend.ts';
import { startPipeline, type Pipeline } from '../pipeline.ts';
import { RawFrontier, startLiveClock } from '../gates.ts';
import { startMetrics } from '../pipeline-metrics.ts';
import { createKubeCollector } from '@hetu/producers/kube';
import { createMetricsCollector } from '@hetu/producers/metrics';
import { createLogCollector } from '@hetu/producers/logs';
import { findKube, kubeSource, loadKube, type KubeTarget } from '../kube.ts';
import { createWorker, type LlmSetup } from '../llm.ts';
import { describeLlmConfig } from '@hetu/producers/llm';
import { pipelineStages, recordOf } from '../stages.ts';
import { recordingDeadLetter } from '../recording-dead-letter.ts';
import { activeLog, mappedLog, projectionsDir as generationProjectionsDir } from '../generations.ts';
import {
  aborted,
  followIntervalMs,
  followSwitches,
  pollErrorLine,
  type SwitchFollower,
} from '../follow-switch.ts';

/** The demo recording that ships with hetu (scripts/gen-demo.ts writes it). */
export const DEMO_RECORDING = fileURLToPath(new URL('../../../demo/demo.jsonl.gz', import.meta.url));

/** How long `hetu start` takes at most to stop after SIGTERM or SIGINT before it exits anyway. */
export const SHUTDOWN_DEADLINE_MS = 9_500;

/** The built dashboard (`npm run build:web` writes it); `hetu start` serves it on the API's port. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

export interface StartOptions {
  readonly out: NodeJS.WritableStream;
  readonly signal?: AbortSignal;
  /** Play the demo recording into an empty log when no recording is given. Default true. */
  readonly demo?: boolean;
  /**
   * Namespace on a shared Kafka cluster: every topic and consumer group gets this prefix
   * (`--topic-prefix`, env HETU_TOPIC_PREFIX; as for `hetu run`). Default none.
   */
  readonly prefix?: string;
  /** A recording to feed as event time passes (`--recording`). */
  readonly recording?: string;
  /** How many times faster than recorded (`--speed`); default 1 for --recording; the demo plays at once unless given. */
  readonly speed?: number;
  readonly host?: string;
  readonly port?: number;
  readonly auth?: AuthConfig;
  readonly introspection?: boolean;
  /**
   * The cluster to watch: a kubeconfig file (and context), or in-cluster config. Default: found
   * like kubectl does (KUBECONFIG, ~/.kube/config, in-cluster); none → the demo plays.
   */
  readonly kube?: KubeTarget | null;
  /** Name stamped on the cluster's records (`--cluster`, env HETU_CLUSTER); default the context name. */
  readonly cluster?: string;
  /** Prometheus server root (`--prometheus`, env HETU_PROMETHEUS_URL): the metrics collector runs when given. */
  readonly prometheus?: string;
  /** The LLM second opinion: the worker runs when given (docs/llm.md). */
  readonly llm?: LlmSetup;
  /** The built dashboard to serve (a directory with index.html); default WEB_DIST; null serves none. */
  readonly webRoot?: string | null;
  /** Told the API's URL once it listens (tests). */
  readonly onListening?: (url: string) => void;
  /**
   * How often to look for a generation switch (ms; 0: never, a switch then needs a restart).
   * Default HETU_GENERATION_POLL_MS, else 5 000 (docs/replay.md).
   */
  readonly followIntervalMs?: number;
}

export interface FeedOptions {
  /** Event time runs this many times faster than the wall clock. */
  readonly speed: number;
  readonly signal?: AbortSignal;
  /** Wall clock (ms). Default Date.now. */
  readonly now?: () => number;
  /** Waits `ms` (or until aborted). Default a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Appends at most this many records at once. Default 2 000. */
  readonly maxBatch?: number;
  /**
   * Called when every line older than `t` is appended (the raw input is complete below `t`);
   * `Infinity` once the whole recording is (cli/src/gates.ts).
   */
  readonly onComplete?: (t: number) => void;
}

export interface FeedSummary {
  observations: number;
  deadLetters: number;
  /** Appends made (batches of observations due at the same time). */
  appends: number;
  /** Event time of the first and last line fed. */
  firstTs: number | null;
  lastTs: number | null;
  /** Lines skipped because an earlier feed of the same recording appended them (a restart). */
  skipped: number;
}

const sleepFor = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the feed loop checks the signal
  }
};

/**
 * Feeds a recording into the raw topics as event time passes: the first line goes at once, a line
 * with event time t goes `(t − t0) ÷ speed` after it. Lines due together are appended together;
 * malformed and late lines go to hetu.dlq as `hetu analyze` sends them.
 */
/** Headers of a fed record: which recording and which of its lines (to resume after a restart). */
export const RECORDING_ID_HEADER = 'hetu-recording';
export const RECORDING_LINE_HEADER = 'hetu-recording-line';
const FED_TOPICS = ['hetu.raw.kube', 'hetu.raw.metrics', 'hetu.raw.logs', 'hetu.dlq'];

/** A recording's identity: its absolute path, size and modification time. */
function recordingId(path: string): string {
  const st = statSync(path);
  return createHash('sha256')
    .update(`${resolve(path)}\n${st.size}\n${st.mtimeMs}`)
    .digest('hex')
    .slice(0, 16);
}

/**
 * Where a feed of this recording stopped: per topic and partition, the last line appended there
 * (each line goes to one partition, and lines reach a partition in order). Empty when none of it
 * was fed.
 */
export async function fedLines(backend: Backend, path: string): Promise<Map<string, number>> {
  const id = recordingId(path);
  const out = new Map<string, number>();
  for (const info of await backend.log.describeTopics(FED_TOPICS))
    for (const p of info.partitions) {
      if (p.high <= p.low) continue;
      const [last] = await backend.log.read(info.name, p.partition, { fromOffset: p.high - 1n });
      if (last?.headers[RECORDING_ID_HEADER]?.toString() !== id) continue;
      out.set(`${info.name}\u0000${p.partition}`, Number(last.headers[RECORDING_LINE_HEADER]!.toString()));
    }
  return out;
}

export async function feedRecording(backend: Backend, path: string, opts: FeedOptions): Promise<FeedSummary> {
  if (!(opts.speed > 0))
    throw new HetuError('HETU_CLI_BAD_OPTION', `--speed must be a number above 0, not ${opts.speed}.`);
  // A restart goes on where the last feed of the same recording stopped (nothing twice).
  const id = recordingId(path);
  const done = await fedLines(backend, path);
  const partitionsOf = new Map(
    (await backend.log.describeTopics(FED_TOPICS)).map((t) => [t.name, t.partitions.length]),
  );
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? sleepFor;
  const maxBatch = opts.maxBatch ?? 2000;
  const summary: FeedSummary = {
    observations: 0,
    deadLetters: 0,
    appends: 0,
    firstTs: null,
    lastTs: null,
    skipped: 0,
  };
  const pending = new Map<string, AppendRecord[]>();
  let size = 0;
  const flush = async () => {
    for (const [topic, records] of pending) {
      if (records.length === 0) continue;
      await backend.log.append(topic, records.splice(0));
      summary.appends++;
    }
    size = 0;
  };
  const w0 = now();
  for await (const item of readRecording(path)) {
    if (opts.signal?.aborted) break;
    // Fed before a restart: skipped, without waiting for its time.
    const topic0 = item.kind === 'observation' ? item.topic : 'hetu.dlq';
    const key0 = item.kind === 'observation' ? Buffer.from(item.key) : Buffer.from(`${path}:${item.line}`);
    const partition = partitionForKey(key0, partitionsOf.get(topic0) ?? 1);
    if (item.line <= (done.get(`${topic0}\u0000${partition}`) ?? 0)) {
      summary.skipped++;
      continue;
    }
    const ts = item.kind === 'observation' ? (item.value as { ts: number }).ts : item.ts;
    if (ts !== undefined) {
      summary.firstTs ??= ts;
      summary.lastTs = ts;
      const wait = Number.isFinite(opts.speed) ? w0 + (ts - summary.firstTs) / opts.speed - now() : 0;
      if (wait > 0) {
        await flush();
        // Lines reach the feed in event-time order (a late one goes to the DLQ): all before this
        // one are in.
        opts.onComplete?.(ts);
        await sleep(wait, opts.signal);
        if (opts.signal?.aborted) break;
      }
    }
    let topic: string;
    let record: AppendRecord;
    if (item.kind === 'observation') {
      summary.observations++;
      topic = item.topic;
      record = {
        key: Buffer.from(item.key),
        value: await backend.serde.encode(item.topic, recordOf(item.topic), item.value as never),
        timestamp: (item.value as { ts: number }).ts,
      };
    } else {
      summary.deadLetters++;
      topic = 'hetu.dlq';
      record = await recordingDeadLetter(backend, path, item);
    }
    record = {
      ...record,
      partition,
      headers: {
        [RECORDING_ID_HEADER]: Buffer.from(id),
        [RECORDING_LINE_HEADER]: Buffer.from(String(item.line)),
      },
    };
    let list = pending.get(topic);
    if (!list) pending.set(topic, (list = []));
    list.push(record);
    if (++size >= maxBatch) {
      await flush();
      // A later line may have the same time as the last one appended: complete below it.
      if (summary.lastTs !== null) opts.onComplete?.(summary.lastTs);
    }
  }
  await flush();
  if (!opts.signal?.aborted) opts.onComplete?.(Number.POSITIVE_INFINITY);
  return summary;
}

/** The processors `hetu start` runs, for the API's waits and status (names are their consumer groups). */
export function processorInfos(backend: Backend): ProcessorInfo[] {
  return pipelineStages(backend).map(([, p]) => ({ name: p.name, inputs: p.inputs }));
}

/** hetu's version (the root package.json). */
export const HETU_VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A URL without its query and fragment (some endpoints take a key there). */
function withoutQuery(url: string): string {
  try {
    const u = new URL(url);
    u.search = '';
    u.hash = '';
    return u.toString();
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}

/** What the API's `about` answers: the version and the LLM setup (endpoint masked, never the key). */
export function aboutOf(llm: LlmSetup | undefined): ServerAbout {
  const d = describeLlmConfig(llm?.config);
  return {
    version: HETU_VERSION,
    llm: {
      configured: d.configured,
      endpoint: d.configured && d.baseUrl ? withoutQuery(d.baseUrl) : null,
      model: d.configured ? (d.model ?? null) : null,
      pseudonymize: llm?.pseudonymize === true,
      dailyTokens: llm ? llm.config.dailyTokens : null,
    },
  };
}

/** Remediation hints of the scoring rules (drill-down level 4). */
export function ruleHints(): Map<string, string> {
  return new Map(RULES.map((r) => [r.id, r.hint]));
}

/** Where the dashboard comes from (`webRoot`, null: none) and, when it is built there, `web`. */
export function dashboardOf(io: Pick<StartOptions, 'webRoot'>): {
  webRoot: string | null;
  web: string | undefined;
} {
  const webRoot = io.webRoot === undefined ? WEB_DIST : io.webRoot;
  return { webRoot, web: webRoot !== null && existsSync(join(webRoot, 'index.html')) ? webRoot : undefined };
}

/**
 * The GraphQL API, with the dashboard on the same port when it is built, over `projections`: as
 * `hetu start` and `hetu run api` serve it (again after a generation switch).
 */
export function serveApi(
  io: Pick<StartOptions, 'webRoot' | 'host' | 'auth' | 'introspection' | 'llm'>,
  backend: Backend,
  projections: Projections,
  port: number,
): ReturnType<typeof startApiServer> {
  const { web } = dashboardOf(io);
  return startApiServer({
    ...(web !== undefined ? { webRoot: web } : {}),
    projections,
    log: backend.log,
    serde: backend.serde,
    host: io.host ?? DEFAULT_API_HOST,
    port,
    ...(io.auth ? { auth: io.auth } : {}),
    introspection: io.introspection === true,
    processors: processorInfos(backend),
    ruleHints: ruleHints(),
    about: aboutOf(io.llm),
  });
}

/**
 * `hetu start`: one process with the log (embedded in --data-dir unless --kafka is given), the
 * schema registry (embedded mode), every stage of the pipeline, the projections (SQLite files in
 * `<data-dir>/projections`) and the GraphQL API on --host:--port. `--recording` feeds a recording
 * as event time passes (`--speed` times faster); without it, an empty log gets the demo recording
 * (at once, or paced when --speed is given). Runs until interrupted.
 */
export async function runStart(cfg: GlobalConfig, io: StartOptions): Promise<void> {
  const port = io.port ?? DEFAULT_API_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new HetuError('HETU_CLI_BAD_OPTION', `--port must be a port number (0 to 65535), not ${io.port}.`);
  if (io.speed !== undefined && !(io.speed > 0))
    throw new HetuError('HETU_CLI_BAD_OPTION', `--speed must be a number above 0, not ${io.speed}.`);
  if (io.recording !== undefined && !existsSync(io.recording))
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--recording ${io.recording} does not exist: give the path of a recording (JSON Lines, .gz too).`,
    );
  const followMs = io.followIntervalMs ?? followIntervalMs();
  const opened = await openBackend(cfg);
  // Every topic and consumer group under the prefix, when given (as `hetu run --topic-prefix`).
  const root = io.prefix ? prefixedLog(opened.log, io.prefix) : opened.log;
  // Stages and projections read the active generation (docs/replay.md); each has its own read
  // model. A switch while running moves them to the new one (follower below).
  let active = await activeLog(root).catch(async (err: unknown) => {
    await opened.close();
    throw err;
  });
  let backend: Backend = { ...opened, log: active.log };
  // What does not belong to a generation (collectors, the recording feed, the LLM worker, the
  // metrics) reads through the mapping of whichever generation is active at each call.
  const live: Backend = { ...opened, log: mappedLog(root, () => active.mapping) };
  let projectionsDir = generationProjectionsDir(cfg.dataDir, active.generation);
  const stop = new AbortController();
  // Graceful shutdown (docs/metrics.md): stop feeding, let running batches commit, close
  // collectors, API, projections, stages and the log — within SHUTDOWN_DEADLINE_MS of a signal.
  let stoppingAt: number | undefined;
  const onSignal = () => {
    stoppingAt ??= performance.now();
    stop.abort();
  };
  const onProcessSignal = (signal: NodeJS.Signals) => {
    onSignal();
    io.out.write(`${signal}: stopping (commit and close)\n`);
    setTimeout(() => {
      io.out.write(
        `hetu did not stop within ${SHUTDOWN_DEADLINE_MS / 1000} s: exiting now; what was not committed is processed again at the next start\n`,
      );
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  io.signal?.addEventListener('abort', onSignal, { once: true });
  process.once('SIGINT', onProcessSignal);
  process.once('SIGTERM', onProcessSignal);
  // A stage that fails, or a switch that fails, ends hetu with its error.
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const watch = (p: Pipeline) => {
    for (const s of p.subscriptions) void s.done.catch(fail);
  };
  try {
    // Pipeline metrics on the API's /metrics (docs/metrics.md); counted from the first batch.
    // (`pipeline` is assigned below, before the API serves a scrape.)
    let pipeline: Pipeline | undefined;
    const metrics = startMetrics(
      live,
      io.llm !== undefined,
      () => projections,
      () => pipeline?.gates?.frontiers() ?? new Map(),
    );
    const events = { batchCommitted: (p: string, b: BatchCommittedInfo) => metrics.batchCommitted(p, b) };
    // Where raw input is complete (the feed of a recording, the collectors' clock): the stages
    // wait for it, so their facts do not depend on timing (cli/src/gates.ts).
    const rawFrontier = new RawFrontier();
    const gated = { rawFrontier };
    pipeline = await startPipeline(backend, events, gated);
    watch(pipeline);
    // The LLM worker is not generational (docs/replay.md): it runs on, whatever the switches.
    const llmWorker = io.llm ? createWorker(live, io.llm) : undefined;
    const collectors: { start(): Promise<void> | void; close(): Promise<void> }[] = [];
    let projections: Projections | undefined;
    let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
    let follower: SwitchFollower | undefined;
    try {
      await llmWorker?.start();
      projections = await Projections.start({
        log: backend.log,
        serde: backend.serde,
        dataDir: projectionsDir,
      });
      const { webRoot, web } = dashboardOf(io);
      const serve = (b: Backend, p: Projections, onPort: number) => serveApi(io, b, p, onPort);
      server = await serve(backend, projections, port);
      metrics.register(server.api.metrics.registry);
      const target =
        io.recording === undefined ? (io.kube === undefined ? findKube(process.env) : io.kube) : null;
      if (target !== null) {
        const access = loadKube(target);
        const clusterName = io.cluster ?? (access.context || 'cluster');
        io.out.write(
          `watching Kubernetes context ${access.context} (${access.server.origin}) as cluster ${clusterName}\n`,
        );
        collectors.push(
          createKubeCollector({
            ...kubeSource(target),
            cluster: clusterName,
            log: live.log,
            serde: live.serde,
          }),
        );
        collectors.push(
          createLogCollector({
            ...kubeSource(target),
            cluster: clusterName,
            log: live.log,
            serde: live.serde,
          }),
        );
        if (io.prometheus)
          collectors.push(
            createMetricsCollector({
              prometheusUrl: io.prometheus,
              cluster: clusterName,
              log: live.log,
              serde: live.serde,
            }),
          );
        else io.out.write('no Prometheus (--prometheus, HETU_PROMETHEUS_URL): no metric samples\n');
        // The stages take live input by the wall clock from now on, not once every collector has
        // started (a collector's first list of a large cluster takes a while).
        stop.signal.addEventListener('abort', startLiveClock(rawFrontier), { once: true });
        for (const c of collectors) await c.start();
      }
      const [kube] = await backend.log.describeTopics(['hetu.raw.kube']);
      const empty = (kube?.partitions ?? []).every((p) => p.high === 0n);
      const recording =
        io.recording ??
        (target === null &&
        io.demo !== false &&
        existsSync(DEMO_RECORDING) &&
        // An empty log, or one the demo was being played into when hetu stopped: it goes on.
        (empty || (await fedLines(live, DEMO_RECORDING)).size > 0)
          ? DEMO_RECORDING
          : undefined);
      const topics = await backend.log.describeTopics();
      io.out.write(
        [
          `hetu is up: ${backend.description}${io.prefix ? `, topic prefix ${io.prefix}` : ''}`,
          `schema registry (Confluent API): ${backend.registryUrl}`,
          `${topics.length} topics ('hetu topics'); stages running: ${processorInfos(backend)
            .map((p) => p.name)
            .join(', ')}`,
          `GraphQL API: ${server.url}/graphql (WebSocket too); ${server.url}/healthz, /readyz, /metrics`,
          web !== undefined
            ? `dashboard: ${server.url}/`
            : webRoot === null
              ? 'dashboard: not served'
              : `dashboard: not built (no ${join(webRoot, 'index.html')}): run 'npm run build:web' and restart; the API runs without it`,
          io.llm
            ? `LLM second opinion: ${describeLlmConfig(io.llm.config).status}${io.llm.pseudonymize ? ', names pseudonymised' : ''}`
            : 'LLM second opinion: not configured (HETU_LLM_BASE_URL, HETU_LLM_MODEL); root causes are the deterministic RCA',
          `projections: ${projectionsDir}. Ctrl-C stops.`,
          '',
        ].join('\n'),
      );
      io.onListening?.(server.url);
      let feeding: Promise<unknown> = Promise.resolve();
      // (with a cluster and no recording, the live clock runs since the collectors were created)
      if (recording === undefined && target === null) rawFrontier.complete(Number.POSITIVE_INFINITY); // no input comes
      if (recording !== undefined) {
        const paced = io.recording !== undefined || io.speed !== undefined;
        const speed = io.speed ?? 1;
        io.out.write(
          recording === DEMO_RECORDING && io.recording === undefined
            ? `no Kubernetes context: playing the demo recording ${DEMO_RECORDING}${paced ? ` at ${speed}× its pace` : ''}\n`
            : `feeding ${recording} at ${speed}× its pace\n`,
        );
        feeding = feedRecording(live, recording, {
          speed: paced ? speed : Infinity,
          signal: stop.signal,
          onComplete: (t: number) => rawFrontier.complete(t),
        }).then(
          (s) =>
            io.out.write(`recording fed: ${s.observations} observations, ${s.deadLetters} dead letters\n`),
          (err: unknown) => {
            io.out.write(`feeding the recording failed: ${(err as Error).message}\n`);
          },
        );
      }
      // Ready once the projections caught up; with the demo played at once, once it went through.
      const caughtUp = projections;
      const firstPipeline = pipeline;
      const readyP = (async () => {
        if (recording !== undefined && io.recording === undefined && io.speed === undefined) {
          await feeding;
          await firstPipeline.whenCaughtUp(3_600_000);
        }
        await caughtUp.whenCaughtUp(3_600_000);
      })().catch(() => undefined);
      void readyP.then(() => {
        if (!stop.signal.aborted) io.out.write('projections caught up: /readyz is ready\n');
      });
      // `hetu replay --switch` (another process) moves the stages and the API to the generation it
      // names, without a restart (docs/replay.md, "Following a switch").
      if (followMs > 0)
        follower = followSwitches({
          log: root,
          current: active,
          intervalMs: followMs,
          onPollError: pollErrorLine(io.out, followMs),
          onSwitch: async (next, previous, signal) => {
            const nextBackend: Backend = { ...opened, log: next.log };
            // The stages: the batch in hand commits, the groups are left; they start again on the
            // generation's groups and changelogs, where the replay (or their last run) stopped.
            await pipeline?.close();
            backend = nextBackend;
            pipeline = await startPipeline(nextBackend, events, gated);
            watch(pipeline);
            // The API: the generation's read models catch up while the old ones answer; then the
            // API starts again over them on the same port.
            const dir = generationProjectionsDir(cfg.dataDir, next.generation);
            const fresh = await Projections.start({
              log: nextBackend.log,
              serde: nextBackend.serde,
              dataDir: dir,
            });
            await Promise.race([fresh.whenCaughtUp(3_600_000).catch(() => undefined), aborted(signal)]);
            if (signal.aborted) {
              await fresh.close();
              return;
            }
            const onPort = Number(new URL(server!.url).port);
            await server?.close();
            const old = projections;
            projections = fresh;
            projectionsDir = dir;
            active = next;
            try {
              server = await serve(nextBackend, fresh, onPort);
              metrics.register(server.api.metrics.registry);
            } finally {
              await old?.close();
            }
            io.out.write(
              `generation switch: ${previous.generation} → ${next.generation} (hetu.meta.generations): stages restarted on the groups and changelogs of generation ${next.generation}; API answers from ${dir} at ${server.url}/graphql\n`,
            );
          },
        });
      void follower?.failed.catch(fail);
      await Promise.race([
        failed,
        new Promise<void>((resolve) => {
          if (stop.signal.aborted) resolve();
          stop.signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      ]);
      stop.abort();
      await feeding;
    } finally {
      // A switch in progress ends first (aborted); collectors and the API stop taking work at once;
      // then the readers of the log (the LLM worker first: it aborts a running call).
      await follower?.close();
      await Promise.all([...collectors.map((c) => c.close().catch(() => undefined)), server?.close()]);
      await projections?.close();
      await llmWorker?.close();
      await pipeline.close();
    }
  } finally {
    process.off('SIGINT', onProcessSignal);
    process.off('SIGTERM', onProcessSignal);
    io.signal?.removeEventListener('abort', onSignal);
    await opened.close();
    if (stoppingAt !== undefined)
      io.out.write(
        `hetu stopped in ${((performance.now() - stoppingAt) / 1000).toFixed(1)} s: committed and closed\n`,
      );
  }
}
