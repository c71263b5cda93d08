/**
 * The daily LLM token budget (SPEC §7, LLM part): a pure fold over the recorded calls, so a worker
 * that restores it from the log after a restart sees the day's usage as it was. Every call path
 * (incident, error group, question) records its usage here; input and output tokens both count.
 *
 * Days are UTC days: they roll over at 00:00 UTC of the record's event time. The state is small:
 * today's totals and the audit entries of today's calls (the latest `MAX_AUDIT_ENTRIES`; older ones
 * are counted in `auditDropped`). A record of an earlier day than the state's (late) changes nothing.
 */

export const DEFAULT_DAILY_TOKENS = 1_000_000;
export const MAX_AUDIT_ENTRIES = 1_000;
const DAY_MS = 86_400_000;

/** One call as recorded for the audit: what left the cluster, and what it cost. */
export interface UsageEntry {
  readonly atMs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly model: string;
  /** SHA-256 of the redacted prompt (`LlmPrompt.promptHash`). */
  readonly promptHash: string;
  /** The call path: `incident`, `error-group`, `question`, … */
  readonly kind: string;
  /** The request answered (kept in the audit when given). */
  readonly requestId?: string;
  /** The incident or error group the call was about. */
  readonly subjectId?: string;
  /** True when the token counts are estimates. */
  readonly estimated?: boolean;
  /** Outcome of the call: `recorded` or `failed`. */
  readonly status?: string;
  /** Secrets replaced in the prompt that was sent, per kind. */
  readonly redactions?: readonly { readonly kind: string; readonly count: number }[];
}

export interface UsageState {
  /** The UTC day (`YYYY-MM-DD`) the totals are for; null before the first call. */
  readonly day: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly calls: number;
  /** Today's calls, oldest first, at most `MAX_AUDIT_ENTRIES`. */
  readonly audit: readonly UsageEntry[];
  /** Today's calls no longer in `audit` (beyond the cap). */
  readonly auditDropped: number;
}

export type BudgetDecision =
  | { readonly allowed: true; readonly used: number; readonly limit: number }
  | {
      readonly allowed: false;
      /** `exhausted`: today's budget is spent (or this call would pass it); `too-large`: the call alone exceeds a whole day's budget. */
      readonly code: 'exhausted' | 'too-large';
      /** One sentence for the status line. */
      readonly reason: string;
      /** When calls resume: the next 00:00 UTC; null when waiting does not help (`too-large`). */
      readonly resumesAt: number | null;
      readonly used: number;
      readonly limit: number;
    };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The UTC day of an event time, `YYYY-MM-DD`. */
export function utcDay(ms: number): string {
  return iso(ms).slice(0, 10);
}

/** The first instant of the UTC day after `ms`'s. */
export function nextUtcMidnight(ms: number): number {
  return (Math.floor(ms / DAY_MS) + 1) * DAY_MS;
}

export function emptyUsage(): UsageState {
  return { day: null, inputTokens: 0, outputTokens: 0, calls: 0, audit: [], auditDropped: 0 };
}

function tokens(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0;
}

/** The state after one more call. A call of an earlier day than the state's is ignored. */
export function recordUsage(
  state: UsageState,
  entry: UsageEntry,
  maxAudit: number = MAX_AUDIT_ENTRIES,
): UsageState {
  const day = utcDay(entry.atMs);
  if (state.day !== null && day < state.day) return state;
  const base = state.day === day ? state : emptyUsage();
  const clean: UsageEntry = {
    atMs: entry.atMs,
    inputTokens: tokens(entry.inputTokens),
    outputTokens: tokens(entry.outputTokens),
    model: entry.model,
    promptHash: entry.promptHash,
    kind: entry.kind,
    ...(entry.requestId === undefined ? {} : { requestId: entry.requestId }),
    ...(entry.subjectId === undefined ? {} : { subjectId: entry.subjectId }),
    ...(entry.estimated === undefined ? {} : { estimated: entry.estimated }),
    ...(entry.status === undefined ? {} : { status: entry.status }),
    ...(entry.redactions === undefined
      ? {}
      : { redactions: entry.redactions.map((r) => ({ kind: r.kind, count: r.count })) }),
  };
  const audit = [...base.audit, clean];
  const over = Math.max(0, audit.length - Math.max(0, maxAudit));
  return {
    day,
    inputTokens: base.inputTokens + clean.inputTokens,
    outputTokens: base.outputTokens + clean.outputTokens,
    calls: base.calls + 1,
    audit: over > 0 ? audit.slice(over) : audit,
    auditDropped: base.auditDropped + over,
  };
}

/** Tokens (input + output) used on `atMs`'s UTC day. */
export function usedOn(state: UsageState, atMs: number): number {
  return state.day === utcDay(atMs) ? state.inputTokens + state.outputTokens : 0;
}

/**
 * Whether a call of about `estimatedTokens` (input + output) may start at `atMs`: refused once the
 * day's usage has reached `dailyLimit`, or when the call would take it past the limit.
 */
export function budgetDecision(
  state: UsageState,
  atMs: number,
  dailyLimit: number,
  estimatedTokens: number,
): BudgetDecision {
  const used = usedOn(state, atMs);
  const estimate = tokens(estimatedTokens);
  const day = utcDay(atMs);
  if (estimate > dailyLimit) {
    return {
      allowed: false,
      code: 'too-large',
      reason: `This LLM call needs about ${estimate} tokens, more than the whole daily budget of ${dailyLimit}; raise HETU_LLM_DAILY_TOKENS or send less.`,
      resumesAt: null,
      used,
      limit: dailyLimit,
    };
  }
  if (used >= dailyLimit || used + estimate > dailyLimit) {
    const resumesAt = nextUtcMidnight(atMs);
    const lead =
      used >= dailyLimit
        ? 'The daily LLM token budget is spent'
        : `This LLM call (about ${estimate} tokens) would pass the daily LLM token budget`;
    return {
      allowed: false,
      code: 'exhausted',
      reason: `${lead}: ${used} of ${dailyLimit} tokens used on ${day} (UTC); calls resume at ${iso(resumesAt)}.`,
      resumesAt,
      used,
      limit: dailyLimit,
    };
  }
  return { allowed: true, used, limit: dailyLimit };
}
