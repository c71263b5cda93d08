/**
 * The state changelog: the error-group state as keyed, JSON-serialisable records. A runtime
 * writes the records named in each step's `stateKeys` to a compacted topic (a null value is a
 * tombstone) and, on start, hands every record read back to `restoreErrorGroupsState`.
 *
 * Keys: `meta` (watermark and applied source positions), `commands` (recently applied command
 * ids) and `group:<id>` (one per group, with everything needed to recompute its counters).
 */
import type {
  ErrorGroupStatus,
  ErrorLevel,
  ErrorSample,
  OccurrenceSummary,
  SourcePosition,
} from './types.ts';

export const META_STATE_KEY = 'meta';
export const COMMANDS_STATE_KEY = 'commands';
export const GROUP_STATE_KEY_PREFIX = 'group:';

/** The changelog key of a group. */
export function groupStateKey(id: string): string {
  return GROUP_STATE_KEY_PREFIX + id;
}

export interface MetaStateRecord {
  readonly kind: 'meta';
  readonly v: 1;
  /** The largest event time applied, or null before the first. */
  readonly watermark: number | null;
  /** The last applied offset per topic-partition, sorted by topic then partition. */
  readonly positions: readonly SourcePosition[];
}

export interface CommandsStateRecord {
  readonly kind: 'commands';
  readonly v: 1;
  /** Recently applied command ids, oldest first. */
  readonly ids: readonly string[];
}

export interface GroupStateRecord {
  readonly kind: 'group';
  readonly v: 1;
  readonly id: string;
  readonly fingerprint: string;
  readonly cluster: string;
  readonly namespace: string;
  readonly workload: string;
  readonly title: string;
  readonly exceptionType: string | null;
  readonly reason: string;
  readonly level: ErrorLevel;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly lastPod: string;
  readonly lastContainer: string;
  readonly lastUrl: string | null;
  readonly lastUrlTs: number | null;
  /** The group's own count (merged children keep their own). */
  readonly count: number;
  readonly status: ErrorGroupStatus;
  readonly regressed: boolean;
  readonly regressedAt: number | null;
  readonly resolvedAt: number | null;
  readonly statusChangedAt: number | null;
  readonly bestSample: ErrorSample | null;
  readonly bestSampleScore: number;
  /** The group's own ring, oldest first. */
  readonly occurrences: readonly OccurrenceSummary[];
  /** Own minute buckets inside the 24 h window: [bucket number (ceil(ts / 60 000)), count]. */
  readonly buckets: readonly (readonly [number, number])[];
  readonly mergedInto: string | null;
}

export type StateRecordValue = MetaStateRecord | CommandsStateRecord | GroupStateRecord;

export interface StateRecord {
  readonly key: string;
  /** null: the key was deleted (a tombstone). */
  readonly value: StateRecordValue | null;
}

/** Error code thrown when changelog records cannot be restored (corrupt or foreign data). */
export const ERROR_GROUPS_RESTORE_INVALID = 'HETU_ERRORGROUPS_RESTORE_INVALID';
