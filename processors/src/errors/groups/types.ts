/**
 * Types of the error-group state (SPEC §4 "Group state", §9 bounds). Every time is event time in
 * milliseconds since the epoch; nothing here is read from a clock.
 */

/** Log levels an occurrence can carry, worst first. */
export const ERROR_LEVELS = ['fatal', 'panic', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type ErrorLevel = (typeof ERROR_LEVELS)[number];

/** Severity rank (SPEC §4): fatal/panic 5, error 4, warn 3, info 2, debug/trace 1. */
export type SeverityRank = 1 | 2 | 3 | 4 | 5;

export type ErrorGroupStatus = 'open' | 'resolved' | 'ignored';

/** Where an input record was read from. `offset` is an int64 kept exact as a decimal string. */
export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * One error occurrence as the parser hands it over (a line, or a stitched multi-line trace).
 * Defined here so the group state does not depend on the parser; the parser's output maps onto it.
 */
export interface ErrorOccurrence {
  /** Event time, ms since the epoch. */
  readonly ts: number;
  readonly cluster: string;
  readonly namespace: string;
  /** Top-owner workload name (SPEC §2). */
  readonly workload: string;
  readonly pod: string;
  readonly container: string;
  readonly fingerprint: string;
  readonly template: string;
  /** At most 200 characters; longer titles are cut. */
  readonly title: string;
  readonly level: ErrorLevel;
  /** Detection reason (`exception.java`, `timeout`, `http.5xx`, `error`, …). */
  readonly reason: string;
  readonly exceptionType?: string;
  readonly message: string;
  readonly stack?: string;
  readonly url?: string;
  readonly requestId?: string;
  readonly traceId?: string;
  readonly source: SourcePosition;
}

/** One entry of a group's ring of recent occurrences (the message is cut to a bounded length). */
export interface OccurrenceSummary {
  /** The group the occurrence was counted in (differs from the shown group inside a merged group). */
  readonly groupId: string;
  readonly ts: number;
  readonly pod: string;
  readonly container: string;
  readonly level: ErrorLevel;
  readonly message: string;
  readonly hasStack: boolean;
  readonly url: string | null;
  readonly requestId: string | null;
  readonly traceId: string | null;
  readonly source: SourcePosition;
}

/** The most informative occurrence of a group, kept with its stack (bounded lengths). */
export interface ErrorSample {
  readonly groupId: string;
  readonly ts: number;
  readonly pod: string;
  readonly container: string;
  readonly level: ErrorLevel;
  readonly exceptionType: string | null;
  readonly message: string;
  readonly stack: string | null;
  readonly url: string | null;
  readonly requestId: string | null;
  readonly traceId: string | null;
  /** True when the message or the stack was cut to the configured bound. */
  readonly truncated: boolean;
  readonly source: SourcePosition;
}

/**
 * An error group as published (one keyed record per group on the facts topic). For a group that
 * other groups were merged into, every count, time, sample and occurrence is the roll-up over the
 * group and its merged children; `ownCount` is the group's own part.
 */
export interface ErrorGroup {
  /** Deterministic: see `errorGroupId`. */
  readonly id: string;
  readonly fingerprint: string;
  /** The fingerprint: the same fault across workloads and clusters rolls up under it. */
  readonly faultKey: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  /** Of the group's first occurrence, at most 200 characters. */
  readonly title: string;
  readonly exceptionType: string | null;
  readonly reason: string;
  /** The worst level seen. */
  readonly level: ErrorLevel;
  readonly severityRank: SeverityRank;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Exact number of occurrences applied (roll-up for a merged group). */
  readonly count: number;
  /** Occurrences counted in this group itself, without merged children. */
  readonly ownCount: number;
  readonly status: ErrorGroupStatus;
  /** Set when a resolved group occurred again; cleared by any status command. */
  readonly regressed: boolean;
  readonly regressedAt: number | null;
  /** The resolve command's time while the status is `resolved`, else null. */
  readonly resolvedAt: number | null;
  /** Time of the last status change (command time, or the regressing occurrence's time). */
  readonly statusChangedAt: number | null;
  /** Pod and container of the latest occurrence. */
  readonly lastPod: string;
  readonly lastContainer: string;
  /** URL of the latest occurrence that had one. */
  readonly lastUrl: string | null;
  readonly bestSample: ErrorSample | null;
  readonly bestSampleScore: number;
  /** The latest occurrences (at most the configured 50), oldest first. */
  readonly occurrences: readonly OccurrenceSummary[];
  /**
   * The instant E the rate counters are evaluated at: the watermark rounded up to a whole minute.
   * count1m/5m/1h/24h count occurrences with E − W < ts ≤ E. The values stay valid until the next
   * upsert of this group (an upsert is emitted whenever any of them changes).
   */
  readonly countersAt: number;
  readonly count1m: number;
  readonly count5m: number;
  readonly count1h: number;
  readonly count24h: number;
  /** 12 slots of 5 min, oldest first: slot i counts E − (12 − i) × 5 min < ts ≤ E − (11 − i) × 5 min. */
  readonly sparkline: readonly number[];
  /** count5m ≥ 3 and count5m × 12 > 2 × count1h. */
  readonly spike: boolean;
  /** The group this one was merged into (then it is hidden from listings), or null. */
  readonly mergedInto: string | null;
  /** Ids of the groups merged into this one, sorted. */
  readonly mergedChildren: readonly string[];
}

/** One workload (group) a fault appears in. */
export interface FaultWorkload {
  readonly groupId: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly level: ErrorLevel;
}

/** The roll-up of one fingerprint over every live group that has it (merges do not change it). */
export interface Fault {
  readonly faultKey: string;
  /** Title, exception type and reason of the group that saw the fault first. */
  readonly title: string;
  readonly exceptionType: string | null;
  readonly reason: string;
  readonly worstLevel: ErrorLevel;
  readonly severityRank: SeverityRank;
  readonly totalCount: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Sorted by cluster, namespace, workload. */
  readonly workloads: readonly FaultWorkload[];
}

interface CommandBase {
  /** Unique per command; a command id seen recently is not applied twice. */
  readonly commandId: string;
  /** When the command was issued (ms). Used as resolve time; it does not move the watermark. */
  readonly ts: number;
  /** Position in the commands topic, when read from one (re-applying it changes nothing). */
  readonly source?: SourcePosition;
}

export interface ResolveCommand extends CommandBase {
  readonly type: 'resolve';
  readonly group: string;
}
export interface IgnoreCommand extends CommandBase {
  readonly type: 'ignore';
  readonly group: string;
}
export interface ReopenCommand extends CommandBase {
  readonly type: 'reopen';
  readonly group: string;
}
export interface MergeCommand extends CommandBase {
  readonly type: 'merge';
  readonly target: string;
  readonly sources: readonly string[];
}
export interface SplitCommand extends CommandBase {
  readonly type: 'split';
  /** A merged group (all its children leave) or a merged child (it alone leaves). */
  readonly group: string;
}

export type ErrorCommand = ResolveCommand | IgnoreCommand | ReopenCommand | MergeCommand | SplitCommand;

/** Why a group record was deleted (the runtime writes a tombstone either way). */
export type GroupDeleteReason = 'ttl' | 'cap';

/** One change to write to the compacted facts topics (a delete is a tombstone). */
export type ErrorGroupsChange =
  | { readonly type: 'upsert'; readonly group: ErrorGroup }
  | {
      readonly type: 'delete';
      readonly id: string;
      readonly cluster: string;
      readonly reason: GroupDeleteReason;
    }
  | { readonly type: 'fault-upsert'; readonly fault: Fault }
  | { readonly type: 'fault-delete'; readonly faultKey: string };

/**
 * `applied`: the input was folded in (possibly with no visible change); `duplicate`: its source
 * position or command id was applied before, nothing changed; `expired`: older than the group TTL
 * at the watermark, dropped (its position is remembered); `rejected`: malformed or naming an
 * unknown group, see `reason` (a runtime sends it to the dead-letter topic).
 */
export type StepOutcome = 'applied' | 'duplicate' | 'expired' | 'rejected';

/** What one transition did. */
export interface StepResult {
  readonly outcome: StepOutcome;
  readonly reason?: string;
  /** Facts to publish: group changes sorted by id, then fault changes sorted by key. */
  readonly changes: readonly ErrorGroupsChange[];
  /** Keys of the state changelog that changed (export each with `exportRecord`), sorted. */
  readonly stateKeys: readonly string[];
}
