/**
 * The `errors` processor (SPEC §4): raw log lines → stitched occurrences → fingerprints → error
 * groups, published as facts on the compacted topic `hetu.facts.error-groups`; user commands
 * (resolve, ignore, reopen, merge, split) read from `hetu.commands`. See docs/error-processor.md.
 *
 * Per task (one partition number of the co-partitioned inputs) the state is one `Stitcher`, one
 * `Fingerprinter` and one `ErrorGroupsState`, kept in the changelog `hetu.state.errors` as small
 * keyed records (one per pending container, per template cluster, per group; see the doc).
 */
import type { Command, LogLineObserved } from '@hetu/schemas';
import {
  HetuError,
  type FactRecord,
  type LogRecord,
  type StatefulContext,
  type StatefulProcessor,
  andThen,
} from '@hetu/streams';
import { toErrorGroupRecord } from './error-group-record.ts';
import {
  ErrorGroupsState,
  type ErrorCommand,
  type ErrorGroupsChange,
  type ErrorGroupsConfig,
  type ErrorLevel,
  type ErrorOccurrence,
  type StateRecord,
  type StateRecordValue,
  type StepResult,
} from './groups/index.ts';
import {
  KeyedFingerprinter,
  KeyedStitcher,
  type ClusterRecord,
  type ContainerInfo,
  type PendingRecord,
} from './keyed-parse-state.ts';
import {
  detect,
  messageText,
  parseOccurrence,
  type Completed,
  type MinerOptions,
  type StitcherOptions,
} from './parse/index.ts';

export const ERRORS_PROCESSOR = 'errors';
export const RAW_LOGS_TOPIC = 'hetu.raw.logs';
export const COMMANDS_TOPIC = 'hetu.commands';
export const ERRORS_CHANGELOG_TOPIC = 'hetu.state.errors';
export const ERROR_GROUPS_TOPIC = 'hetu.facts.error-groups';

/** Command types this processor applies: `error-group.<verb>`. */
export const ERROR_GROUP_COMMAND_PREFIX = 'error-group.';
export const UNKNOWN_COMMAND = 'HETU_INPUT_UNKNOWN_COMMAND';
export const INVALID_COMMAND = 'HETU_INPUT_INVALID_COMMAND';
export const INVALID_LOG = 'HETU_INPUT_INVALID_LOG';

/**
 * An occurrence's position for the group state: the offset of the log record that completed it,
 * shifted left by this many bits, plus the index of the occurrence among those that record
 * completed. Unique and strictly increasing per partition, so the state's duplicate check never
 * drops a real occurrence, and `offset = position >> 20` recovers the record.
 */
export const POSITION_SUB_BITS = 20n;

/** Changelog keys. */
export const META_KEY = 'errors:meta';
export const STITCH_KEY_PREFIX = 'stitch:';
export const CLUSTER_KEY_PREFIX = 'cluster:';
export const GROUPS_KEY_PREFIX = 'groups:';

export interface ErrorsProcessorConfig {
  readonly groups?: Partial<ErrorGroupsConfig>;
  readonly stitcher?: Partial<StitcherOptions>;
  readonly miner?: Partial<MinerOptions>;
}

export interface ErrorsProcessorDeps {
  /** Decodes a `hetu.raw.logs` record (Avro through the serde in production). */
  decodeLog(record: LogRecord): Promise<LogLineObserved> | LogLineObserved;
  /** Decodes a `hetu.commands` record. */
  decodeCommand(record: LogRecord): Promise<Command> | Command;
  readonly config?: ErrorsProcessorConfig;
}

/** What `decodeInput` hands to the fold. */
export type ErrorsInput =
  | { readonly kind: 'log'; readonly log: LogLineObserved }
  | { readonly kind: 'command'; readonly command: ErrorCommand }
  /** A command for another kind of target (`incident.*`, `rca.*`, …): not ours, skipped. */
  | { readonly kind: 'other-command'; readonly type: string };

interface MetaRecord {
  readonly v: 1;
  /** Largest event time of a log record applied, or null. */
  readonly logWatermark: number | null;
  /** The template miner's creation counter. */
  readonly minerSeq: number;
  /** Commands rejected by the group state (unknown group, …), for status. */
  readonly rejectedCommands: number;
}

function inputError(code: string, message: string): HetuError {
  return new HetuError(code, message);
}

/** The state of one task. Restored lazily: changelog records are collected, then built once. */
export class ErrorsTaskState {
  readonly config: ErrorsProcessorConfig;
  private restoring: Map<string, Buffer | null> | undefined = new Map();
  private stitch: KeyedStitcher | undefined;
  private fp: KeyedFingerprinter | undefined;
  private groupsState: ErrorGroupsState | undefined;
  logWatermark: number | null = null;
  rejectedCommands = 0;

  constructor(config: ErrorsProcessorConfig) {
    this.config = config;
  }

  /** Collects one changelog record (restore). */
  collect(key: string, value: Buffer | null): void {
    if (this.restoring === undefined) throw new Error('errors processor: restore after the first input.');
    this.restoring.set(key, value);
  }

  private ready(): void {
    const records = this.restoring;
    if (records === undefined) return;
    this.restoring = undefined;
    const json = <T>(b: Buffer): T => JSON.parse(b.toString('utf8')) as T;
    const pending: PendingRecord[] = [];
    const clusters: ClusterRecord[] = [];
    const groups: StateRecord[] = [];
    let meta: MetaRecord | undefined;
    for (const [key, value] of records) {
      if (value === null) continue;
      if (key === META_KEY) meta = json<MetaRecord>(value);
      else if (key.startsWith(STITCH_KEY_PREFIX)) pending.push(json<PendingRecord>(value));
      else if (key.startsWith(CLUSTER_KEY_PREFIX)) clusters.push(json<ClusterRecord>(value));
      else if (key.startsWith(GROUPS_KEY_PREFIX)) {
        groups.push({ key: key.slice(GROUPS_KEY_PREFIX.length), value: json<StateRecordValue>(value) });
      }
    }
    this.logWatermark = meta?.logWatermark ?? null;
    this.rejectedCommands = meta?.rejectedCommands ?? 0;
    this.stitch = KeyedStitcher.restore(this.config.stitcher ?? {}, pending);
    this.fp = KeyedFingerprinter.restore(this.config.miner ?? {}, meta?.minerSeq ?? 0, clusters);
    this.groupsState = ErrorGroupsState.restore(groups, this.config.groups ?? {});
  }

  get stitcher(): KeyedStitcher {
    this.ready();
    return this.stitch as KeyedStitcher;
  }

  get fingerprinter(): KeyedFingerprinter {
    this.ready();
    return this.fp as KeyedFingerprinter;
  }

  get groups(): ErrorGroupsState {
    this.ready();
    return this.groupsState as ErrorGroupsState;
  }

  /** The changelog value of a key (null deletes it). */
  snapshot(key: string): Buffer | null {
    const out = (v: unknown): Buffer | null => (v === null ? null : Buffer.from(JSON.stringify(v)));
    if (key === META_KEY) {
      const meta: MetaRecord = {
        v: 1,
        logWatermark: this.logWatermark,
        minerSeq: this.fingerprinter.seq,
        rejectedCommands: this.rejectedCommands,
      };
      return out(meta);
    }
    if (key.startsWith(STITCH_KEY_PREFIX))
      return out(this.stitcher.record(key.slice(STITCH_KEY_PREFIX.length)));
    if (key.startsWith(CLUSTER_KEY_PREFIX)) {
      return out(this.fingerprinter.record(key.slice(CLUSTER_KEY_PREFIX.length)));
    }
    if (key.startsWith(GROUPS_KEY_PREFIX)) {
      return out(this.groups.exportRecord(key.slice(GROUPS_KEY_PREFIX.length)).value);
    }
    return null;
  }
}

/** Level of a grouped occurrence: detect's level after raising (never below warn here). */
function occurrenceLevel(level: string): ErrorLevel {
  switch (level) {
    case 'fatal':
    case 'panic':
    case 'error':
    case 'warn':
      return level;
    default:
      return 'error';
  }
}

function stringOf(v: unknown): v is string {
  return typeof v === 'string';
}

/** Maps a `Command` record to an error-group command, or says it is not ours. */
export function toErrorsInput(c: Command): ErrorsInput {
  if (!stringOf(c.type) || !c.type.startsWith(ERROR_GROUP_COMMAND_PREFIX)) {
    return { kind: 'other-command', type: String(c.type) };
  }
  const verb = c.type.slice(ERROR_GROUP_COMMAND_PREFIX.length);
  const ids = Array.isArray(c.targetIds) ? c.targetIds.filter(stringOf) : [];
  if (!stringOf(c.id) || c.id.length === 0) throw inputError(INVALID_COMMAND, `Command ${c.type} has no id.`);
  if (typeof c.ts !== 'number' || !Number.isFinite(c.ts)) {
    throw inputError(INVALID_COMMAND, `Command ${c.id} (${c.type}) has no valid ts.`);
  }
  const base = { commandId: c.id, ts: c.ts };
  const first = ids[0];
  switch (verb) {
    case 'resolve':
    case 'ignore':
    case 'reopen':
    case 'split': {
      if (first === undefined || ids.length !== 1) {
        throw inputError(
          INVALID_COMMAND,
          `Command ${c.id} (${c.type}) must name exactly one group in targetIds.`,
        );
      }
      return { kind: 'command', command: { ...base, type: verb, group: first } };
    }
    case 'merge': {
      let payload: unknown;
      try {
        payload = JSON.parse(c.payload === '' ? '{}' : c.payload);
      } catch {
        throw inputError(INVALID_COMMAND, `Command ${c.id} (${c.type}) has a payload that is not JSON.`);
      }
      const named = (payload as { target?: unknown } | null)?.target;
      const target = stringOf(named) ? named : first;
      const sources = ids.filter((id) => id !== target);
      if (target === undefined || sources.length === 0) {
        throw inputError(
          INVALID_COMMAND,
          `Command ${c.id} (${c.type}) must name a target and at least one other group (targetIds, or payload.target).`,
        );
      }
      return { kind: 'command', command: { ...base, type: 'merge', target, sources } };
    }
    default:
      throw inputError(
        UNKNOWN_COMMAND,
        `Command ${c.id} has type ${JSON.stringify(c.type)}: the errors processor knows error-group.resolve, ignore, reopen, merge and split.`,
      );
  }
}

function checkLog(l: LogLineObserved): LogLineObserved {
  const ok =
    typeof l === 'object' &&
    l !== null &&
    typeof l.ts === 'number' &&
    Number.isFinite(l.ts) &&
    stringOf(l.cluster) &&
    stringOf(l.namespace) &&
    stringOf(l.pod) &&
    stringOf(l.container) &&
    stringOf(l.line);
  if (!ok) throw inputError(INVALID_LOG, 'Log record lacks ts, cluster, namespace, pod, container or line.');
  return l;
}

/** The `errors` processor. */
export function errorsProcessor(deps: ErrorsProcessorDeps): StatefulProcessor<ErrorsInput, ErrorsTaskState> {
  const config = deps.config ?? {};
  const maxKeys = KeyedStitcher.create(config.stitcher ?? {}).stitcher.options.maxKeys;
  if (BigInt(maxKeys) + 2n >= 1n << POSITION_SUB_BITS) {
    throw new RangeError(
      `errors processor: stitcher maxKeys must be below ${(1n << POSITION_SUB_BITS) - 2n}.`,
    );
  }
  return {
    name: ERRORS_PROCESSOR,
    inputs: [RAW_LOGS_TOPIC, COMMANDS_TOPIC],
    changelogTopic: ERRORS_CHANGELOG_TOPIC,
    // Without a promise when the decoder answers at once.
    decodeInput(record: LogRecord): Promise<ErrorsInput> | ErrorsInput {
      if (record.topic === COMMANDS_TOPIC) {
        const command = deps.decodeCommand(record);
        return andThen(command, toErrorsInput);
      }
      const log = deps.decodeLog(record);
      return andThen(log, (l): ErrorsInput => ({ kind: 'log', log: checkLog(l) }));
    },
    init: () => new ErrorsTaskState(config),
    restore: (state, key, value) => state.collect(key, value),
    process(state, input, ctx) {
      if (input.kind === 'other-command') return;
      const facts = new FactBuffer();
      if (input.kind === 'command') {
        const r = state.groups.applyCommand({
          ...input.command,
          source: {
            topic: ctx.source.topic,
            partition: ctx.source.partition,
            offset: ctx.source.offset.toString(),
          },
        });
        if (r.outcome === 'rejected') {
          state.rejectedCommands++;
          ctx.changed(META_KEY);
        }
        facts.add(r, ctx);
      } else processLog(state, input.log, ctx, facts);
      facts.emit(ctx);
    },
    snapshot: (state, key) => state.snapshot(key),
  };
}

/** Group changes of one input record, coalesced per group id (the last change wins). */
class FactBuffer {
  private readonly byId = new Map<string, ErrorGroupsChange>();

  add(r: StepResult, ctx: StatefulContext): void {
    for (const k of r.stateKeys) ctx.changed(GROUPS_KEY_PREFIX + k);
    for (const c of r.changes) {
      if (c.type === 'upsert') this.byId.set(c.group.id, c);
      else if (c.type === 'delete') this.byId.set(c.id, c);
      // Faults are not published here: see docs/error-processor.md ("Faults").
    }
  }

  emit(ctx: StatefulContext): void {
    for (const id of [...this.byId.keys()].sort()) {
      const c = this.byId.get(id) as Extract<ErrorGroupsChange, { type: 'upsert' } | { type: 'delete' }>;
      // Keyed `<cluster>/<group id>`, so a stage can re-key a cluster's facts without their values.
      const fact: FactRecord =
        c.type === 'upsert'
          ? { key: `${c.group.cluster}/${id}`, value: toErrorGroupRecord(c.group), timestamp: ctx.timestamp }
          : { key: `${c.cluster}/${id}`, value: null, timestamp: ctx.timestamp };
      ctx.emit(ERROR_GROUPS_TOPIC, fact);
    }
  }
}

function processLog(
  state: ErrorsTaskState,
  log: LogLineObserved,
  ctx: StatefulContext,
  facts: FactBuffer,
): void {
  const st = state.stitcher;
  const info: ContainerInfo = {
    cluster: log.cluster,
    namespace: log.namespace,
    workload: stringOf(log.workload) && log.workload.length > 0 ? log.workload : log.pod,
    pod: log.pod,
    container: log.container,
  };
  const key = `${log.cluster}/${log.namespace}/${log.pod}/${log.container}`;
  const completed: Completed[] = [];
  // A gap marker is no line: it is not grouped. (Stitcher has no per-key flush; see the doc.)
  if (!log.gap) {
    completed.push(...st.stitcher.push({ key, ts: log.ts, line: log.line }));
    st.pushed(key, info);
    ctx.changed(STITCH_KEY_PREFIX + key);
  }
  const advanced = state.logWatermark === null || log.ts > state.logWatermark;
  if (advanced) {
    state.logWatermark = log.ts;
    ctx.changed(META_KEY);
    completed.push(...st.stitcher.flush(log.ts));
  }
  let sub = 0n;
  const base = ctx.source.offset << POSITION_SUB_BITS;
  for (const c of completed) {
    ctx.changed(STITCH_KEY_PREFIX + c.key);
    const who = st.info(c.key) ?? (c.key === key ? info : undefined);
    if (who !== undefined) {
      const position = {
        topic: ctx.source.topic,
        partition: ctx.source.partition,
        offset: (base + sub).toString(),
      };
      sub++;
      groupOccurrence(state, c, who, position, ctx, facts);
    }
  }
  for (const c of completed) st.settle(c.key);
  if (advanced) facts.add(state.groups.advanceWatermark(log.ts), ctx);
}

function groupOccurrence(
  state: ErrorsTaskState,
  c: Completed,
  who: ContainerInfo,
  source: ErrorOccurrence['source'],
  ctx: StatefulContext,
  facts: FactBuffer,
): void {
  const parsed = parseOccurrence(c.lines);
  const d = detect(parsed);
  if (d.kind === 'none') return;
  const kfp = state.fingerprinter;
  const fp = kfp.fingerprinter.fingerprint(parsed, d);
  if (fp.frames === undefined) {
    // A template cluster was used (stack fingerprints do not touch the miner).
    for (const id of kfp.touched(fp.fingerprint)) ctx.changed(CLUSTER_KEY_PREFIX + id);
    ctx.changed(META_KEY);
  }
  const message = messageText(parsed);
  const firstLine = message.split('\n', 1)[0] ?? '';
  const exceptionType = fp.exceptionType ?? parsed.errorType;
  const occurrence: ErrorOccurrence = {
    ts: c.ts,
    cluster: who.cluster,
    namespace: who.namespace,
    workload: who.workload,
    pod: who.pod,
    container: who.container,
    fingerprint: fp.fingerprint,
    template: fp.template,
    title: firstLine.length > 0 ? firstLine : fp.template,
    level: occurrenceLevel(d.level),
    reason: d.reason ?? 'warning',
    message,
    source,
    ...(exceptionType !== undefined ? { exceptionType } : {}),
    ...(parsed.stack !== undefined && parsed.stack.length > 0 ? { stack: parsed.stack } : {}),
    ...(parsed.url !== undefined ? { url: parsed.url } : {}),
    ...(parsed.requestId !== undefined ? { requestId: parsed.requestId } : {}),
    ...(parsed.traceId !== undefined ? { traceId: parsed.traceId } : {}),
  };
  facts.add(state.groups.applyOccurrence(occurrence), ctx);
}
