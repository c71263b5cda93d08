import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  HetuError,
  START_RETRY_MS,
  retryTransient,
  type AppendRecord,
  type AnyProcessor,
} from '@hetu/streams';
import { readRecordingBatches } from '@hetu/producers/recording';
import { severityRank, type IncidentSeverity } from '@hetu/processors/incidents';
import { parseGlobalConfig } from '../config.ts';
import { createCatalogueTopics, openBackend, withCleaningPaused, type Backend } from '../backend.ts';
import { toJson } from '../output.ts';
import { recordingDeadLetter } from '../recording-dead-letter.ts';
import {
  inputRecords,
  recordsByTask,
  internalFeedSpecs,
  pipelineStages,
  recordOf,
  runStage,
  stageDependencies,
} from '../stages.ts';
import {
  LLM_ANALYSES_TOPIC,
  llmFieldOf,
  llmRequestsStage,
  requestedKeys,
  runLlmStages,
  type LlmSetup,
} from '../llm.ts';
import type { FromWorker, ToWorker } from './stage-worker.ts';
import type { ReplayStageSpec } from './replay.ts';
import { packBatch } from './ingest-batch.ts';

export interface AnalyzeProgress {
  /** Bytes of the recording read so far, of the total. */
  ingest?(read: number, total: number): void;
  /** A stage started. */
  stage?(name: string): void;
  /** A stage finished (with two threads, two stages may run at once). */
  stageDone?(name: string): void;
  /** A stage runs in two parts at once: its tasks `onThis` on this thread, `onWorker` on the other. */
  split?(name: string, onThis: readonly number[], onWorker: readonly number[]): void;
  /** Records a stage has folded so far, of about `total` in its inputs (after each batch). */
  records?(name: string, done: number, total: number): void;
}

export interface AnalyzeSummary {
  observations: number;
  deadLetters: number;
  deadLettersByReason: Record<string, number>;
}

/** Reads a compacted topic to its newest value per key, decoded. */
export async function table(backend: Backend, topic: string): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const [info] = await backend.log.describeTopics([topic]);
  if (!info) return out;
  const name = recordOf(topic);
  for (const p of info.partitions) {
    let from = p.low;
    while (from < p.high) {
      const chunk = await backend.log.read(topic, p.partition, { fromOffset: from, maxRecords: 10_000 });
      if (chunk.length === 0) break;
      for (const r of chunk) {
        const key = r.key?.toString('utf8') ?? '';
        if (r.value === null) out.delete(key);
        else out.set(key, (await backend.serde.decode(r.value, name)) as unknown as Record<string, unknown>);
      }
      from = chunk[chunk.length - 1]!.offset + 1n;
    }
  }
  return out;
}

const iso = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

/**
 * `hetu analyze <recording>`: replays a recording through every stage on a fresh embedded log, as
 * fast as it can, and returns the final facts in the shape documented in docs/analyze-output.md.
 * Each stage runs over finished input (so the result depends only on the recording); stages that
 * do not depend on each other run at the same time on two threads (`threads`, default 2: this
 * thread and a worker with its own connection to the log), which derives the same facts as one
 * thread running them one after another.
 */
export async function analyze(
  recording: string,
  opts: {
    dataDir?: string;
    progress?: AnalyzeProgress;
    llm?: LlmSetup;
    threads?: 1 | 2;
    /** Default: `off` (no fsync) for the temporary log, `normal` for one in `dataDir`, which is kept. */
    durability?: 'normal' | 'off';
    /**
     * Whether the stages write their changelogs. Default: not for the temporary log (no stage runs
     * on it again, so nothing would ever restore from them), yes in `dataDir` (`hetu start` may).
     */
    changelogs?: boolean;
    /**
     * Appends per partition between cleans of the log (`EmbeddedLogOptions.cleanEvery`), on both
     * threads: for tests of a log that would clean often. The stages pause cleaning anyway.
     */
    cleanEvery?: number;
  } = {},
): Promise<{ summary: AnalyzeSummary; result: Record<string, unknown> }> {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hetu-analyze-'));
  // A log deleted at the end needs no fsync (EmbeddedLogOptions.durability); one in --data-dir is kept.
  const durability = opts.durability ?? (opts.dataDir === undefined ? 'off' : 'normal');
  const changelogs = opts.changelogs ?? opts.dataDir !== undefined;
  // Started first: the worker loads its modules while this thread reads the recording.
  const worker = (opts.threads ?? 2) === 2 ? new StageWorker() : undefined;
  // The two threads' connections take turns at writing through this lock (EmbeddedLogOptions).
  const writeLock = new SharedArrayBuffer(4);
  try {
    // Time retention off: the stages read the whole recording, however long (EmbeddedLogOptions).
    const backend = await openBackend(parseGlobalConfig({ dataDir: dir, output: 'json' }, {}), {
      ...(worker ? { writeLock } : {}),
      durability,
      timeRetention: false,
      ...(opts.cleanEvery !== undefined ? { cleanEvery: opts.cleanEvery } : {}),
    });
    try {
      if (!worker) return await analyzeOn(backend, recording, opts.progress, opts.llm, changelogs);
      // No clean on this thread's connection while the stages run, as in analyzeOn (the worker's
      // never cleans): a kept log is cleaned by the next append.
      return await withCleaningPaused(backend, async () => {
        await createAnalysisTopics(backend);
        // This thread reads and encodes the recording, the worker's connection appends it: the
        // worker handles its messages in order, so the batches follow the open (and wait while it
        // loads its modules) without this thread waiting for it.
        const opened = worker.open(dir, writeLock, durability, changelogs, opts.cleanEvery);
        opened.catch(() => undefined); // awaited below, after the ingest
        const summary = await ingest(backend, recording, opts.progress, (topic, records) =>
          worker.append(topic, records),
        );
        await opened;
        await worker.appended();
        // Without an LLM the requests stage is one more stage of the graph; with one, it runs in
        // rounds with the LLM worker after the others (runLlmStages).
        const stages = analysisStages(backend, opts.llm === undefined);
        await runStagesOnTwoThreads(backend, stages, worker, opts.progress, changelogs);
        if (opts.llm !== undefined) await runLlmStages(backend, opts.llm, opts.progress);
        return { summary, result: await collect(backend, summary, opts.llm !== undefined) };
      });
    } finally {
      await backend.close();
    }
  } finally {
    await worker?.close();
    if (!opts.dataDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The stages of `hetu analyze`, in pipeline order; with `llmRequests`, the LLM requests stage last. */
export function analysisStages(
  backend: Backend,
  llmRequests: boolean,
): [string, AnyProcessor<unknown, unknown>][] {
  const stages = pipelineStages(backend);
  if (llmRequests) stages.push(llmRequestsStage(backend));
  return stages;
}

/** The worker's error, with its code (else `code`) and stack, as if it had been thrown on this thread. */
function workerError(m: Extract<FromWorker, { type: 'failed' }>, code: string): HetuError {
  const err = new HetuError(m.code ?? code, m.message);
  if (m.stack) err.stack = m.stack;
  return err;
}

/** Batches of the recording the worker may hold not yet appended (`StageWorker.append`). */
const APPEND_AHEAD = 64;

/** The stage worker thread (stage-worker.ts), one request at a time. */
export class StageWorker {
  private readonly worker: Worker;
  private pending: { expect: FromWorker['type']; resolve: () => void; reject: (e: unknown) => void } | null =
    null;
  private failure: unknown;
  /** Batches posted to `append` and not appended yet. */
  private appending = 0;
  /** Called when a batch was appended (or the worker failed): `append` and `appended` wait on it. */
  private onAppended: (() => void) | null = null;
  /** Told the running stage's progress. */
  onRecords: ((stage: string, done: number, total: number) => void) | undefined;
  /** What the last replay stage was handed (`replay`). */
  private counts = { seen: 0, delivered: 0 };

  constructor() {
    this.worker = new Worker(new URL('./stage-worker.ts', import.meta.url));
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'records') {
        this.onRecords?.(m.stage, m.done, m.total);
        return;
      }
      if (m.type === 'appended') {
        this.appending--;
        this.wakeAppender();
        return;
      }
      if (m.type === 'failed' && this.appending > 0) {
        // The ingest fails with it (and an `open` waiting, when that is what failed).
        const err = workerError(m, 'HETU_ANALYZE_INGEST_FAILED');
        this.failure ??= err;
        this.wakeAppender();
        const p = this.pending;
        this.pending = null;
        p?.reject(err);
        return;
      }
      const p = this.pending;
      if (!p) return;
      this.pending = null;
      if (m.type === 'done' && m.counts) this.counts = m.counts;
      if (m.type === p.expect) p.resolve();
      else if (m.type === 'failed') {
        // The worker's error, with its code, as if the stage had failed on this thread.
        const err = workerError(m, 'HETU_ANALYZE_STAGE_FAILED');
        // A worker that could not open cannot append either: the ingest's next batch throws this.
        if (p.expect === 'ready') this.failure ??= err;
        p.reject(err);
      } else p.reject(new Error(`The stage worker answered ${m.type}, not ${p.expect}.`));
    });
    const gone = (err: unknown) => {
      this.failure ??= err;
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
      this.wakeAppender();
    };
    this.worker.on('error', gone);
    this.worker.on('exit', (code) => gone(new Error(`The stage worker exited (code ${code}).`)));
  }

  private ask(message: ToWorker, expect: FromWorker['type']): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('The stage worker is busy.'));
    return new Promise((resolve, reject) => {
      this.pending = { expect, resolve, reject };
      this.worker.postMessage(message);
    });
  }

  /** `changelogs` false: the worker's stages write none (`runStage`); `cleanEvery`: tests. */
  open(
    dataDir: string,
    writeLock: SharedArrayBuffer,
    durability: 'normal' | 'off',
    changelogs = true,
    cleanEvery?: number,
  ): Promise<void> {
    return this.ask(
      {
        type: 'open',
        dataDir,
        writeLock,
        durability,
        changelogs,
        ...(cleanEvery !== undefined ? { cleanEvery } : {}),
      },
      'ready',
    );
  }

  private wakeAppender(): void {
    const wake = this.onAppended;
    this.onAppended = null;
    wake?.();
  }

  /** Resolves when the worker appended a batch or failed. */
  private nextAppended(): Promise<void> {
    return new Promise((resolve) => (this.onAppended = resolve));
  }

  /**
   * Hands a batch of `topic` to the worker's connection (open first), which appends the batches in
   * the order given; waits while `APPEND_AHEAD` batches are not appended yet, so a reader faster
   * than the log does not pile the recording up in memory. Throws the worker's failure.
   */
  async append(topic: string, records: readonly AppendRecord[]): Promise<void> {
    while (this.failure === undefined && this.appending >= APPEND_AHEAD) await this.nextAppended();
    if (this.failure !== undefined) throw this.failure;
    const batch = packBatch(records);
    this.appending++;
    this.worker.postMessage({ type: 'append', topic, batch } satisfies ToWorker, [batch]);
  }

  /** Waits until every batch handed to `append` is in the log; throws the worker's failure. */
  async appended(): Promise<void> {
    while (this.failure === undefined && this.appending > 0) await this.nextAppended();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Runs `stage` to the end of its input; `tasks`: only those. */
  run(stage: string, tasks?: readonly number[]): Promise<void> {
    return this.ask({ type: 'run', stage, ...(tasks ? { tasks: [...tasks] } : {}) }, 'done');
  }

  /**
   * Runs `stage` of a replay (`hetu replay`, commands/replay.ts) on the generation's topics that
   * `spec` names, to the end of its input; `tasks`: only those. Resolves with what it was handed.
   */
  async replay(
    stage: string,
    spec: ReplayStageSpec,
    tasks?: readonly number[],
  ): Promise<{ seen: number; delivered: number }> {
    this.counts = { seen: 0, delivered: 0 };
    await this.ask({ type: 'replay', stage, spec, ...(tasks ? { tasks: [...tasks] } : {}) }, 'done');
    return this.counts;
  }

  async close(): Promise<void> {
    if (this.failure === undefined) await this.ask({ type: 'close' }, 'closed').catch(() => undefined);
    await this.worker.terminate();
  }
}

/**
 * How `runStagesOnTwoThreads` runs a stage (part) on each thread, when not as `hetu analyze` does
 * (`hetu replay` runs them on a generation's topics, counting what each is handed).
 */
export interface StageRunner {
  main(name: string, p: AnyProcessor<unknown, unknown>, tasks?: readonly number[]): Promise<void>;
  worker(name: string, tasks?: readonly number[]): Promise<void>;
}

/**
 * Runs the stages on this thread and the worker, each as soon as the stages it depends on
 * (`stageDependencies`) are done; a free thread takes the ready stage with the most input. When
 * both threads are free and one stage alone is ready, its tasks are split between them
 * (`splitTasks`), so neither idles beside it. If a stage fails, no other starts and the failure is
 * thrown. `changelogs` false: this thread's stages write none (the worker's: as it was opened).
 */
export async function runStagesOnTwoThreads(
  backend: Backend,
  stages: readonly [string, AnyProcessor<unknown, unknown>][],
  worker: StageWorker,
  progress?: AnalyzeProgress,
  changelogs = true,
  runner?: StageRunner,
): Promise<void> {
  type Thread = 'main' | 'worker';
  const deps = stageDependencies(stages);
  // A split stage's progress is the sum of its two parts'.
  const parts = new Map<string, Map<Thread, { done: number; total: number }>>();
  const report = (thread: Thread, stage: string, done: number, total: number) => {
    const mine = parts.get(stage);
    if (!mine) return progress?.records?.(stage, done, total);
    mine.set(thread, { done, total });
    let d = 0;
    let t = 0;
    for (const p of mine.values()) [d, t] = [d + p.done, t + p.total];
    progress?.records?.(stage, d, t);
  };
  worker.onRecords = (stage, done, total) => report('worker', stage, done, total);
  const onMain = {
    records: (stage: string, done: number, total: number) => report('main', stage, done, total),
  };
  const done = new Set<string>();
  const started = new Set<string>();
  /** Parts of a started stage still running. */
  const left = new Map<string, number>();
  const running = new Map<Thread, Promise<Thread>>();
  let failure: { err: unknown } | undefined;
  const start = (thread: Thread, name: string, p: AnyProcessor<unknown, unknown>, tasks?: number[]) => {
    if (!started.has(name)) {
      started.add(name);
      progress?.stage?.(name);
    }
    left.set(name, (left.get(name) ?? 0) + 1);
    const run =
      thread === 'main'
        ? (runner?.main(name, p, tasks) ?? runWithProgress(backend, name, p, onMain, tasks, changelogs))
        : (runner?.worker(name, tasks) ?? worker.run(name, tasks));
    running.set(
      thread,
      run.then(
        () => {
          const n = left.get(name)! - 1;
          left.set(name, n);
          if (n === 0) {
            done.add(name);
            progress?.stageDone?.(name);
          }
          return thread;
        },
        (err: unknown) => {
          failure ??= { err };
          return thread;
        },
      ),
    );
  };
  const ready = () => stages.filter(([n]) => !started.has(n) && [...deps.get(n)!].every((d) => done.has(d)));
  while (done.size < stages.length && failure === undefined) {
    const candidates = ready();
    const split =
      running.size === 0 && candidates.length === 1
        ? splitTasks(candidates[0]![1], await recordsByTask(backend, candidates[0]![1]))
        : undefined;
    if (split) {
      const [name, p] = candidates[0]!;
      parts.set(name, new Map());
      start('main', name, p, split[0]);
      start('worker', name, p, split[1]);
      progress?.split?.(name, split[0], split[1]);
    } else
      for (const thread of ['main', 'worker'] as const) {
        if (running.has(thread)) continue;
        // Of the ready stages, the one with the most input first (the longest, most likely): the
        // other thread then runs the shorter ones beside it. Ties: pipeline order.
        let next: [string, AnyProcessor<unknown, unknown>] | undefined;
        let most = -1;
        for (const candidate of ready()) {
          const size = await inputRecords(backend, candidate[1]);
          if (size > most) [next, most] = [candidate, size];
        }
        if (next) start(thread, next[0], next[1]);
      }
    if (running.size === 0) throw new Error('No stage can run: the stage dependencies have a cycle.');
    running.delete(await Promise.race(running.values()));
  }
  // After a failure, the stage still running on this thread ends first (it shares the log
  // connection); one on the worker is not waited for: closing the worker stops it.
  await running.get('main');
  if (failure) throw failure.err;
}

/**
 * How a stage's tasks split between two threads, or undefined when they do not: a single-task
 * stage, or one whose input is all in one task. Each thread takes whole tasks (partition numbers),
 * the biggest first to the one with fewer records. Which thread runs which task changes nothing
 * the stage derives: a task's batches, state and outputs are its own, its facts go to its own
 * partition (the runtime refuses any other, HETU_RUNTIME_TASK_SPLIT), and the two threads commit
 * different partitions of the group.
 */
export function splitTasks(
  processor: { readonly singleTask?: boolean },
  byTask: ReadonlyMap<number, number>,
): [number[], number[]] | undefined {
  if (processor.singleTask === true) return undefined;
  const tasks = [...byTask].sort(([a, x], [b, y]) => y - x || a - b);
  if (tasks.filter(([, n]) => n > 0).length < 2) return undefined;
  const halves: [number[], number[]] = [[], []];
  const sizes = [0, 0];
  for (const [task, n] of tasks) {
    const i = sizes[0]! <= sizes[1]! ? 0 : 1;
    halves[i]!.push(task);
    sizes[i]! += n;
  }
  return [halves[0]!.sort((a, b) => a - b), halves[1]!.sort((a, b) => a - b)];
}

/**
 * `hetu analyze` on a given backend (the embedded log, or a Kafka namespace in tests): ingests the
 * recording into empty raw topics and runs the stages one after another, each to the end; then
 * the LLM requests stage and, when an LLM is configured (`llm`), the LLM worker (docs/llm.md).
 */
export async function analyzeOn(
  backend: Backend,
  recording: string,
  progress?: AnalyzeProgress,
  llm?: LlmSetup,
  changelogs = true,
): Promise<{ summary: AnalyzeSummary; result: Record<string, unknown> }> {
  return withCleaningPaused(backend, async () => {
    await createAnalysisTopics(backend);
    const summary = await ingest(backend, recording, progress);
    await runStages(backend, progress, changelogs);
    await runLlmStages(backend, llm, progress, changelogs);
    return { summary, result: await collect(backend, summary, llm !== undefined) };
  });
}

/** The catalogue's topics and the cluster feed `hetu analyze` replays into. */
export async function createAnalysisTopics(backend: Backend): Promise<void> {
  await createCatalogueTopics(backend.log);
  await backend.log.ensureTopics(internalFeedSpecs(-1));
}

/**
 * Runs every stage to the end of its input, one after another. Each resumes from its committed
 * position, so after a crash this finishes the work and derives the same facts (with `changelogs`,
 * the default: without them, a stage's state cannot be restored).
 */
export async function runStages(
  backend: Backend,
  progress?: AnalyzeProgress,
  changelogs = true,
): Promise<void> {
  for (const [name, p] of pipelineStages(backend)) {
    progress?.stage?.(name);
    await runWithProgress(backend, name, p, progress, undefined, changelogs);
    progress?.stageDone?.(name);
  }
}

/** `runStage` (on `tasks` only, when given), telling `progress.records` how far it got (on either thread). */
export async function runWithProgress(
  backend: Backend,
  name: string,
  p: AnyProcessor<unknown, unknown>,
  progress: Pick<AnalyzeProgress, 'records'> | undefined,
  tasks?: readonly number[],
  changelog = true,
): Promise<void> {
  const records = progress?.records;
  if (!records) return runStage(backend, p, undefined, tasks, changelog);
  const total = await retryTransient(() => inputRecords(backend, p, tasks), START_RETRY_MS);
  let done = 0;
  await runStage(backend, p, (info) => records(name, (done += info.records), total), tasks, changelog);
}

/**
 * Reads the recording into the raw topics (and its refused lines into the DLQ), in batches of up to
 * 2 000 records per topic. `append` writes a batch (default: this thread's log); on two threads
 * the worker's connection writes them (`StageWorker.append`) while this thread reads and encodes
 * the next. The batches and their order are the same either way, so the log is too.
 */
export async function ingest(
  backend: Backend,
  path: string,
  progress?: AnalyzeProgress,
  append: (topic: string, records: AppendRecord[]) => Promise<unknown> = (topic, records) =>
    backend.log.append(topic, records),
): Promise<AnalyzeSummary> {
  const total = statSync(path).size;
  const batches = new Map<string, AppendRecord[]>();
  const dead: AppendRecord[] = [];
  const byReason: Record<string, number> = {};
  let observations = 0;
  const flush = async () => {
    for (const [topic, records] of batches) if (records.length) await append(topic, records.splice(0));
    if (dead.length) await append('hetu.dlq', dead.splice(0));
  };
  const serde = backend.serde;
  for await (const items of readRecordingBatches(path, {
    onProgress: (read: number) => progress?.ingest?.(read, total),
  }))
    for (const item of items) {
      if (item.kind === 'observation') {
        observations++;
        const name = recordOf(item.topic);
        const value =
          serde.encodeKnown(item.topic, name, item.value as never) ??
          (await serde.encode(item.topic, name, item.value as never));
        let list = batches.get(item.topic);
        if (!list) batches.set(item.topic, (list = []));
        list.push({ key: Buffer.from(item.key), value, timestamp: (item.value as { ts: number }).ts });
        if (list.length >= 2000) await append(item.topic, list.splice(0));
      } else {
        byReason[item.reasonCode] = (byReason[item.reasonCode] ?? 0) + 1;
        dead.push(await recordingDeadLetter(backend, path, item));
      }
    }
  await flush();
  return {
    observations,
    deadLetters: Object.values(byReason).reduce((a, b) => a + b, 0),
    deadLettersByReason: byReason,
  };
}

function ref(v: unknown): { kind: unknown; namespace: unknown; name: unknown } | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return { kind: o.kind, namespace: o.namespace ?? null, name: o.name };
}

async function collect(
  backend: Backend,
  summary: AnalyzeSummary,
  llmConfigured: boolean,
): Promise<Record<string, unknown>> {
  const analyses = await table(backend, LLM_ANALYSES_TOPIC);
  const requested = await requestedKeys(backend);
  const llmOf = (cluster: unknown, kind: 'incident' | 'error-group', id: unknown) =>
    llmFieldOf(analyses, requested, llmConfigured, String(cluster), kind, String(id));
  const scores = [...(await table(backend, 'hetu.facts.scores')).values()]
    .filter((s) => !s.noData)
    .map((s) => ({
      cluster: s.cluster,
      scope: s.scope,
      overall: s.overall,
      level: s.level,
      reliability: s.reliability,
      security: s.security,
      cost: s.cost,
      architecture: s.architecture,
      deductions: ((s.deductions as Record<string, unknown>[]) ?? []).map((d) => ({
        dimension: d.dimension,
        rule: d.rule,
        points: d.points,
        count: d.count,
        resources: ((d.resources as Record<string, unknown>[]) ?? []).map((r) => ({
          kind: r.kind,
          namespace: r.namespace ?? null,
          name: r.name,
        })),
      })),
    }))
    .sort(
      (a, b) =>
        String(a.cluster).localeCompare(String(b.cluster)) || String(a.scope).localeCompare(String(b.scope)),
    );
  // Error groups name their workload; its kind comes from the pods that belong to it.
  const kinds = new Map<string, unknown>();
  for (const p of (await table(backend, 'hetu.facts.pod-health')).values()) {
    const w = p.workload as { kind: string; namespace: string; name: string } | null;
    if (w) kinds.set(`${String(p.cluster)}/${w.namespace}/${w.name}`, w.kind);
  }
  const errorGroups = [...(await table(backend, 'hetu.facts.error-groups')).values()]
    .map((g) => ({
      cluster: g.cluster,
      id: g.id,
      fingerprint: g.fingerprint,
      faultKey: g.faultKey,
      workload: {
        kind: kinds.get(`${String(g.cluster)}/${String(g.namespace)}/${String(g.workload)}`) ?? null,
        namespace: g.namespace,
        name: g.workload,
      },
      title: g.title,
      reason: g.reason,
      level: g.level,
      count: num(g.count),
      firstSeen: iso(g.firstSeen),
      lastSeen: iso(g.lastSeen),
      status: g.status,
      spike: g.spike,
      llm: llmOf(g.cluster, 'error-group', g.id),
    }))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const anomalies = [...(await table(backend, 'hetu.facts.anomalies')).values()]
    .map((e) => ({
      cluster: e.cluster,
      id: e.id,
      metric: e.metric,
      labels: e.labels,
      status: e.status,
      openedAt: iso(e.openedAt),
      closedAt: iso(e.closedAt),
      peakZ: e.peakZ,
      peakSeverity: e.peakSeverity,
    }))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const rca = await table(backend, 'hetu.facts.rca');
  const incidents = [...(await table(backend, 'hetu.facts.incidents')).entries()]
    .map(([key, i]) => {
      const r = rca.get(key);
      return {
        id: i.id,
        cluster: i.cluster,
        title: i.title,
        severity: i.severity,
        status: i.status,
        openedAt: iso(i.openedAt),
        resolvedAt: iso(i.resolvedAt),
        signals: ((i.signals as Record<string, unknown>[]) ?? []).map((s) => ({
          source: s.source,
          kind: s.kind,
          severity: s.severity,
          resource: ref(s.resource),
          count: num(s.count),
          firstSeen: iso(s.firstSeen),
          lastSeen: iso(s.lastSeen),
        })),
        rca: r
          ? {
              category: r.category,
              rootCause: ref(r.rootCause),
              summary: r.summary,
              confidence: r.confidence,
              chain: ((r.chain as Record<string, unknown>[]) ?? []).map((c) => c.step),
              evidence: ((r.evidence as Record<string, unknown>[]) ?? []).map((e) => ({
                id: e.id,
                type: e.type,
                ts: iso(e.ts),
                excerpt: e.excerpt,
                position: e.topic ? { topic: e.topic, partition: e.partition, offset: num(e.offset) } : null,
              })),
              remediation: ((r.remediation as Record<string, unknown>[]) ?? []).map((m) => ({
                step: m.step,
                risk: m.risk,
                automatable: m.automatable,
                effort: m.effort,
              })),
            }
          : null,
        llm: llmOf(i.cluster, 'incident', i.id),
      };
    })
    .sort(
      (a, b) =>
        String(a.openedAt).localeCompare(String(b.openedAt)) || String(a.id).localeCompare(String(b.id)),
    );
  const recommendations = [...(await table(backend, 'hetu.facts.recommendations')).values()]
    .map((r) => ({
      cluster: r.cluster,
      id: r.id,
      type: r.type,
      target: r.target,
      severity: r.severity,
      title: r.title,
      status: r.status,
      patch: r.patch,
      savings: r.savings,
    }))
    .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  return {
    summary: {
      observations: summary.observations,
      deadLetters: summary.deadLetters,
      deadLettersByReason: summary.deadLettersByReason,
    },
    scores,
    errorGroups,
    anomalies,
    incidents,
    recommendations,
  };
}

/** Prints the result: JSON (stable, byte-identical for the same recording) or a readable summary. */
export function printAnalysis(
  out: NodeJS.WritableStream,
  result: Record<string, unknown>,
  json: boolean,
): void {
  if (json) {
    out.write(`${toJson(result)}\n`);
    return;
  }
  const r = result as {
    summary: AnalyzeSummary;
    scores: {
      scope: string;
      overall: number;
      level: string;
      reliability: number;
      security: number;
      cost: number;
      architecture: number;
    }[];
    errorGroups: {
      title: string;
      count: number;
      reason: string;
      level: string;
      status: string;
      spike: boolean;
      workload: { kind: string; namespace: string; name: string } | null;
    }[];
    anomalies: unknown[];
    incidents: {
      title: string;
      severity: string;
      status: string;
      rca: {
        category: string;
        rootCause: { kind: string; namespace: string; name: string } | null;
        summary: string;
      } | null;
      llm?: { status: string; reason?: string; message?: string; analysis?: { summary?: string } | null };
    }[];
    recommendations: { title: string; severity: string }[];
  };
  const lines: string[] = [];
  lines.push(`observations ${r.summary.observations}, dead letters ${r.summary.deadLetters}`);
  const score = (s: (typeof r.scores)[number]) =>
    `score ${s.scope}: ${s.overall} (${s.level}) — reliability ${s.reliability}, security ${s.security}, cost ${s.cost}, architecture ${s.architecture}`;
  for (const s of r.scores.filter((x) => x.scope === 'cluster')) lines.push(score(s));
  // The namespaces worst first, the incidents that matter first: what a person reads at 3 a.m.;
  // --json has all of them, in the order of docs/analyze-output.md.
  const namespaces = r.scores
    .filter((x) => x.scope.startsWith('namespace:'))
    .sort((a, b) => a.overall - b.overall || (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  for (const s of namespaces.slice(0, SUMMARY_NAMESPACES)) lines.push(score(s));
  if (namespaces.length > SUMMARY_NAMESPACES)
    lines.push(
      `  … ${namespaces.length - SUMMARY_NAMESPACES} more namespaces (the lowest scores are above; --json lists every score)`,
    );
  const active = r.incidents.filter((i) => i.status === 'open' || i.status === 'investigating');
  const causes = new Map<string, number>();
  for (const i of r.incidents) {
    const c = i.rca?.category ?? 'none';
    causes.set(c, (causes.get(c) ?? 0) + 1);
  }
  lines.push(
    `${r.incidents.length} incidents, ${active.length} active` +
      (r.incidents.length === 0
        ? ''
        : `; root causes: ${[...causes]
            .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}` + (r.incidents.length > 1 ? ' — active first, most severe first:' : ':')),
  );
  const rank = (i: (typeof r.incidents)[number]) =>
    [
      i.status === 'open' || i.status === 'investigating' ? 0 : 1,
      -severityRank(i.severity as IncidentSeverity),
    ] as const;
  const ordered = r.incidents
    .map((i, n) => ({ i, n }))
    .sort((a, b) => {
      const [x1, x2] = rank(a.i);
      const [y1, y2] = rank(b.i);
      return x1 - y1 || x2 - y2 || b.n - a.n; // then the later opened first
    })
    .map(({ i }) => i);
  for (const i of ordered.slice(0, SUMMARY_INCIDENTS)) {
    lines.push(
      `  [${i.severity}/${i.status}] ${i.title}${i.rca ? ` — ${i.rca.category}: ${i.rca.summary}` : ''}`,
    );
    const llm = i.llm;
    if (llm && llm.status !== 'not-configured')
      lines.push(
        `    llm ${llm.status}: ${llm.status === 'recorded' ? (llm.analysis?.summary ?? '') : (llm.message ?? llm.reason ?? '')}`,
      );
  }
  if (ordered.length > SUMMARY_INCIDENTS)
    lines.push(`  … ${ordered.length - SUMMARY_INCIDENTS} more incidents (--json lists every incident)`);
  // The open error groups with the most events: what the incidents' app errors point at.
  const groups = r.errorGroups
    .map((g, n) => ({ g, n }))
    .filter(({ g }) => g.status !== 'resolved' && g.status !== 'ignored')
    .sort((a, b) => b.g.count - a.g.count || a.n - b.n)
    .slice(0, SUMMARY_ERROR_GROUPS)
    .map(({ g }) => g);
  if (groups.length > 0) {
    lines.push(`most frequent open error groups:`);
    for (const g of groups)
      lines.push(
        `  ${g.count} × [${g.level}${g.spike ? ', spiking' : ''}] ${g.workload ? `${g.workload.namespace}/${g.workload.name}` : '?'}: ${g.title}`,
      );
  }
  lines.push(
    `${r.errorGroups.length} error groups, ${r.anomalies.length} anomaly episodes, ${r.recommendations.length} recommendations`,
  );
  out.write(`${lines.join('\n')}\n`);
}

/** How many namespace scores and incidents the readable summary shows (--json: all). */
const SUMMARY_NAMESPACES = 10;
const SUMMARY_INCIDENTS = 20;
const SUMMARY_ERROR_GROUPS = 5;
