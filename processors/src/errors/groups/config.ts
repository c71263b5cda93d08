/** Bounds of the error-group state (SPEC §9), all configurable. */
export interface ErrorGroupsConfig {
  /** Most group records kept (merged children count); the least recently seen go first. */
  readonly maxGroups: number;
  /** A group (with its merged children) is deleted once watermark − lastSeen ≥ this. */
  readonly groupTtlMs: number;
  /** Ring of latest occurrences per group. */
  readonly occurrencesPerGroup: number;
  /** Group titles are cut to this many UTF-16 code units. */
  readonly maxTitleChars: number;
  /** Messages in the occurrence ring are cut to this. */
  readonly occurrenceMessageMaxChars: number;
  /** The best sample's message is cut to this. */
  readonly sampleMessageMaxChars: number;
  /** The best sample's stack is cut to this. */
  readonly sampleStackMaxChars: number;
  /** How many recent command ids are remembered to drop re-sent commands. */
  readonly recentCommandIds: number;
}

export const DEFAULT_ERROR_GROUPS_CONFIG: ErrorGroupsConfig = Object.freeze({
  maxGroups: 2_000,
  groupTtlMs: 7 * 24 * 60 * 60 * 1000,
  occurrencesPerGroup: 50,
  maxTitleChars: 200,
  occurrenceMessageMaxChars: 500,
  sampleMessageMaxChars: 4_096,
  sampleStackMaxChars: 16_384,
  recentCommandIds: 1_000,
});

/** Error code thrown for an invalid configuration (a startup error, never thrown mid-stream). */
export const ERROR_GROUPS_CONFIG_INVALID = 'HETU_ERRORGROUPS_CONFIG_INVALID';

/** Fills defaults and checks every bound is a positive integer; the result is frozen. */
export function resolveErrorGroupsConfig(config: Partial<ErrorGroupsConfig> = {}): ErrorGroupsConfig {
  const merged: ErrorGroupsConfig = { ...DEFAULT_ERROR_GROUPS_CONFIG, ...config };
  for (const [name, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw Object.assign(
        new RangeError(`error-groups config: ${name} must be a positive integer, got ${String(value)}.`),
        { code: ERROR_GROUPS_CONFIG_INVALID },
      );
    }
  }
  return Object.freeze(merged);
}
