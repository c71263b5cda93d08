/**
 * `hetu replay`: re-runs stages over the retained input of a window into a fresh generation of
 * their output topics, verifies it, and switches readers to it (docs/replay.md).
 */
import {
  DLQ_TOPIC,
  HetuError,
  errorCode,
  ProcessorRuntime,
  avroDeadLetterEncoder,
  avroFactEncoder,
  type AnyProcessor,
  type Log,
  type LogRecord,
  type SubscribeOptions,
  type Subscription,
  type TopicInfo,
  type TopicSpec,
} from '@hetu/streams';
import { TOPICS, topicEntry, topicSpec } from '@hetu/schemas';
import { withCleaningPaused, type Backend } from '../backend.ts';
import { forgetGeneration } from '../frontiers.ts';
import { runStagesOnTwoThreads, type StageWorker } from './analyze.ts';
import { INTERNAL_FEEDS, STAGE_BATCH_RECORDS, pipelineStages } from '../stages.ts';
import { LLM_ANALYSES_TOPIC, LLM_REQUESTS_TOPIC } from '../llm.ts';
import { printRows, toJson } from '../output.ts';
import {
  EMPTY_MAPPING,
  mappedLog,
  nextGeneration,
  physicalName,
  readGenerations,
  switchGeneration,
  writeGenerationRecord,
  writePrunedRecord,
  type GenerationMapping,
  type GenerationRecord,
} from '../generations.ts';

/** The commands topic: applied from its start up to the window's end (docs/replay.md). */
const COMMANDS_TOPIC = 'hetu.commands';

/** Inclusive bounds of a replay window: event time and/or offset in every input partition. */
export interface ReplayWindow {
  readonly from: string;
  readonly to: string | null;
  readonly fromMs: number | null;
  readonly toMs: number | null;
  readonly fromOffset: bigint | null;
  readonly toOffset: bigint | null;
}

export interface ReplayProgress {
  /** A stage begins: `total` is the number of offsets its inputs span (the bar's length). */
  stage?(name: string, total: number): void;
  /** Records of the current stage read so far (`done` of `total`), and its records of the window per second. */
  records?(done: number, total: number, perSecond: number): void;
  /** Verification begins. */
  verifying?(): void;
}

export interface ReplayOptions {
  /** `--from`: an RFC3339 time, `topic:partition:offset`, an offset, or `earliest`. Not with `resume`. */
  readonly from?: string;
  /** `--to`, same forms (not `earliest`); inclusive. */
  readonly to?: string;
  /** `--processor`: stage names (default: every stage, in pipeline order). */
  readonly processors?: readonly string[];
  /** `--resume <N>`: finish an interrupted replay into generation N. */
  readonly resume?: number;
  /**
   * Switch readers to the new generation once it is verified: `true` (`--yes`), or a question
   * asked then (an interactive confirmation). Default: do not switch.
   */
  readonly switchOnSuccess?: boolean | ((report: ReplayReport) => Promise<boolean>);
  readonly progress?: ReplayProgress;
  /** Interrupts the replay (Ctrl-C): the active generation stays as it was. */
  readonly signal?: AbortSignal;
  /**
   * A stage worker opened on this embedded log (with the write lock of `backend`'s connection):
   * a replay of every stage then runs them on both threads, as `hetu analyze` does. Without it,
   * or with `--processor`, one after another on this thread.
   */
  readonly worker?: StageWorker;
  /** Wall clock for the control topic's timestamps and the rate. Default Date.now. */
  readonly now?: () => number;
}

export interface StageReport {
  readonly stage: string;
  readonly group: string;
  /** Input records of the window the stage consumed (counted again from the log). */
  readonly inWindow: number;
  /** Of those, dead-lettered (in `hetu.dlq.g<N>`). */
  readonly deadLettered: number;
  /** inWindow − deadLettered. */
  readonly processed: number;
  /** Records this run handed to the stage (less than inWindow when it resumed). */
  readonly deliveredThisRun: number;
  /** Every input partition was consumed and committed to its end. */
  readonly complete: boolean;
  readonly ok: boolean;
}

export interface OutputReport {
  readonly topic: string;
  readonly physical: string;
  readonly records: number;
  readonly keys: number;
  /** Against the same topic in the generation that was active when the replay began (fact topics). */
  readonly diff: { added: number; changed: number; removed: number; examples: string[] } | null;
}

export interface ReplayReport {
  readonly generation: number;
  readonly basedOn: number;
  readonly window: {
    from: string;
    to: string | null;
    fromMs: number | null;
    toMs: number | null;
    fromOffset: string | null;
    toOffset: string | null;
  };
  readonly stages: readonly StageReport[];
  readonly outputs: readonly OutputReport[];
  readonly verified: boolean;
  readonly bounded: boolean;
  readonly switched: boolean;
  /** The generation readers resolve through after this command. */
  readonly active: number;
  /** Wall time of the whole command, and of running the stages (before verification). */
  readonly elapsedMs: number;
  readonly runMs: number;
  /** Raw observations (records of `hetu.raw.*`) in the window the stages read, each counted once. */
  readonly observations: number;
  /** observations ÷ runMs: the replay/backfill rate. */
  readonly observationsPerSecond: number;
  /** Every record handed to a stage (raw and derived inputs) ÷ runMs. */
  readonly recordsPerSecond: number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const POSITION = /^([A-Za-z0-9._-]+):(\d+):(\d+)$/;

/**
 * Resolves `--from`/`--to`: an RFC3339 time, `topic:partition:offset` (the event time of that
 * record), a bare offset (every input partition), or `earliest` (`--from` only).
 */
export async function parseBound(
  log: Log,
  flag: '--from' | '--to',
  text: string,
): Promise<{ ms: number | null; offset: bigint | null }> {
  const t = text.trim();
  if (flag === '--from' && t === 'earliest') return { ms: null, offset: null };
  if (RFC3339.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return { ms, offset: null };
  }
  if (/^\d+$/.test(t)) return { ms: null, offset: BigInt(t) };
  const m = POSITION.exec(t);
  if (m) {
    const [, topic, partition, offset] = m as unknown as [string, string, string, string];
    const [info] = await log.describeTopics([topic]);
    const p = info?.partitions.find((x) => x.partition === Number(partition));
    const at = BigInt(offset);
    const [rec] =
      p && at >= p.low && at < p.high
        ? await log.read(topic, p.partition, { fromOffset: at, maxRecords: 1 })
        : [];
    if (!rec || rec.offset !== at)
      throw new HetuError(
        'HETU_CLI_BAD_OPTION',
        `${flag} ${t} names no retained record${p ? ` (partition ${partition} of ${topic} holds offsets ${p.low} to ${p.high - 1n})` : info ? ` (${topic} has no partition ${partition})` : ` (there is no topic ${topic})`}: give a retained position, an RFC3339 time or an offset.`,
      );
    return { ms: rec.timestamp, offset: null };
  }
  throw new HetuError(
    'HETU_CLI_BAD_OPTION',
    `${flag} ${t} is not a time, a position or an offset: give an RFC3339 time (2026-11-26T14:00:00Z), topic:partition:offset (hetu.raw.kube:0:1200), an offset (1200)${flag === '--from' ? " or 'earliest'" : ''}.`,
  );
}

export async function parseWindow(log: Log, from: string, to?: string): Promise<ReplayWindow> {
  const f = await parseBound(log, '--from', from);
  const t = to === undefined ? { ms: null, offset: null } : await parseBound(log, '--to', to);
  if (
    (f.ms !== null && t.ms !== null && t.ms < f.ms) ||
    (f.offset !== null && t.offset !== null && t.offset < f.offset)
  )
    throw new HetuError(
      'HETU_CLI_BAD_OPTION',
      `--to ${to} is before --from ${from}: give a window whose end is not before its start.`,
    );
  return { from, to: to ?? null, fromMs: f.ms, toMs: t.ms, fromOffset: f.offset, toOffset: t.offset };
}

function windowJson(w: ReplayWindow): ReplayReport['window'] {
  return {
    from: w.from,
    to: w.to,
    fromMs: w.fromMs,
    toMs: w.toMs,
    fromOffset: w.fromOffset?.toString() ?? null,
    toOffset: w.toOffset?.toString() ?? null,
  };
}

function windowOf(r: GenerationRecord['window']): ReplayWindow {
  return {
    from: r.from,
    to: r.to,
    fromMs: r.fromMs,
    toMs: r.toMs,
    fromOffset: r.fromOffset === null ? null : BigInt(r.fromOffset),
    toOffset: r.toOffset === null ? null : BigInt(r.toOffset),
  };
}

/** Whether a record of an external input is in the window (commands: everything up to its end). */
function inWindow(w: ReplayWindow, r: LogRecord): boolean {
  const commands = r.topic === COMMANDS_TOPIC;
  if (!commands && w.fromMs !== null && r.timestamp < w.fromMs) return false;
  if (w.toMs !== null && r.timestamp > w.toMs) return false;
  if (!commands && w.fromOffset !== null && r.offset < w.fromOffset) return false;
  if (w.toOffset !== null && r.offset > w.toOffset) return false;
  return true;
}

/** Topics that are input, not derived: raw observations, commands, dead letters, control topics. */
function isSource(topic: string): boolean {
  return (
    topic.startsWith('hetu.raw.') ||
    topic === COMMANDS_TOPIC ||
    topic === DLQ_TOPIC ||
    topic.startsWith('hetu.meta.') ||
    topic.startsWith('_')
  );
}

/**
 * The topics a generation holds: every catalogued fact and every derived topic a stage reads (the
 * internal feeds). The LLM worker's topics are not replayed: its answers are events a replay reads
 * back (DESIGN §3).
 */
export function derivedTopics(
  stages: readonly (readonly [string, AnyProcessor<unknown, unknown>])[] = [],
): string[] {
  const llm = new Set([LLM_ANALYSES_TOPIC, LLM_REQUESTS_TOPIC, 'hetu.facts.llm-usage']);
  const names = new Set<string>(TOPICS.filter((t) => t.stage === 'facts').map((t) => t.name));
  for (const t of INTERNAL_FEEDS) names.add(t);
  for (const [, p] of stages) for (const t of p.inputs) if (!isSource(t)) names.add(t);
  return [...names].filter((t) => !llm.has(t)).sort();
}

/** A derived topic's spec: the catalogue's, else the original topic's, else 3 partitions kept forever. */
function derivedSpec(name: string, n: number, existing: ReadonlyMap<string, TopicInfo>): TopicSpec {
  let spec: TopicSpec;
  if (topicEntry(name)) spec = topicSpec(name) as TopicSpec;
  else {
    const e = existing.get(name);
    spec = {
      name,
      partitions: e?.partitions.length || 3,
      cleanupPolicy: e && e.cleanupPolicy !== 'unknown' ? e.cleanupPolicy : 'delete',
      retentionMs: e?.retentionMs ?? -1,
    };
  }
  return { ...spec, name: physicalName(name, n) };
}

/** Counts what a stage is handed, drops what lies outside the window from its external inputs. */
function windowedLog(
  log: Log,
  window: ReplayWindow,
  external: ReadonlySet<string>,
  writable: (topic: string) => boolean,
  counts: { seen: number; delivered: number },
  onBatch: () => void,
): Log {
  return {
    ...log,
    subscribe: (options: SubscribeOptions): Promise<Subscription> =>
      log.subscribe({
        ...options,
        handler: (batch, tx) => {
          const records = batch.records.filter((r) => !external.has(r.topic) || inWindow(window, r));
          counts.seen += batch.records.length;
          counts.delivered += records.length;
          onBatch();
          return options.handler(
            { ...batch, records },
            {
              append: (topic, recs) => {
                // Never into another generation: a stage writing a topic the replay does not know is a bug.
                if (!writable(topic))
                  throw new HetuError(
                    'HETU_REPLAY_UNMAPPED_OUTPUT',
                    `Stage ${options.group} wrote to ${topic}, which is not part of the replayed generation: add it to derivedTopics (cli/src/commands/replay.ts).`,
                  );
                tx.append(topic, recs);
              },
              onCommitted: (cb) => tx.onCommitted(cb),
            },
          );
        },
      }),
  };
}

/** Offsets spanned by the inputs, per physical topic and partition: [low, high). */
async function spans(log: Log, topics: readonly string[]) {
  const out: { topic: string; partition: number; low: bigint; high: bigint }[] = [];
  for (const t of await log.describeTopics(topics))
    for (const p of t.partitions)
      out.push({ topic: t.name, partition: p.partition, low: p.low, high: p.high });
  return out;
}

async function forEachRecord(
  log: Log,
  topic: string,
  partition: number,
  from: bigint,
  to: bigint,
  fn: (r: LogRecord) => void | Promise<void>,
): Promise<void> {
  let at = from;
  while (at < to) {
    const chunk = await log.read(topic, partition, { fromOffset: at, toOffset: to, maxRecords: 10_000 });
    if (chunk.length === 0) break;
    for (const r of chunk) await fn(r);
    at = chunk[chunk.length - 1]!.offset + 1n;
  }
}

/** Newest value bytes per key of a topic (a compacted view), with the number of records read. */
async function tableBytes(log: Log, topic: string): Promise<{ records: number; rows: Map<string, Buffer> }> {
  const rows = new Map<string, Buffer>();
  let records = 0;
  for (const s of await spans(log, [topic]))
    await forEachRecord(log, s.topic, s.partition, s.low, s.high, (r) => {
      records++;
      const k = r.key?.toString('utf8') ?? '';
      if (r.value === null) rows.delete(k);
      else rows.set(k, r.value);
    });
  return { records, rows };
}

function interruptedError(stage: string): HetuError {
  return new HetuError(
    'HETU_REPLAY_INTERRUPTED',
    `The replay was interrupted during stage ${stage}: readers still use the generation they used; finish it with 'hetu replay --resume <N>' or start over.`,
  );
}

/** `work`, or HETU_REPLAY_INTERRUPTED as soon as `signal` aborts. */
async function untilAborted<T>(work: Promise<T>, stage: string, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  // Abandoned at an abort: its later failure (the stage closed under it) is nobody's to report.
  work.catch(() => undefined);
  if (signal.aborted) throw interruptedError(stage);
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(interruptedError(stage));
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * What a stage of a replay reads and writes: the generation's mapping of logical names to
 * physical topics and groups, the window, the inputs the window applies to (`external`: those not
 * rewritten by this replay) and the topics the stage may write (the generation's own). Plain data,
 * so that the stage worker can run the stage too (`StageWorker.replay`).
 */
export interface ReplayStageSpec {
  readonly mapping: GenerationMapping;
  readonly window: ReplayWindow;
  readonly external: readonly string[];
  readonly writable: readonly string[];
}

/**
 * Runs one stage of a replay to the end of its input, or until `signal` aborts it; `counts` is
 * told what it was handed, `onBatch` each batch; `tasks`: only those (the embedded log only).
 */
export async function runReplayStage(
  backend: Backend,
  processor: AnyProcessor<unknown, unknown>,
  spec: ReplayStageSpec,
  counts: { seen: number; delivered: number },
  opts: { onBatch?: () => void; tasks?: readonly number[]; signal?: AbortSignal } = {},
): Promise<void> {
  const writable = new Set(spec.writable);
  const log = windowedLog(
    mappedLog(backend.log, spec.mapping),
    spec.window,
    new Set(spec.external),
    (t) => writable.has(t),
    counts,
    opts.onBatch ?? (() => undefined),
  );
  const rt = new ProcessorRuntime({
    log,
    processor,
    encodeFact: avroFactEncoder(backend.serde),
    encodeDeadLetter: avroDeadLetterEncoder(backend.serde),
    maxBatchRecords: STAGE_BATCH_RECORDS,
    ...(opts.tasks ? { tasks: opts.tasks } : {}),
  });
  if (opts.signal?.aborted) throw interruptedError(processor.name);
  const sub = await rt.start();
  try {
    await untilAborted(sub.whenCaughtUp(3_600_000), processor.name, opts.signal);
  } finally {
    await rt.close();
  }
}

/**
 * Replays stages into a new generation (or finishes generation `resume`), verifies it, and
 * switches readers when asked and verified. The active generation changes only in that last step.
 */
export async function replayOn(backend: Backend, opts: ReplayOptions): Promise<ReplayReport> {
  // A stage reads every fact the stages before it wrote, not what a clean in between left
  // (`withCleaningPaused`, as `hetu analyze`): the generation is cleaned by later appends.
  return withCleaningPaused(backend, () => replayUnpaused(backend, opts));
}

async function replayUnpaused(backend: Backend, opts: ReplayOptions): Promise<ReplayReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const { log } = backend;
  const state = await readGenerations(log);
  const all = pipelineStages(backend);
  const names = all.map(([n]) => n);

  let n: number;
  let window: ReplayWindow;
  let chosen: string[];
  let base: GenerationMapping;
  let basedOn: number;
  let createdAt: string;
  if (opts.resume !== undefined) {
    const g = state.generations.get(opts.resume);
    if (!g)
      throw new HetuError(
        'HETU_REPLAY_UNKNOWN_GENERATION',
        `There is no generation ${opts.resume} to resume: 'hetu replay --list' shows the generations there are.`,
      );
    if (state.pruned.has(opts.resume))
      throw new HetuError(
        'HETU_REPLAY_PRUNED',
        `Generation ${opts.resume} was pruned, so it cannot be resumed: start a new replay with --from.`,
      );
    n = g.generation;
    window = windowOf(g.window);
    chosen = [...g.stages];
    base = (g as GenerationRecord & { base?: GenerationMapping }).base ?? EMPTY_MAPPING;
    basedOn = g.basedOn;
    createdAt = g.createdAt;
  } else {
    if (opts.from === undefined)
      throw new HetuError(
        'HETU_CLI_BAD_OPTION',
        "hetu replay needs --from: an RFC3339 time, topic:partition:offset, an offset, or 'earliest'.",
      );
    window = await parseWindow(log, opts.from, opts.to);
    const wanted = opts.processors?.length ? opts.processors : names;
    const unknown = wanted.filter((w) => !names.includes(w));
    if (unknown.length > 0)
      throw new HetuError(
        'HETU_CLI_BAD_OPTION',
        `--processor ${unknown.join(',')} names no stage: choose from ${names.join(', ')}.`,
      );
    chosen = names.filter((x) => wanted.includes(x));
    n = nextGeneration(state);
    base = state.active.mapping;
    basedOn = state.active.generation;
    createdAt = new Date(started).toISOString();
  }
  const bounded = window.toMs !== null || window.toOffset !== null;
  const full = chosen.length === names.length;
  const stages = all.filter(([x]) => chosen.includes(x));
  const derived = derivedTopics(all);
  const record = (
    status: GenerationRecord['status'],
    mapping: GenerationMapping,
    verification?: unknown,
  ): GenerationRecord & { base: GenerationMapping } => ({
    generation: n,
    status,
    createdAt,
    window: windowJson(window),
    stages: chosen,
    mapping,
    base,
    basedOn,
    bounded,
    ...(verification !== undefined ? { verification } : {}),
  });
  await writeGenerationRecord(log, record('running', base));

  // The generation's topics, created up front so every stage finds its inputs.
  const gen = (t: string) => physicalName(t, n);
  const existing = new Map((await log.describeTopics(derived)).map((i) => [i.name, i]));
  await log.ensureTopics([
    ...derived.map((t) => derivedSpec(t, n, existing)),
    { ...(topicSpec(DLQ_TOPIC) as TopicSpec), name: gen(DLQ_TOPIC) },
  ]);
  /** Derived topics this generation holds: all of them for a full replay, else those written. */
  const owned = async (): Promise<Set<string>> => {
    if (full) return new Set(derived);
    const infos = await log.describeTopics(derived.map(gen));
    return new Set(
      derived.filter((t) => infos.find((i) => i.name === gen(t))?.partitions.some((p) => p.high > 0n)),
    );
  };

  const counts = new Map<string, { seen: number; delivered: number }>();
  const ends = new Map<string, { log: Log; external: Set<string>; inputs: readonly string[] }>();
  let delivered = 0;
  /** What stage `name` reads and writes, given the derived topics this generation holds (`have`). */
  const specOf = (name: string, processor: AnyProcessor<unknown, unknown>, have: ReadonlySet<string>) => {
    const inputs = processor.inputs;
    const external = new Set(inputs.filter((t) => !have.has(t)));
    const topics: Record<string, string> = {};
    for (const t of derived) topics[t] = external.has(t) ? (base.topics[t] ?? t) : gen(t);
    for (const t of external) topics[t] = base.topics[t] ?? t;
    topics[processor.changelogTopic] = gen(processor.changelogTopic);
    topics[DLQ_TOPIC] = gen(DLQ_TOPIC);
    const mapping: GenerationMapping = { topics, groups: { [processor.name]: gen(processor.name) } };
    const writable = Object.keys(topics).filter((t) => topics[t] === gen(t));
    const spec: ReplayStageSpec = { mapping, window, external: [...external], writable };
    ends.set(name, { log: mappedLog(log, mapping), external, inputs });
    return spec;
  };
  const worker = opts.worker && full ? opts.worker : undefined;
  if (worker) {
    // Every derived topic is this generation's: the stages run as `hetu analyze` runs them, on
    // both threads (runStagesOnTwoThreads), each part counting what it is handed.
    const have = new Set(derived);
    const specs = new Map(stages.map(([name, p]) => [name, specOf(name, p, have)]));
    const groups: Record<string, string> = {};
    for (const [, p] of stages) groups[p.name] = gen(p.name);
    const sizes: Backend = {
      ...backend,
      log: mappedLog(log, {
        topics: Object.assign({}, ...[...specs.values()].map((x) => x.mapping.topics)),
        groups,
      }),
    };
    const running = new Map<string, { total: number; start: number }>();
    const report = () => {
      let done = 0;
      let total = 0;
      let rate = 0;
      for (const [name, r] of running) {
        const c = counts.get(name)!;
        done += c.seen;
        total += r.total;
        const elapsed = (now() - r.start) / 1000;
        if (elapsed > 0) rate += c.delivered / elapsed;
      }
      opts.progress?.records?.(done, total, rate);
    };
    const begin = async (name: string) => {
      const total = (await spans(sizes.log, stages.find(([x]) => x === name)![1].inputs)).reduce(
        (sum, p) => sum + Number(p.high - p.low),
        0,
      );
      running.set(name, { total, start: now() });
      counts.set(name, { seen: 0, delivered: 0 });
      label();
    };
    // The progress names every stage running: when one starts, and when one ends beside another.
    const label = () => {
      opts.progress?.stage?.(
        [...running.keys()].join(' + '),
        [...running.values()].reduce((a, r) => a + r.total, 0),
      );
      report();
    };
    const starting = new Map<string, Promise<void>>();
    const ready = (name: string) => {
      let p = starting.get(name);
      if (!p) starting.set(name, (p = begin(name)));
      return p;
    };
    await runStagesOnTwoThreads(
      sizes,
      stages,
      worker,
      {
        stageDone: (name) => {
          running.delete(name);
          delivered += counts.get(name)!.delivered;
          if (running.size > 0) label();
        },
      },
      true,
      {
        main: async (name, p, tasks) => {
          await ready(name);
          await runReplayStage(backend, p, specs.get(name)!, counts.get(name)!, {
            onBatch: report,
            ...(tasks ? { tasks } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          });
        },
        worker: async (name, tasks) => {
          await ready(name);
          // Ctrl-C while only the worker runs a stage: the replay stops now (the caller's closing
          // of the worker stops the stage; its batches are each committed or not at all).
          const stage = stages.find(([x]) => x === name)![1].name;
          const c = await untilAborted(worker.replay(name, specs.get(name)!, tasks), stage, opts.signal);
          const mine = counts.get(name)!;
          mine.seen += c.seen;
          mine.delivered += c.delivered;
          report();
        },
      },
    );
  } else
    for (const [name, processor] of stages) {
      const spec = specOf(name, processor, await owned());
      const c = { seen: 0, delivered: 0 };
      counts.set(name, c);
      const total = (await spans(ends.get(name)!.log, processor.inputs)).reduce(
        (sum, p) => sum + Number(p.high - p.low),
        0,
      );
      opts.progress?.stage?.(name, total);
      const stageStart = now();
      const onBatch = () => {
        const elapsed = (now() - stageStart) / 1000;
        opts.progress?.records?.(c.seen, total, elapsed > 0 ? c.delivered / elapsed : 0);
      };
      await runReplayStage(backend, processor, spec, c, {
        onBatch,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      delivered += c.delivered;
    }

  const runMs = now() - started;

  // Verify: every input partition consumed to its end, every record of the window processed or
  // dead-lettered, and what the generation holds against what readers see now.
  opts.progress?.verifying?.();
  /** In-window records per raw partition (`topic#partition`), each counted once across stages. */
  const rawCounts = new Map<string, number>();
  const scanned = new Map<string, number>();
  const deadBy = new Map<string, number>();
  const dlq = await spans(log, [gen(DLQ_TOPIC)]);
  for (const s of dlq)
    await forEachRecord(log, s.topic, s.partition, s.low, s.high, async (r) => {
      if (r.value === null) return;
      const v = (await backend.serde.decode(r.value, 'DeadLetter')) as { processor: string };
      deadBy.set(v.processor, (deadBy.get(v.processor) ?? 0) + 1);
    });
  const stageReports: StageReport[] = [];
  for (const [name, processor] of stages) {
    const e = ends.get(name)!;
    let complete = true;
    let inWin = 0;
    for (const s of await spans(e.log, e.inputs)) {
      const committed = (await e.log.committed(processor.name, s.topic)).get(s.partition) ?? s.low;
      if (s.high > s.low && committed < s.high) complete = false;
      const upTo = committed < s.high ? committed : s.high;
      const ext = e.external.has(s.topic);
      // Several stages read the same feed: count each stretch once.
      // (An external topic is the base generation's, an owned one this generation's: `ext` tells which.)
      const memoKey = `${s.topic}\u0000${s.partition}\u0000${upTo}\u0000${ext}`;
      let here = scanned.get(memoKey);
      if (here === undefined) {
        let count = 0;
        await forEachRecord(e.log, s.topic, s.partition, s.low, upTo, (r) => {
          if (!ext || inWindow(window, r)) count++;
        });
        scanned.set(memoKey, (here = count));
      }
      inWin += here;
      if (s.topic.startsWith('hetu.raw.')) rawCounts.set(`${s.topic}#${s.partition}`, here);
    }
    const dead = deadBy.get(processor.name) ?? 0;
    const c = counts.get(name)!;
    const resumed = opts.resume !== undefined;
    stageReports.push({
      stage: name,
      group: physicalName(processor.name, n),
      inWindow: inWin,
      deadLettered: dead,
      processed: inWin - dead,
      deliveredThisRun: c.delivered,
      complete,
      ok: complete && (resumed ? c.delivered <= inWin : c.delivered === inWin),
    });
  }
  const have = await owned();
  const finalTopics: Record<string, string> = { ...base.topics };
  const finalGroups: Record<string, string> = { ...base.groups };
  for (const t of have) finalTopics[t] = gen(t);
  for (const [, p] of stages) {
    finalTopics[p.changelogTopic] = gen(p.changelogTopic);
    finalGroups[p.name] = gen(p.name);
  }
  const mapping: GenerationMapping = { topics: finalTopics, groups: finalGroups };
  const outputs: OutputReport[] = [];
  for (const t of [...have].sort()) {
    const mine = await tableBytes(log, gen(t));
    const fact = t.startsWith('hetu.facts.') && topicSpec(t).cleanupPolicy.startsWith('compact');
    let diff: OutputReport['diff'] = null;
    if (fact) {
      const before = (await tableBytes(log, base.topics[t] ?? t)).rows;
      const d = { added: 0, changed: 0, removed: 0, examples: [] as string[] };
      const example = (s: string) => {
        if (d.examples.length < 5) d.examples.push(s);
      };
      for (const [k, v] of mine.rows) {
        const b = before.get(k);
        if (!b) {
          d.added++;
          example(`+ ${k}`);
        } else if (!b.equals(v)) {
          d.changed++;
          example(`~ ${k}`);
        }
      }
      for (const k of before.keys())
        if (!mine.rows.has(k)) {
          d.removed++;
          example(`- ${k}`);
        }
      diff = d;
    }
    outputs.push({ topic: t, physical: gen(t), records: mine.records, keys: mine.rows.size, diff });
  }
  const verified = stageReports.every((s) => s.ok);
  const elapsedMs = now() - started;
  const observations = [...rawCounts.values()].reduce((a, b) => a + b, 0);
  const verification = { stages: stageReports, outputs };
  await writeGenerationRecord(
    log,
    record(verified ? 'verified' : 'failed', mapping, JSON.parse(toJson(verification))),
  );
  const report: ReplayReport = {
    generation: n,
    basedOn,
    window: windowJson(window),
    stages: stageReports,
    outputs,
    verified,
    bounded,
    switched: false,
    active: state.active.generation,
    elapsedMs,
    runMs,
    observations,
    observationsPerSecond: runMs > 0 ? Math.round((observations / runMs) * 1000) : 0,
    recordsPerSecond: runMs > 0 ? Math.round((delivered / runMs) * 1000) : 0,
  };
  const ask = opts.switchOnSuccess;
  if (verified && !bounded && (ask === true || (typeof ask === 'function' && (await ask(report))))) {
    await switchGeneration(log, n, new Date(now()).toISOString());
    return { ...report, switched: true, active: n };
  }
  return report;
}

/** What `hetu replay --prune <N>` deletes (or deleted): physical topic and group names. */
export interface PrunePlan {
  readonly generation: number;
  /** Physical topics of the generation that exist on the log, sorted. */
  readonly topics: readonly string[];
  /** Physical consumer groups of the generation's stages, sorted. */
  readonly groups: readonly string[];
  /** The generation was already marked pruned (an earlier prune was interrupted). */
  readonly again: boolean;
}

export interface PruneReport extends PrunePlan {
  readonly pruned: boolean;
  readonly prunedAt: string | null;
}

/**
 * What pruning generation `n` deletes, or why it must not (docs/replay.md, "Keeping and
 * pruning"). A generation's own names are its derived topics, its stages' changelogs and groups
 * and, for n > 1, its dead letters `hetu.dlq.g<n>`. Generation 1's own names are the unsuffixed
 * derived topics, changelogs and groups: never the raw input, `hetu.commands`, `hetu.dlq` (every
 * generation's running stages write it), the LLM topics or the control topic. Refused for the
 * active generation, an unknown one, and one whose topics or groups another generation that is
 * not pruned still resolves to (a `--processor` replay reads the stages it did not re-run from
 * the generation it was based on).
 */
export async function planPrune(backend: Backend, n: number): Promise<PrunePlan> {
  const { log } = backend;
  const state = await readGenerations(log);
  if (n !== 1 && !state.generations.has(n))
    throw new HetuError(
      'HETU_REPLAY_UNKNOWN_GENERATION',
      `There is no generation ${n} to prune: 'hetu replay --list' shows the generations there are.`,
    );
  if (state.active.generation === n)
    throw new HetuError(
      'HETU_REPLAY_PRUNE_ACTIVE',
      `Generation ${n} is the one readers use, so it cannot be pruned: switch readers to another generation first ('hetu replay --switch <M>').`,
    );
  const all = pipelineStages(backend);
  const stageNames = n === 1 ? all.map(([x]) => x) : state.generations.get(n)!.stages;
  const logicalTopics = [...derivedTopics(all), ...all.map(([, p]) => p.changelogTopic)];
  const logicalGroups = all.filter(([x]) => stageNames.includes(x)).map(([, p]) => p.name);
  const candidates = [...logicalTopics, ...(n === 1 ? [] : [DLQ_TOPIC])].map((t) => physicalName(t, n));
  const existing = new Set((await log.describeTopics(candidates)).map((t) => t.name));
  const topics = candidates.filter((t) => existing.has(t)).sort();
  const groups = logicalGroups.map((g) => physicalName(g, n)).sort();

  // Another generation still resolving to one of these names would lose its input or its state.
  const mine = new Set<string>(candidates);
  const mineGroups = new Set(groups);
  const others: [number, GenerationMapping][] = [];
  if (n !== 1 && !state.pruned.has(1)) others.push([1, EMPTY_MAPPING]);
  for (const g of state.generations.values())
    if (g.generation !== n && !state.pruned.has(g.generation)) others.push([g.generation, g.mapping]);
  for (const [other, mapping] of others) {
    const topic = logicalTopics.map((t) => mapping.topics[t] ?? t).find((t) => mine.has(t));
    const group = all.map(([, p]) => mapping.groups[p.name] ?? p.name).find((g) => mineGroups.has(g));
    const used = topic ?? group;
    if (used !== undefined)
      throw new HetuError(
        'HETU_REPLAY_PRUNE_IN_USE',
        `Generation ${other} still reads ${used} of generation ${n}, so generation ${n} cannot be pruned: prune generation ${other} first, or keep generation ${n}.`,
      );
  }
  return { generation: n, topics, groups, again: state.pruned.has(n) };
}

/**
 * `hetu replay --prune <N>`: marks generation N pruned in the control topic (so nobody switches
 * to it any more), then deletes its consumer groups and its topics. `confirm` sees the plan first
 * and may cancel. Running it again finishes a prune that was interrupted.
 */
export async function pruneOn(
  backend: Backend,
  n: number,
  opts: { confirm?: (plan: PrunePlan) => Promise<boolean>; now?: () => number } = {},
): Promise<PruneReport> {
  const { log } = backend;
  const plan = await planPrune(backend, n);
  if (opts.confirm !== undefined && !(await opts.confirm(plan)))
    return { ...plan, pruned: false, prunedAt: null };
  const prunedAt = new Date((opts.now ?? Date.now)()).toISOString();
  // Pruning again (to finish an interrupted prune) keeps what the first attempt recorded.
  const before = plan.again ? (await readGenerations(log)).pruned.get(n) : undefined;
  const union = (a: readonly string[], b: readonly string[] = []) => [...new Set([...b, ...a])].sort();
  await writePrunedRecord(log, {
    generation: n,
    prunedAt: before?.prunedAt ?? prunedAt,
    topics: union(plan.topics, before?.topics),
    groups: union(plan.groups, before?.groups),
  });
  try {
    await log.deleteGroups(plan.groups);
  } catch (err) {
    if (errorCode(err) !== 'HETU_LOG_GROUP_IN_USE') throw err;
    throw new HetuError(
      'HETU_LOG_GROUP_IN_USE',
      `${(err as Error).message.replace(/:.*$/, '')} (a 'hetu start' or 'hetu run' still on generation ${n}?): stop it, then run 'hetu replay --prune ${n}' again to finish.`,
      { cause: err },
    );
  }
  await log.deleteTopics(plan.topics);
  // The stages' frontiers of that generation (hetu run's gates; cli/src/frontiers.ts) go too.
  await forgetGeneration(log, n);
  return { ...plan, pruned: true, prunedAt };
}

/** Prints what a prune deleted: JSON, or a sentence and a table of the names. */
export function printPrune(out: NodeJS.WritableStream, r: PruneReport, format: 'json' | 'table'): void {
  if (format === 'json') {
    out.write(`${toJson(r)}\n`);
    return;
  }
  if (!r.pruned) {
    out.write(`generation ${r.generation} was not pruned: nothing was deleted.\n`);
    return;
  }
  out.write(
    `pruned generation ${r.generation}: deleted ${r.topics.length} topics and ${r.groups.length} consumer groups` +
      `${r.generation === 1 ? ' (raw input, hetu.commands, hetu.dlq and the LLM topics are kept)' : ''}.\n`,
  );
  printRows(
    out,
    'table',
    ['kind', 'name'],
    [
      ...r.topics.map((name) => ({ kind: 'topic', name })),
      ...r.groups.map((name) => ({ kind: 'group', name })),
    ],
  );
}

/** `hetu replay --list`: the generations and which one readers use. */
export async function listGenerations(log: Log): Promise<Record<string, unknown>[]> {
  const state = await readGenerations(log);
  const rows: Record<string, unknown>[] = [
    {
      generation: 1,
      status: 'original',
      active: state.active.generation === 1,
      window: '',
      stages: 'all',
      createdAt: '',
    },
  ];
  if (state.pruned.has(1)) rows[0]!.status = 'pruned';
  for (const g of [...state.generations.values()].sort((a, b) => a.generation - b.generation))
    rows.push({
      generation: g.generation,
      status: state.pruned.has(g.generation) ? 'pruned' : g.bounded ? `${g.status} (bounded)` : g.status,
      active: state.active.generation === g.generation,
      window: `${g.window.from} … ${g.window.to ?? 'end'}`,
      stages: g.stages.join(','),
      createdAt: g.createdAt,
    });
  return rows;
}

/** Prints a replay's report: JSON, or a summary with a table per stage and per output. */
export function printReplay(out: NodeJS.WritableStream, r: ReplayReport, format: 'json' | 'table'): void {
  if (format === 'json') {
    out.write(`${toJson(r)}\n`);
    return;
  }
  out.write(
    `generation ${r.generation} (from generation ${r.basedOn}), window ${r.window.from} … ${r.window.to ?? 'end'}: ` +
      `${r.verified ? 'verified' : 'NOT verified'}; ${r.observations} observations in ${Math.round(r.runMs / 100) / 10} s ` +
      `(${r.observationsPerSecond} observations/s, ${r.recordsPerSecond} stage records/s), verified in ${Math.round((r.elapsedMs - r.runMs) / 100) / 10} s\n`,
  );
  printRows(
    out,
    'table',
    ['stage', 'group', 'inWindow', 'processed', 'deadLettered', 'deliveredThisRun', 'complete', 'ok'],
    r.stages as unknown as Record<string, unknown>[],
  );
  printRows(
    out,
    'table',
    ['topic', 'physical', 'records', 'keys', 'added', 'changed', 'removed'],
    r.outputs.map((o) => ({
      topic: o.topic,
      physical: o.physical,
      records: o.records,
      keys: o.keys,
      added: o.diff?.added ?? '',
      changed: o.diff?.changed ?? '',
      removed: o.diff?.removed ?? '',
    })),
  );
  const next = r.switched
    ? `readers now use generation ${r.generation}; roll back with 'hetu replay --switch ${r.basedOn}'.`
    : !r.verified
      ? `readers still use generation ${r.active}: the replay did not verify (see the table above).`
      : r.bounded
        ? `readers still use generation ${r.active}: a window with --to is for inspection (read ${r.outputs[0]?.physical ?? 'its topics'} with 'hetu tail').`
        : `readers still use generation ${r.active}; switch with 'hetu replay --switch ${r.generation}'.`;
  out.write(`${next}\n`);
}
