import { describe, expect, it } from 'vitest';
import { budgetDecision, emptyUsage, nextUtcMidnight, recordUsage, usedOn, utcDay } from './budget.ts';
import type { UsageEntry, UsageState } from './budget.ts';

const DAY1 = Date.UTC(2026, 10, 26, 23, 59, 59, 999);
const DAY2 = Date.UTC(2026, 10, 27, 0, 0, 0, 0);
const LIMIT = 1_000_000;

function call(atMs: number, inputTokens: number, outputTokens: number, promptHash = 'h'): UsageEntry {
  return { atMs, inputTokens, outputTokens, model: 'gpt-test', promptHash, kind: 'incident' };
}

describe('utcDay and nextUtcMidnight', () => {
  it('roll over at 00:00 UTC', () => {
    expect(utcDay(DAY1)).toBe('2026-11-26');
    expect(utcDay(DAY2)).toBe('2026-11-27');
    expect(nextUtcMidnight(DAY1)).toBe(DAY2);
    expect(nextUtcMidnight(DAY2)).toBe(Date.UTC(2026, 10, 28));
  });
});

describe('recordUsage', () => {
  it('sums input and output tokens of the day and keeps an audit entry per call', () => {
    let s = emptyUsage();
    s = recordUsage(s, call(DAY1 - 1_000, 1_200, 300, 'a'));
    s = recordUsage(s, call(DAY1, 800, 200.4, 'b'));
    expect(s).toEqual({
      day: '2026-11-26',
      inputTokens: 2_000,
      outputTokens: 501,
      calls: 2,
      audit: [call(DAY1 - 1_000, 1_200, 300, 'a'), call(DAY1, 800, 201, 'b')],
      auditDropped: 0,
    });
    expect(usedOn(s, DAY1)).toBe(2_501);
  });

  it('starts a new day at 00:00 UTC, and ignores a late call of an earlier day', () => {
    let s = recordUsage(emptyUsage(), call(DAY1, 500_000, 10));
    s = recordUsage(s, call(DAY2, 7, 3));
    expect(s).toEqual({
      day: '2026-11-27',
      inputTokens: 7,
      outputTokens: 3,
      calls: 1,
      audit: [call(DAY2, 7, 3)],
      auditDropped: 0,
    });
    expect(recordUsage(s, call(DAY1, 1_000, 1_000))).toBe(s);
    expect(usedOn(s, DAY1)).toBe(0);
  });

  it('counts negative or non-finite token figures as 0', () => {
    const s = recordUsage(emptyUsage(), call(DAY1, -5, Number.NaN));
    expect([s.inputTokens, s.outputTokens, s.calls]).toEqual([0, 0, 1]);
  });

  it('keeps at most the cap of audit entries, the latest, and counts the others', () => {
    let s: UsageState = emptyUsage();
    for (let i = 0; i < 7; i++) s = recordUsage(s, call(DAY1 - 7 + i, 1, 1, `h${i}`), 3);
    expect(s.audit.map((e) => e.promptHash)).toEqual(['h4', 'h5', 'h6']);
    expect(s.auditDropped).toBe(4);
    expect(s.calls).toBe(7);
    expect(s.inputTokens + s.outputTokens).toBe(14);
  });

  it('keeps 1 000 audit entries by default', () => {
    let s: UsageState = emptyUsage();
    for (let i = 0; i < 1_005; i++) s = recordUsage(s, call(DAY1 - 2_000 + i, 1, 0));
    expect(s.audit.length).toBe(1_000);
    expect(s.auditDropped).toBe(5);
  });
});

describe('budgetDecision', () => {
  it('allows a call that fits the day', () => {
    const s = recordUsage(emptyUsage(), call(DAY1, 900_000, 90_000));
    expect(budgetDecision(s, DAY1, LIMIT, 10_000)).toEqual({ allowed: true, used: 990_000, limit: LIMIT });
  });

  it('refuses a call that would pass the limit, until the next UTC day', () => {
    const s = recordUsage(emptyUsage(), call(DAY1, 900_000, 90_000));
    expect(budgetDecision(s, DAY1, LIMIT, 10_001)).toEqual({
      allowed: false,
      code: 'exhausted',
      reason:
        'This LLM call (about 10001 tokens) would pass the daily LLM token budget: 990000 of 1000000 tokens used on 2026-11-26 (UTC); calls resume at 2026-11-27T00:00:00.000Z.',
      resumesAt: DAY2,
      used: 990_000,
      limit: LIMIT,
    });
    expect(budgetDecision(s, DAY2, LIMIT, 10_001)).toEqual({ allowed: true, used: 0, limit: LIMIT });
  });

  it('refuses every call once the budget is spent', () => {
    const s = recordUsage(emptyUsage(), call(DAY1, 999_000, 1_500));
    expect(budgetDecision(s, DAY1, LIMIT, 0)).toEqual({
      allowed: false,
      code: 'exhausted',
      reason:
        'The daily LLM token budget is spent: 1000500 of 1000000 tokens used on 2026-11-26 (UTC); calls resume at 2026-11-27T00:00:00.000Z.',
      resumesAt: DAY2,
      used: 1_000_500,
      limit: LIMIT,
    });
  });

  it('refuses a call larger than a whole day, with no time to resume', () => {
    expect(budgetDecision(emptyUsage(), DAY1, 1_000, 1_001)).toEqual({
      allowed: false,
      code: 'too-large',
      reason:
        'This LLM call needs about 1001 tokens, more than the whole daily budget of 1000; raise HETU_LLM_DAILY_TOKENS or send less.',
      resumesAt: null,
      used: 0,
      limit: 1_000,
    });
  });

  it('a state restored from its JSON decides the same (kept in the log, a restart does not reset it)', () => {
    const s = recordUsage(emptyUsage(), call(DAY1, 999_999, 1));
    const restored = JSON.parse(JSON.stringify(s)) as UsageState;
    expect(budgetDecision(restored, DAY1, LIMIT, 1)).toEqual(budgetDecision(s, DAY1, LIMIT, 1));
    expect(budgetDecision(restored, DAY1, LIMIT, 1).allowed).toBe(false);
  });
});
