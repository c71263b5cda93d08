import { describe, expect, it } from 'vitest';
import { createErrorGroupsState, restoreErrorGroupsState } from './error-groups-state.ts';
import type { ErrorGroupsState } from './error-groups-state.ts';
import { ERROR_GROUPS_RESTORE_INVALID } from './records.ts';
import type { StateRecord } from './records.ts';
import { errorGroupId } from './rules.ts';
import { CMD_TOPIC, HOUR, OccurrenceFactory, SEC, T0 } from './test-fixtures.ts';
import type { ErrorCommand, ErrorGroupsChange, ErrorOccurrence, StepResult } from './types.ts';

type Input =
  | { readonly kind: 'occ'; readonly o: ErrorOccurrence }
  | { readonly kind: 'cmd'; readonly c: ErrorCommand }
  | { readonly kind: 'wm'; readonly ts: number };

const CONFIG = { maxGroups: 20, groupTtlMs: 6 * HOUR };

/** A fixed, varied input: late records, re-deliveries, every command, watermark jumps. */
function scenario(): Input[] {
  let seed = 42;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n); // high bits: an LCG's low bits cycle
  };
  const f = new OccurrenceFactory();
  const inputs: Input[] = [];
  const workloads = ['api', 'worker', 'cart'];
  const gid = () => errorGroupId('demo', 'shop', workloads[next(3)] as string, `fp-${next(8)}`);
  let ts = T0;
  let cmdOffset = 0;
  for (let i = 0; i < 1500; i++) {
    ts += next(60) * SEC;
    const roll = next(100);
    if (roll < 85) {
      const o = f.make({
        ts: roll < 8 ? ts - next(300) * SEC : ts, // some late records
        fingerprint: `fp-${next(next(30) + 1)}`, // skewed: low numbers are frequent
        workload: workloads[next(3)] as string,
        pod: `pod-${next(5)}`,
        level: (['error', 'warn', 'fatal', 'error'] as const)[next(4)] as 'error',
        message: `failure ${'x'.repeat(next(150))}`,
        stack: next(5) === 0 ? `at a.B.c(B.java:${next(99)})` : undefined,
        url: next(3) === 0 ? `/orders/${i}` : undefined,
        requestId: next(4) === 0 ? `req-${i}` : undefined,
      });
      inputs.push({ kind: 'occ', o });
      if (next(40) === 0) inputs.push({ kind: 'occ', o }); // re-delivery
    } else if (roll < 98) {
      const source = { topic: CMD_TOPIC, partition: 0, offset: String(cmdOffset++) };
      const base = { commandId: `c-${i}`, ts: ts - next(120) * SEC, source };
      const type = next(5);
      const c: ErrorCommand =
        type === 0
          ? { ...base, type: 'resolve', group: gid() }
          : type === 1
            ? { ...base, type: 'ignore', group: gid() }
            : type === 2
              ? { ...base, type: 'reopen', group: gid() }
              : type === 3
                ? { ...base, type: 'merge', target: gid(), sources: [gid(), gid()] }
                : { ...base, type: 'split', group: gid() };
      inputs.push({ kind: 'cmd', c });
    } else {
      ts += next(4) * 3 * HOUR; // 6 h and 9 h jumps outlive the TTL
      inputs.push({ kind: 'wm', ts });
    }
  }
  return inputs;
}

function step(s: ErrorGroupsState, input: Input): StepResult {
  if (input.kind === 'occ') return s.applyOccurrence(input.o);
  if (input.kind === 'cmd') return s.applyCommand(input.c);
  return s.advanceWatermark(input.ts);
}

describe('restore from the changelog', () => {
  const inputs = scenario();

  // The uninterrupted run: every change after each input, and the changelog a runtime would write.
  const whole = createErrorGroupsState(CONFIG);
  const changesAfter: ErrorGroupsChange[][] = [];
  const outcomes = new Map<string, number>();
  const changelog: StateRecord[][] = [];
  for (const input of inputs) {
    const r = step(whole, input);
    changesAfter.push([...r.changes]);
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    changelog.push(r.stateKeys.map((k) => whole.exportRecord(k)));
  }
  const finalState = JSON.stringify(whole.exportRecords());

  it('the scenario exercises every path (sanity of the fixture)', () => {
    const all = changesAfter.flat();
    const count = (t: ErrorGroupsChange['type']) => all.filter((c) => c.type === t).length;
    expect(inputs.length).toBeGreaterThan(1500);
    expect(count('upsert')).toBeGreaterThan(1000);
    expect(all.some((c) => c.type === 'delete' && c.reason === 'cap')).toBe(true);
    expect(all.some((c) => c.type === 'delete' && c.reason === 'ttl')).toBe(true);
    expect(count('fault-delete')).toBeGreaterThan(0);
    expect(all.some((c) => c.type === 'upsert' && c.group.mergedChildren.length > 0)).toBe(true);
    expect(all.some((c) => c.type === 'upsert' && c.group.regressed)).toBe(true);
    expect(all.some((c) => c.type === 'upsert' && c.group.spike)).toBe(true);
    expect([...outcomes.keys()].sort()).toEqual(['applied', 'duplicate', 'rejected']);
  });

  it.each([1, 97, 500, 1001, 1400])(
    'given the changelog up to input %i, a restored state continues exactly like the uninterrupted run',
    (cut) => {
      const restored = restoreErrorGroupsState(changelog.slice(0, cut).flat(), CONFIG);
      for (let i = cut; i < inputs.length; i++) {
        const r = step(restored, inputs[i] as Input);
        expect(r.changes).toEqual(changesAfter[i]);
      }
      expect(JSON.stringify(restored.exportRecords())).toBe(finalState);
    },
  );

  it('a snapshot (exportRecords) restores to the same state and continues identically', () => {
    const half = createErrorGroupsState(CONFIG);
    for (const input of inputs.slice(0, 800)) step(half, input);
    const records = JSON.parse(JSON.stringify(half.exportRecords())) as StateRecord[];
    const restored = restoreErrorGroupsState(records, CONFIG);
    expect(JSON.stringify(restored.exportRecords())).toBe(JSON.stringify(half.exportRecords()));
    expect(restored.groups()).toEqual(half.groups());
    expect(restored.faults()).toEqual(half.faults());
    for (let i = 800; i < inputs.length; i++) {
      expect(step(restored, inputs[i] as Input).changes).toEqual(changesAfter[i]);
    }
  });

  it('an empty changelog restores an empty state', () => {
    const s = restoreErrorGroupsState([]);
    expect([s.watermark, s.size, s.exportRecords()]).toEqual([
      null,
      0,
      [
        { key: 'meta', value: { kind: 'meta', v: 1, watermark: null, positions: [] } },
        { key: 'commands', value: { kind: 'commands', v: 1, ids: [] } },
      ],
    ]);
  });

  it('refuses records it does not understand, with a stable error code', () => {
    const bad = [
      { key: 'group:abc', value: { kind: 'meta', v: 1, watermark: 0, positions: [] } },
    ] as StateRecord[];
    expect(() => restoreErrorGroupsState(bad)).toThrowError(
      expect.objectContaining({ code: ERROR_GROUPS_RESTORE_INVALID }) as Error,
    );
  });
});
