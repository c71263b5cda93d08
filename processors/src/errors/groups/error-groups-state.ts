/**
 * The error-group state (SPEC §4 "Group state", §9 bounds) as a deterministic fold.
 *
 * One `ErrorGroupsState` instance is the state of one processor instance. Its three transitions —
 * `applyOccurrence`, `applyCommand`, `advanceWatermark` — update the instance in place and return
 * what they changed; they read no clock, do no I/O and use no randomness, so the same inputs in the
 * same order give the same changes, byte for byte. `exportRecords` / `restoreErrorGroupsState`
 * turn the state into keyed records and back, so a restored instance continues exactly like the
 * one that was never interrupted.
 */
import { resolveErrorGroupsConfig } from './config.ts';
import type { ErrorGroupsConfig } from './config.ts';
import {
  MINUTE_MS,
  ZERO_COUNTERS,
  addToBucket,
  bucketInWindow,
  countersAt,
  emptyBuckets,
  isSpike,
  minuteBucketOf,
  pruneBuckets,
  sameCounters,
  sumCounters,
} from './counters.ts';
import type { MinuteBuckets, RateCounters } from './counters.ts';
import { LruHeap } from './lru-heap.ts';
import {
  COMMANDS_STATE_KEY,
  ERROR_GROUPS_RESTORE_INVALID,
  GROUP_STATE_KEY_PREFIX,
  META_STATE_KEY,
  groupStateKey,
} from './records.ts';
import type { GroupStateRecord, StateRecord, StateRecordValue } from './records.ts';
import { cut, errorGroupId, isErrorLevel, sampleScore, severityRank } from './rules.ts';
import type {
  ErrorCommand,
  ErrorGroup,
  ErrorGroupStatus,
  ErrorGroupsChange,
  ErrorLevel,
  ErrorOccurrence,
  ErrorSample,
  Fault,
  FaultWorkload,
  GroupDeleteReason,
  MergeCommand,
  OccurrenceSummary,
  SourcePosition,
  SplitCommand,
  StepOutcome,
  StepResult,
} from './types.ts';

/** Sizes of the state, to check the bounds hold (and for metrics). */
export interface ErrorGroupsStats {
  readonly groups: number;
  /** Groups merged into another one (counted in `groups`). */
  readonly mergedGroups: number;
  readonly faults: number;
  /** Groups with at least one minute bucket inside the 24 h window. */
  readonly activeGroups: number;
  readonly heapEntries: number;
  readonly occurrencesStored: number;
  readonly maxOccurrencesPerGroup: number;
  readonly bucketsStored: number;
  readonly maxBucketsPerGroup: number;
  readonly positions: number;
  readonly commandIds: number;
}

/** Internal record of one group. Fields after `mergedInto` are derived (not in the changelog). */
interface GroupRec {
  readonly id: string;
  readonly fingerprint: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  readonly title: string;
  readonly exceptionType: string | null;
  readonly reason: string;
  level: ErrorLevel;
  firstSeen: number;
  lastSeen: number;
  lastPod: string;
  lastContainer: string;
  lastUrl: string | null;
  lastUrlTs: number | null;
  count: number;
  status: ErrorGroupStatus;
  regressed: boolean;
  regressedAt: number | null;
  resolvedAt: number | null;
  statusChangedAt: number | null;
  best: ErrorSample | null;
  bestScore: number;
  ring: OccurrenceSummary[];
  buckets: MinuteBuckets;
  mergedInto: string | null;
  /** Merged children, sorted (only on a group with mergedInto null). */
  children: string[];
  /** The latest lastSeen over the group and its children (what the LRU order and TTL use). */
  famLastSeen: number;
  /** Own counters at the current evaluation instant. */
  own: RateCounters;
  /** Published (rolled-up) counters: equal to the roll-up at the current instant after each step. */
  pub: RateCounters;
}

/** What one transition touched; turned into changes by `finish`. */
class Step {
  /** Groups whose record must be published (if they still exist). */
  readonly forced = new Set<string>();
  /** Groups whose counters may have changed: published only if the roll-up differs. */
  readonly check = new Set<string>();
  /** For groups created or deleted in this step: did they exist when the step began? */
  readonly existedBefore = new Map<string, boolean>();
  readonly deleteReason = new Map<string, GroupDeleteReason>();
  /** Cluster of each deleted group, for the delete change (its fact key carries the cluster). */
  readonly deleteCluster = new Map<string, string>();
  /** Fault keys touched, with whether the fault existed when the step began. */
  readonly faults = new Map<string, boolean>();
  /** Changelog keys touched. */
  readonly keys = new Set<string>();

  noteExistence(id: string, existed: boolean): void {
    if (!this.existedBefore.has(id)) this.existedBefore.set(id, existed);
  }
}

const EMPTY_RESULT_DUPLICATE: StepResult = Object.freeze({
  outcome: 'duplicate',
  changes: Object.freeze([]) as readonly ErrorGroupsChange[],
  stateKeys: Object.freeze([]) as readonly string[],
});

const OFFSET_RE = /^(0|[1-9][0-9]{0,18})$/;

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validPosition(p: unknown): p is SourcePosition {
  if (typeof p !== 'object' || p === null) return false;
  const { topic, partition, offset } = p as Record<string, unknown>;
  return (
    typeof topic === 'string' &&
    topic.length > 0 &&
    typeof partition === 'number' &&
    Number.isSafeInteger(partition) &&
    partition >= 0 &&
    typeof offset === 'string' &&
    OFFSET_RE.test(offset)
  );
}

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

function occurrenceProblem(o: ErrorOccurrence): string | undefined {
  if (typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return 'ts is not a finite number';
  for (const f of ['cluster', 'namespace', 'workload', 'fingerprint'] as const) {
    if (typeof o[f] !== 'string' || o[f].length === 0) return `${f} is missing or empty`;
  }
  for (const f of ['pod', 'container', 'template', 'title', 'reason', 'message'] as const) {
    if (typeof o[f] !== 'string') return `${f} is not a string`;
  }
  if (!isErrorLevel(o.level)) return `level ${JSON.stringify(o.level)} is not one of the known levels`;
  for (const f of ['exceptionType', 'stack', 'url', 'requestId', 'traceId'] as const) {
    if (!optionalString(o[f])) return `${f} is not a string`;
  }
  return undefined;
}

function nonEmpty(s: string | undefined): string | null {
  return s === undefined || s.length === 0 ? null : s;
}

function restoreError(message: string): Error {
  return Object.assign(new Error(`error-groups restore: ${message}`), { code: ERROR_GROUPS_RESTORE_INVALID });
}

export class ErrorGroupsState {
  readonly config: ErrorGroupsConfig;
  private wm: number | null = null;
  /** Minute bucket of the evaluation instant (ceil(watermark / 60 000)). */
  private ek: number | null = null;
  private readonly recs = new Map<string, GroupRec>();
  private readonly faultIndex = new Map<string, Set<string>>();
  private readonly active = new Set<string>();
  private readonly heap = new LruHeap();
  private readonly positions = new Map<string, Map<number, bigint>>();
  private readonly commandIds: string[] = [];
  private readonly commandIdSet = new Set<string>();

  constructor(config: Partial<ErrorGroupsConfig> = {}) {
    this.config = resolveErrorGroupsConfig(config);
  }

  /** The largest event time applied (ms), or null before the first input. */
  get watermark(): number | null {
    return this.wm;
  }

  /** The instant the rate counters are evaluated at (watermark rounded up to a minute), or null. */
  get countersAt(): number | null {
    return this.ek === null ? null : this.ek * MINUTE_MS;
  }

  /** Number of group records (merged children included). */
  get size(): number {
    return this.recs.size;
  }

  /** The published view of one group, or undefined. */
  group(id: string): ErrorGroup | undefined {
    const g = this.recs.get(id);
    return g === undefined ? undefined : this.view(g, g.pub);
  }

  /** Every group's view, sorted by id (merged children included: filter on `mergedInto`). */
  groups(): ErrorGroup[] {
    return [...this.recs.keys()].sort(byString).map((id) => this.view(this.rec(id), this.rec(id).pub));
  }

  fault(faultKey: string): Fault | undefined {
    return this.faultIndex.has(faultKey) ? this.faultView(faultKey) : undefined;
  }

  faults(): Fault[] {
    return [...this.faultIndex.keys()].sort(byString).map((k) => this.faultView(k));
  }

  stats(): ErrorGroupsStats {
    let mergedGroups = 0;
    let occurrencesStored = 0;
    let maxOccurrencesPerGroup = 0;
    let bucketsStored = 0;
    let maxBucketsPerGroup = 0;
    for (const g of this.recs.values()) {
      if (g.mergedInto !== null) mergedGroups++;
      occurrencesStored += g.ring.length;
      maxOccurrencesPerGroup = Math.max(maxOccurrencesPerGroup, g.ring.length);
      bucketsStored += g.buckets.keys.length;
      maxBucketsPerGroup = Math.max(maxBucketsPerGroup, g.buckets.keys.length);
    }
    let positions = 0;
    for (const parts of this.positions.values()) positions += parts.size;
    return {
      groups: this.recs.size,
      mergedGroups,
      faults: this.faultIndex.size,
      activeGroups: this.active.size,
      heapEntries: this.heap.size,
      occurrencesStored,
      maxOccurrencesPerGroup,
      bucketsStored,
      maxBucketsPerGroup,
      positions,
      commandIds: this.commandIds.length,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions

  /**
   * Folds one occurrence in. First the watermark moves up to its time (if later), with everything
   * `advanceWatermark` does; then the occurrence is counted in its group (created if new), which
   * reopens a resolved group as regressed when the occurrence is later than the resolve time.
   */
  applyOccurrence(o: ErrorOccurrence): StepResult {
    const step = new Step();
    if (!validPosition(o.source))
      return this.finish(step, 'rejected', 'source position is missing or malformed');
    if (this.isApplied(o.source)) return EMPTY_RESULT_DUPLICATE;
    this.recordPosition(o.source, step);
    const problem = occurrenceProblem(o);
    if (problem !== undefined) return this.finish(step, 'rejected', problem);
    this.advance(o.ts, step);
    if ((this.wm as number) - o.ts >= this.config.groupTtlMs) {
      return this.finish(step, 'expired', 'older than the group TTL at the watermark');
    }
    this.fold(o, step);
    return this.finish(step, 'applied');
  }

  /**
   * Applies a user command. Commands do not move the watermark; their `ts` is the resolve time.
   * Status commands on a merged child act on the group it was merged into.
   */
  applyCommand(c: ErrorCommand): StepResult {
    const step = new Step();
    if (c.source !== undefined) {
      if (!validPosition(c.source)) return this.finish(step, 'rejected', 'source position is malformed');
      if (this.isApplied(c.source)) return EMPTY_RESULT_DUPLICATE;
      this.recordPosition(c.source, step);
    }
    if (typeof c.commandId !== 'string' || c.commandId.length === 0) {
      return this.finish(step, 'rejected', 'commandId is missing');
    }
    if (this.commandIdSet.has(c.commandId)) return this.finish(step, 'duplicate');
    this.rememberCommand(c.commandId, step);
    if (typeof c.ts !== 'number' || !Number.isFinite(c.ts)) {
      return this.finish(step, 'rejected', 'ts is not a finite number');
    }
    switch (c.type) {
      case 'resolve':
      case 'ignore':
      case 'reopen': {
        const g = this.recs.get(c.group);
        if (g === undefined) return this.finish(step, 'rejected', `unknown group ${JSON.stringify(c.group)}`);
        this.setStatus(this.rootOf(g), c.type, c.ts, step);
        return this.finish(step, 'applied');
      }
      case 'merge':
        return this.merge(c, step);
      case 'split':
        return this.split(c, step);
      default:
        return this.finish(
          step,
          'rejected',
          `unknown command type ${JSON.stringify((c as { type: unknown }).type)}`,
        );
    }
  }

  /**
   * Moves the watermark forward to `ts` (no-op when not later). Deletes every group family whose
   * lastSeen is at least the TTL before the new watermark, and when the evaluation minute changes
   * recomputes the rate counters, sparkline and spike of every group with recent occurrences;
   * groups whose published values changed are upserted.
   */
  advanceWatermark(ts: number): StepResult {
    const step = new Step();
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      return this.finish(step, 'rejected', 'watermark is not a finite number');
    }
    this.advance(ts, step);
    return this.finish(step, 'applied');
  }

  // ---------------------------------------------------------------------------------------------
  // Changelog

  /** The current record of one changelog key (value null when the key holds nothing). */
  exportRecord(key: string): StateRecord {
    return { key, value: this.recordValue(key) };
  }

  /** The whole state as records: meta, commands, then groups sorted by id. */
  exportRecords(): StateRecord[] {
    const out: StateRecord[] = [this.exportRecord(META_STATE_KEY), this.exportRecord(COMMANDS_STATE_KEY)];
    for (const id of [...this.recs.keys()].sort(byString)) out.push(this.exportRecord(groupStateKey(id)));
    return out;
  }

  /**
   * Rebuilds a state from changelog records, in log order: a later record of a key replaces an
   * earlier one and a null value deletes it (compaction may or may not have happened).
   */
  static restore(records: Iterable<StateRecord>, config: Partial<ErrorGroupsConfig> = {}): ErrorGroupsState {
    const latest = new Map<string, StateRecordValue | null>();
    for (const r of records) latest.set(r.key, r.value);
    const s = new ErrorGroupsState(config);
    const meta = latest.get(META_STATE_KEY);
    if (meta !== undefined && meta !== null) {
      if (meta.kind !== 'meta' || meta.v !== 1) throw restoreError('record "meta" is not a v1 meta record');
      s.wm = meta.watermark;
      s.ek = meta.watermark === null ? null : minuteBucketOf(meta.watermark);
      for (const p of meta.positions) {
        if (!validPosition(p)) throw restoreError(`malformed position ${JSON.stringify(p)}`);
        let parts = s.positions.get(p.topic);
        if (parts === undefined) s.positions.set(p.topic, (parts = new Map()));
        parts.set(p.partition, BigInt(p.offset));
      }
    }
    const commands = latest.get(COMMANDS_STATE_KEY);
    if (commands !== undefined && commands !== null) {
      if (commands.kind !== 'commands' || commands.v !== 1) {
        throw restoreError('record "commands" is not a v1 commands record');
      }
      for (const id of commands.ids) {
        s.commandIds.push(id);
        s.commandIdSet.add(id);
      }
    }
    const groupKeys = [...latest.keys()].filter((k) => k.startsWith(GROUP_STATE_KEY_PREFIX)).sort(byString);
    for (const key of groupKeys) {
      const v = latest.get(key);
      if (v === null || v === undefined) continue;
      if (v.kind !== 'group' || v.v !== 1 || groupStateKey(v.id) !== key) {
        throw restoreError(`record ${JSON.stringify(key)} is not a v1 group record of that id`);
      }
      if (s.ek === null) throw restoreError('group records without a watermark');
      s.recs.set(v.id, s.fromRecord(v));
    }
    for (const g of s.recs.values()) {
      if (g.mergedInto === null) continue;
      const root = s.recs.get(g.mergedInto);
      if (root === undefined || root.mergedInto !== null) {
        throw restoreError(`group ${g.id} is merged into ${g.mergedInto}, which is not a top-level group`);
      }
      root.children.push(g.id);
    }
    for (const g of s.recs.values()) {
      let idx = s.faultIndex.get(g.fingerprint);
      if (idx === undefined) s.faultIndex.set(g.fingerprint, (idx = new Set()));
      idx.add(g.id);
      if (g.mergedInto !== null) continue;
      g.children.sort(byString);
      g.famLastSeen = g.lastSeen;
      for (const c of g.children) g.famLastSeen = Math.max(g.famLastSeen, s.rec(c).lastSeen);
      s.heap.push(g.famLastSeen, g.id);
    }
    for (const g of s.recs.values()) g.pub = s.rollUp(g);
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private rec(id: string): GroupRec {
    const g = this.recs.get(id);
    if (g === undefined) throw new Error(`error-groups: internal inconsistency, no group ${id}`);
    return g;
  }

  private rootOf(g: GroupRec): GroupRec {
    return g.mergedInto === null ? g : this.rec(g.mergedInto);
  }

  private isApplied(p: SourcePosition): boolean {
    const last = this.positions.get(p.topic)?.get(p.partition);
    return last !== undefined && BigInt(p.offset) <= last;
  }

  private recordPosition(p: SourcePosition, step: Step): void {
    let parts = this.positions.get(p.topic);
    if (parts === undefined) this.positions.set(p.topic, (parts = new Map()));
    parts.set(p.partition, BigInt(p.offset));
    step.keys.add(META_STATE_KEY);
  }

  private rememberCommand(id: string, step: Step): void {
    this.commandIds.push(id);
    this.commandIdSet.add(id);
    while (this.commandIds.length > this.config.recentCommandIds) {
      this.commandIdSet.delete(this.commandIds.shift() as string);
    }
    step.keys.add(COMMANDS_STATE_KEY);
  }

  private advance(ts: number, step: Step): void {
    if (this.wm !== null && ts <= this.wm) return;
    this.wm = ts;
    step.keys.add(META_STATE_KEY);
    this.expire(step);
    const ek = minuteBucketOf(ts);
    if (ek !== this.ek) {
      this.ek = ek;
      this.recompute(step);
    }
  }

  /** Deletes the families whose lastSeen is at least the TTL before the watermark. */
  private expire(step: Step): void {
    if (this.wm === null) return;
    for (;;) {
      const top = this.validTop();
      if (top === undefined || this.wm - top.lastSeen < this.config.groupTtlMs) return;
      this.evictFamily(top.id, 'ttl', step);
    }
  }

  private enforceCap(step: Step): void {
    while (this.recs.size > this.config.maxGroups) {
      const top = this.validTop();
      if (top === undefined) return;
      this.evictFamily(top.id, 'cap', step);
    }
  }

  /** The heap's top after dropping stale entries (families that changed, merged or went). */
  private validTop(): { readonly lastSeen: number; readonly id: string } | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined) return undefined;
      const g = this.recs.get(top.id);
      if (g !== undefined && g.mergedInto === null && g.famLastSeen === top.lastSeen) return top;
      this.heap.pop();
    }
  }

  private evictFamily(rootId: string, reason: GroupDeleteReason, step: Step): void {
    const root = this.rec(rootId);
    for (const id of [root.id, ...root.children]) {
      const g = this.rec(id);
      this.touchFault(g.fingerprint, step);
      const idx = this.faultIndex.get(g.fingerprint);
      idx?.delete(id);
      if (idx !== undefined && idx.size === 0) this.faultIndex.delete(g.fingerprint);
      this.recs.delete(id);
      this.active.delete(id);
      step.noteExistence(id, true);
      step.deleteReason.set(id, reason);
      step.deleteCluster.set(id, g.cluster);
      step.keys.add(groupStateKey(id));
    }
  }

  /** Recomputes own counters of every group with buckets, at the new evaluation minute. */
  private recompute(step: Step): void {
    const ek = this.ek as number;
    for (const id of this.active) {
      const g = this.rec(id);
      pruneBuckets(g.buckets, ek);
      const c = countersAt(g.buckets, ek);
      if (!sameCounters(c, g.own)) {
        g.own = c;
        step.check.add(id);
        if (g.mergedInto !== null) step.check.add(g.mergedInto);
      }
      if (g.buckets.keys.length === 0) this.active.delete(id);
    }
  }

  private touchFault(faultKey: string, step: Step): void {
    if (!step.faults.has(faultKey)) step.faults.set(faultKey, this.faultIndex.has(faultKey));
  }

  private newGroup(id: string, o: ErrorOccurrence): GroupRec {
    const firstLine = o.message.split('\n', 1)[0] ?? '';
    const title =
      o.title.trim().length > 0 ? o.title : firstLine.trim().length > 0 ? firstLine : o.fingerprint;
    return {
      id,
      fingerprint: o.fingerprint,
      cluster: o.cluster,
      namespace: o.namespace,
      workload: o.workload,
      title: cut(title, this.config.maxTitleChars),
      exceptionType: nonEmpty(o.exceptionType),
      reason: o.reason,
      level: o.level,
      firstSeen: o.ts,
      lastSeen: o.ts,
      lastPod: o.pod,
      lastContainer: o.container,
      lastUrl: null,
      lastUrlTs: null,
      count: 0,
      status: 'open',
      regressed: false,
      regressedAt: null,
      resolvedAt: null,
      statusChangedAt: null,
      best: null,
      bestScore: 0,
      ring: [],
      buckets: emptyBuckets(),
      mergedInto: null,
      children: [],
      famLastSeen: o.ts,
      own: ZERO_COUNTERS,
      pub: ZERO_COUNTERS,
    };
  }

  private fold(o: ErrorOccurrence, step: Step): void {
    const id = errorGroupId(o.cluster, o.namespace, o.workload, o.fingerprint);
    this.touchFault(o.fingerprint, step);
    let g = this.recs.get(id);
    const created = g === undefined;
    if (g === undefined) {
      g = this.newGroup(id, o);
      this.recs.set(id, g);
      let idx = this.faultIndex.get(o.fingerprint);
      if (idx === undefined) this.faultIndex.set(o.fingerprint, (idx = new Set()));
      idx.add(id);
      step.noteExistence(id, false);
      this.heap.push(g.famLastSeen, id);
    }
    this.count(g, o);
    const root = this.rootOf(g);
    if (g.lastSeen > root.famLastSeen) {
      root.famLastSeen = g.lastSeen;
      this.heap.push(root.famLastSeen, root.id);
    }
    if (root.status === 'resolved' && o.ts > (root.resolvedAt as number)) {
      this.regress(root, o.ts);
      step.keys.add(groupStateKey(root.id));
    }
    step.forced.add(g.id);
    step.forced.add(root.id);
    step.keys.add(groupStateKey(g.id));
    if (created) this.enforceCap(step);
  }

  private regress(root: GroupRec, at: number): void {
    root.status = 'open';
    root.regressed = true;
    root.regressedAt = at;
    root.resolvedAt = null;
    root.statusChangedAt = at;
  }

  /** Counts an occurrence in one group's own data. */
  private count(g: GroupRec, o: ErrorOccurrence): void {
    const cfg = this.config;
    g.count += 1;
    if (o.ts < g.firstSeen) g.firstSeen = o.ts;
    if (o.ts >= g.lastSeen) {
      g.lastSeen = o.ts;
      g.lastPod = o.pod;
      g.lastContainer = o.container;
    }
    const url = nonEmpty(o.url);
    if (url !== null && (g.lastUrlTs === null || o.ts >= g.lastUrlTs)) {
      g.lastUrl = url;
      g.lastUrlTs = o.ts;
    }
    if (severityRank(o.level) > severityRank(g.level)) g.level = o.level;
    const score = sampleScore(o);
    if (g.best === null || score > g.bestScore) {
      const stack = nonEmpty(o.stack);
      const message = cut(o.message, cfg.sampleMessageMaxChars);
      const cutStack = stack === null ? null : cut(stack, cfg.sampleStackMaxChars);
      g.best = {
        groupId: g.id,
        ts: o.ts,
        pod: o.pod,
        container: o.container,
        level: o.level,
        exceptionType: nonEmpty(o.exceptionType),
        message,
        stack: cutStack,
        url,
        requestId: nonEmpty(o.requestId),
        traceId: nonEmpty(o.traceId),
        truncated:
          message.length !== o.message.length || (stack !== null && cutStack?.length !== stack.length),
        source: { topic: o.source.topic, partition: o.source.partition, offset: o.source.offset },
      };
      g.bestScore = score;
    }
    const ring = g.ring;
    let at = ring.length;
    while (at > 0 && (ring[at - 1] as OccurrenceSummary).ts > o.ts) at--;
    if (at > 0 || ring.length < cfg.occurrencesPerGroup) {
      ring.splice(at, 0, {
        groupId: g.id,
        ts: o.ts,
        pod: o.pod,
        container: o.container,
        level: o.level,
        message: cut(o.message, cfg.occurrenceMessageMaxChars),
        hasStack: nonEmpty(o.stack) !== null,
        url,
        requestId: nonEmpty(o.requestId),
        traceId: nonEmpty(o.traceId),
        source: { topic: o.source.topic, partition: o.source.partition, offset: o.source.offset },
      });
      if (ring.length > cfg.occurrencesPerGroup) ring.shift();
    }
    const ek = this.ek as number;
    const k = minuteBucketOf(o.ts);
    if (bucketInWindow(k, ek)) {
      addToBucket(g.buckets, k, 1);
      this.active.add(g.id);
      g.own = countersAt(g.buckets, ek);
    }
  }

  private setStatus(root: GroupRec, type: 'resolve' | 'ignore' | 'reopen', ts: number, step: Step): void {
    if (type === 'resolve') {
      if (root.status === 'resolved' && root.resolvedAt === ts) return;
      root.status = 'resolved';
      root.resolvedAt = ts;
      root.regressed = false;
      root.regressedAt = null;
      root.statusChangedAt = ts;
      // An occurrence later than the resolve time was already counted: the group has regressed.
      if (root.famLastSeen > ts) this.regress(root, root.famLastSeen);
    } else if (type === 'ignore') {
      if (root.status === 'ignored') return;
      root.status = 'ignored';
      root.resolvedAt = null;
      root.regressed = false;
      root.regressedAt = null;
      root.statusChangedAt = ts;
    } else {
      if (root.status === 'open' && !root.regressed) return;
      root.status = 'open';
      root.resolvedAt = null;
      root.regressed = false;
      root.regressedAt = null;
      root.statusChangedAt = ts;
    }
    step.forced.add(root.id);
    step.keys.add(groupStateKey(root.id));
  }

  private merge(c: MergeCommand, step: Step): StepResult {
    const target = this.recs.get(c.target);
    if (target === undefined)
      return this.finish(step, 'rejected', `unknown target group ${JSON.stringify(c.target)}`);
    if (!Array.isArray(c.sources)) return this.finish(step, 'rejected', 'sources is not a list');
    const root = this.rootOf(target);
    let known = 0;
    const touchedRoots = new Set<string>();
    for (const srcId of c.sources) {
      const s = this.recs.get(srcId);
      if (s === undefined) continue;
      known++;
      if (this.rootOf(s).id === root.id) continue; // already in the family (or the target itself)
      let members: string[];
      if (s.mergedInto === null) {
        members = [s.id, ...s.children];
        s.children = [];
      } else {
        const old = this.rec(s.mergedInto);
        old.children = old.children.filter((id) => id !== s.id);
        touchedRoots.add(old.id);
        members = [s.id];
      }
      for (const m of members) {
        this.rec(m).mergedInto = root.id;
        root.children.push(m);
        step.forced.add(m);
        step.keys.add(groupStateKey(m));
      }
      touchedRoots.add(root.id);
    }
    if (known === 0) return this.finish(step, 'rejected', 'none of the source groups is known');
    root.children.sort(byString);
    for (const id of touchedRoots) this.refreshFamily(this.rec(id), step);
    return this.finish(step, 'applied');
  }

  private split(c: SplitCommand, step: Step): StepResult {
    const g = this.recs.get(c.group);
    if (g === undefined) return this.finish(step, 'rejected', `unknown group ${JSON.stringify(c.group)}`);
    let root: GroupRec;
    let leaving: string[];
    if (g.mergedInto !== null) {
      root = this.rec(g.mergedInto);
      leaving = [g.id];
      root.children = root.children.filter((id) => id !== g.id);
    } else {
      root = g;
      leaving = g.children;
      g.children = [];
    }
    if (leaving.length === 0) return this.finish(step, 'applied');
    for (const id of leaving) {
      const child = this.rec(id);
      child.mergedInto = null;
      step.keys.add(groupStateKey(id));
      this.refreshFamily(child, step);
    }
    this.refreshFamily(root, step);
    this.expire(step);
    return this.finish(step, 'applied');
  }

  /** After a family changed: recompute its lastSeen, re-enter it in the LRU heap, publish it. */
  private refreshFamily(root: GroupRec, step: Step): void {
    let seen = root.lastSeen;
    for (const c of root.children) seen = Math.max(seen, this.rec(c).lastSeen);
    root.famLastSeen = seen;
    this.heap.push(seen, root.id);
    step.forced.add(root.id);
  }

  private rollUp(g: GroupRec): RateCounters {
    if (g.children.length === 0) return g.own;
    return sumCounters([g.own, ...g.children.map((id) => this.rec(id).own)]);
  }

  private finish(step: Step, outcome: StepOutcome, reason?: string): StepResult {
    const changes: ErrorGroupsChange[] = [];
    const ids = new Set<string>([...step.forced, ...step.check, ...step.existedBefore.keys()]);
    for (const id of [...ids].sort(byString)) {
      const g = this.recs.get(id);
      if (g === undefined) {
        if (step.existedBefore.get(id) === true) {
          changes.push({
            type: 'delete',
            id,
            cluster: step.deleteCluster.get(id) ?? '',
            reason: step.deleteReason.get(id) ?? 'cap',
          });
        }
        continue;
      }
      const agg = this.rollUp(g);
      if (step.forced.has(id) || step.existedBefore.has(id) || !sameCounters(agg, g.pub)) {
        g.pub = agg;
        changes.push({ type: 'upsert', group: this.view(g, agg) });
      }
    }
    for (const [key, existed] of [...step.faults].sort((a, b) => byString(a[0], b[0]))) {
      if (this.faultIndex.has(key)) changes.push({ type: 'fault-upsert', fault: this.faultView(key) });
      else if (existed) changes.push({ type: 'fault-delete', faultKey: key });
    }
    if (this.heap.size > 2 * this.recs.size + 1024) this.rebuildHeap();
    const result: StepResult = { outcome, changes, stateKeys: [...step.keys].sort(byString) };
    return reason === undefined ? result : { ...result, reason };
  }

  private rebuildHeap(): void {
    this.heap.clear();
    for (const g of this.recs.values()) if (g.mergedInto === null) this.heap.push(g.famLastSeen, g.id);
  }

  // ---------------------------------------------------------------------------------------------
  // Views

  private view(g: GroupRec, c: RateCounters): ErrorGroup {
    const members = g.children.length === 0 ? [g] : [g, ...g.children.map((id) => this.rec(id))];
    let count = 0;
    let firstSeen = g.firstSeen;
    let latest = g;
    let urlFrom: GroupRec | undefined;
    let level = g.level;
    let best: ErrorSample | null = null;
    let bestScore = 0;
    for (const m of members) {
      count += m.count;
      if (m.firstSeen < firstSeen) firstSeen = m.firstSeen;
      if (m.lastSeen > latest.lastSeen) latest = m;
      if (m.lastUrlTs !== null && (urlFrom === undefined || m.lastUrlTs > (urlFrom.lastUrlTs as number))) {
        urlFrom = m;
      }
      if (severityRank(m.level) > severityRank(level)) level = m.level;
      if (m.best !== null && (best === null || m.bestScore > bestScore)) {
        best = m.best;
        bestScore = m.bestScore;
      }
    }
    let occurrences: OccurrenceSummary[];
    if (members.length === 1) {
      occurrences = g.ring.slice();
    } else {
      occurrences = members.flatMap((m) => m.ring);
      occurrences.sort((a, b) => a.ts - b.ts); // stable: members in order, each ring in order
      if (occurrences.length > this.config.occurrencesPerGroup) {
        occurrences = occurrences.slice(occurrences.length - this.config.occurrencesPerGroup);
      }
    }
    return {
      id: g.id,
      fingerprint: g.fingerprint,
      faultKey: g.fingerprint,
      cluster: g.cluster,
      namespace: g.namespace,
      workload: g.workload,
      title: g.title,
      exceptionType: g.exceptionType,
      reason: g.reason,
      level,
      severityRank: severityRank(level),
      firstSeen,
      lastSeen: latest.lastSeen,
      count,
      ownCount: g.count,
      status: g.status,
      regressed: g.regressed,
      regressedAt: g.regressedAt,
      resolvedAt: g.resolvedAt,
      statusChangedAt: g.statusChangedAt,
      lastPod: latest.lastPod,
      lastContainer: latest.lastContainer,
      lastUrl: urlFrom === undefined ? null : urlFrom.lastUrl,
      bestSample: best,
      bestSampleScore: bestScore,
      occurrences,
      countersAt: (this.ek as number) * MINUTE_MS,
      count1m: c.count1m,
      count5m: c.count5m,
      count1h: c.count1h,
      count24h: c.count24h,
      sparkline: c.sparkline.slice(),
      spike: isSpike(c.count5m, c.count1h),
      mergedInto: g.mergedInto,
      mergedChildren: g.children.slice(),
    };
  }

  private faultView(faultKey: string): Fault {
    const ids = [...(this.faultIndex.get(faultKey) as Set<string>)];
    const members = ids.map((id) => this.rec(id));
    members.sort(
      (a, b) =>
        byString(a.cluster, b.cluster) ||
        byString(a.namespace, b.namespace) ||
        byString(a.workload, b.workload) ||
        byString(a.id, b.id),
    );
    const first = members[0] as GroupRec;
    let origin = first;
    let worst = first.level;
    let totalCount = 0;
    let firstSeen = first.firstSeen;
    let lastSeen = first.lastSeen;
    const workloads: FaultWorkload[] = [];
    for (const m of members) {
      totalCount += m.count;
      if (m.firstSeen < origin.firstSeen) origin = m;
      firstSeen = Math.min(firstSeen, m.firstSeen);
      lastSeen = Math.max(lastSeen, m.lastSeen);
      if (severityRank(m.level) > severityRank(worst)) worst = m.level;
      workloads.push({
        groupId: m.id,
        cluster: m.cluster,
        namespace: m.namespace,
        workload: m.workload,
        count: m.count,
        firstSeen: m.firstSeen,
        lastSeen: m.lastSeen,
        level: m.level,
      });
    }
    return {
      faultKey,
      title: origin.title,
      exceptionType: origin.exceptionType,
      reason: origin.reason,
      worstLevel: worst,
      severityRank: severityRank(worst),
      totalCount,
      firstSeen,
      lastSeen,
      workloads,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  private recordValue(key: string): StateRecordValue | null {
    if (key === META_STATE_KEY) {
      const positions: SourcePosition[] = [];
      for (const topic of [...this.positions.keys()].sort(byString)) {
        const parts = this.positions.get(topic) as Map<number, bigint>;
        for (const partition of [...parts.keys()].sort((a, b) => a - b)) {
          positions.push({ topic, partition, offset: (parts.get(partition) as bigint).toString() });
        }
      }
      return { kind: 'meta', v: 1, watermark: this.wm, positions };
    }
    if (key === COMMANDS_STATE_KEY) return { kind: 'commands', v: 1, ids: this.commandIds.slice() };
    if (!key.startsWith(GROUP_STATE_KEY_PREFIX)) return null;
    const g = this.recs.get(key.slice(GROUP_STATE_KEY_PREFIX.length));
    if (g === undefined) return null;
    return {
      kind: 'group',
      v: 1,
      id: g.id,
      fingerprint: g.fingerprint,
      cluster: g.cluster,
      namespace: g.namespace,
      workload: g.workload,
      title: g.title,
      exceptionType: g.exceptionType,
      reason: g.reason,
      level: g.level,
      firstSeen: g.firstSeen,
      lastSeen: g.lastSeen,
      lastPod: g.lastPod,
      lastContainer: g.lastContainer,
      lastUrl: g.lastUrl,
      lastUrlTs: g.lastUrlTs,
      count: g.count,
      status: g.status,
      regressed: g.regressed,
      regressedAt: g.regressedAt,
      resolvedAt: g.resolvedAt,
      statusChangedAt: g.statusChangedAt,
      bestSample: g.best,
      bestSampleScore: g.bestScore,
      occurrences: g.ring.slice(),
      buckets: g.buckets.keys.map((k, i) => [k, g.buckets.counts[i] as number] as const),
      mergedInto: g.mergedInto,
    };
  }

  private fromRecord(v: GroupStateRecord): GroupRec {
    const ek = this.ek as number;
    const buckets = emptyBuckets();
    for (const [k, n] of v.buckets) if (bucketInWindow(k, ek) && n > 0) addToBucket(buckets, k, n);
    const own = countersAt(buckets, ek);
    if (buckets.keys.length > 0) this.active.add(v.id);
    return {
      id: v.id,
      fingerprint: v.fingerprint,
      cluster: v.cluster,
      namespace: v.namespace,
      workload: v.workload,
      title: v.title,
      exceptionType: v.exceptionType,
      reason: v.reason,
      level: v.level,
      firstSeen: v.firstSeen,
      lastSeen: v.lastSeen,
      lastPod: v.lastPod,
      lastContainer: v.lastContainer,
      lastUrl: v.lastUrl,
      lastUrlTs: v.lastUrlTs,
      count: v.count,
      status: v.status,
      regressed: v.regressed,
      regressedAt: v.regressedAt,
      resolvedAt: v.resolvedAt,
      statusChangedAt: v.statusChangedAt,
      best: v.bestSample,
      bestScore: v.bestSampleScore,
      ring: v.occurrences.slice(),
      buckets,
      mergedInto: v.mergedInto,
      children: [],
      famLastSeen: v.lastSeen,
      own,
      pub: own,
    };
  }
}

/** A new, empty state with the SPEC §9 defaults for whatever `config` leaves out. */
export function createErrorGroupsState(config: Partial<ErrorGroupsConfig> = {}): ErrorGroupsState {
  return new ErrorGroupsState(config);
}

/** Restores a state from its changelog records (see `ErrorGroupsState.restore`). */
export function restoreErrorGroupsState(
  records: Iterable<StateRecord>,
  config: Partial<ErrorGroupsConfig> = {},
): ErrorGroupsState {
  return ErrorGroupsState.restore(records, config);
}
