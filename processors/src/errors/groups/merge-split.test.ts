import { describe, expect, it } from 'vitest';
import { createErrorGroupsState } from './error-groups-state.ts';
import type { ErrorGroupsState } from './error-groups-state.ts';
import { errorGroupId } from './rules.ts';
import { MIN, OccurrenceFactory, SEC, T0, command } from './test-fixtures.ts';
import type { ErrorGroup, MergeCommand, SplitCommand, StepResult } from './types.ts';

const A = errorGroupId('demo', 'shop', 'api', 'fp-a');
const B = errorGroupId('demo', 'shop', 'api', 'fp-b');
const C = errorGroupId('demo', 'shop', 'worker', 'fp-c');

function only(r: StepResult, id: string): ErrorGroup {
  const g = r.changes.flatMap((c) => (c.type === 'upsert' && c.group.id === id ? [c.group] : []))[0];
  if (g === undefined) throw new Error(`no upsert of ${id}`);
  return g;
}

/** A×3, B×2, C×1 (C with a stack), all in the first half-minute after T0. */
function seed(): { s: ErrorGroupsState; f: OccurrenceFactory } {
  const s = createErrorGroupsState();
  const f = new OccurrenceFactory();
  const a = { fingerprint: 'fp-a', message: 'db timeout' };
  const b = { fingerprint: 'fp-b', message: 'db connection reset' };
  const c = { fingerprint: 'fp-c', workload: 'worker', pod: 'worker-1', message: 'NPE' };
  s.applyOccurrence(f.make({ ...a, ts: T0 }));
  s.applyOccurrence(f.make({ ...b, ts: T0 + 5 * SEC }));
  s.applyOccurrence(f.make({ ...a, ts: T0 + 10 * SEC }));
  s.applyOccurrence(f.make({ ...b, ts: T0 + 15 * SEC }));
  s.applyOccurrence(f.make({ ...a, ts: T0 + 20 * SEC }));
  s.applyOccurrence(f.make({ ...c, ts: T0 + 25 * SEC, stack: 'at x.Y.z(Y.java:1)', level: 'fatal' }));
  return { s, f };
}

function merge(target: string, sources: string[], ts = T0 + MIN): MergeCommand {
  return command<MergeCommand>({ type: 'merge', target, sources, ts });
}

function split(group: string, ts = T0 + 2 * MIN): SplitCommand {
  return command<SplitCommand>({ type: 'split', group, ts });
}

describe('merge', () => {
  it('given A, B and C, when B and C merge into A, then A shows the roll-up and B, C point at A', () => {
    const { s } = seed();
    const r = s.applyCommand(merge(A, [B, C]));
    expect(r.outcome).toBe('applied');
    expect(r.changes.map((c) => (c.type === 'upsert' ? c.group.id : c.type))).toEqual([A, B, C].sort());
    expect(r.stateKeys).toEqual([`group:${B}`, `group:${C}`, 'commands'].sort());
    const a = only(r, A);
    expect({
      count: a.count,
      ownCount: a.ownCount,
      firstSeen: a.firstSeen,
      lastSeen: a.lastSeen,
      lastPod: a.lastPod,
      level: a.level,
      count1m: a.count1m,
      count5m: a.count5m,
      sparkline: a.sparkline,
      mergedChildren: a.mergedChildren,
      bestSampleScore: a.bestSampleScore,
      bestFrom: a.bestSample?.groupId,
      occurrences: a.occurrences.map((o) => [o.ts - T0, o.groupId]),
    }).toEqual({
      count: 6,
      ownCount: 3,
      firstSeen: T0,
      lastSeen: T0 + 25 * SEC,
      lastPod: 'worker-1',
      level: 'fatal',
      count1m: 5, // T0 is in the minute before E = T0 + 1 min
      count5m: 6,
      sparkline: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6],
      mergedChildren: [B, C].sort(),
      bestSampleScore: 103,
      bestFrom: C,
      occurrences: [
        [0, A],
        [5 * SEC, B],
        [10 * SEC, A],
        [15 * SEC, B],
        [20 * SEC, A],
        [25 * SEC, C],
      ],
    });
    expect(only(r, B)).toMatchObject({ mergedInto: A, count: 2, ownCount: 2, mergedChildren: [] });
  });

  it('routes later occurrences of a merged fingerprint to the target, and a resolved target regresses', () => {
    const { s, f } = seed();
    s.applyCommand(merge(A, [B]));
    s.applyCommand(command({ type: 'resolve', group: A, ts: T0 + MIN }));
    const r = s.applyOccurrence(f.make({ fingerprint: 'fp-b', ts: T0 + 2 * MIN }));
    expect(only(r, A)).toMatchObject({ count: 6, ownCount: 3, status: 'open', regressed: true });
    expect(only(r, B)).toMatchObject({ count: 3, mergedInto: A, status: 'open', regressed: false });
    // A status command on a merged child acts on the group it is merged into.
    const ign = s.applyCommand(command({ type: 'ignore', group: B, ts: T0 + 3 * MIN }));
    expect(only(ign, A).status).toBe('ignored');
  });

  it('does not change the fault roll-up, which stays per fingerprint', () => {
    const { s } = seed();
    const r = s.applyCommand(merge(A, [B]));
    expect(r.changes.some((c) => c.type === 'fault-upsert')).toBe(false);
    expect(s.fault('fp-b')?.totalCount).toBe(2);
    expect(s.fault('fp-a')?.totalCount).toBe(3);
  });

  it('flattens: merging a merged group moves its children too; a child as target means its group', () => {
    const { s } = seed();
    s.applyCommand(merge(B, [C]));
    expect(s.group(B)?.mergedChildren).toEqual([C]);
    const r = s.applyCommand(merge(A, [B]));
    expect(only(r, A).mergedChildren).toEqual([B, C].sort());
    expect(only(r, C).mergedInto).toBe(A);
    expect(only(r, A).count).toBe(6);
    // Target C (a child of A) resolves to A; A, B, C are already one family: nothing changes.
    const again = s.applyCommand(merge(C, [A, B]));
    expect([again.outcome, again.changes]).toEqual(['applied', []]);
  });

  it('rejects an unknown target, or sources none of which is known', () => {
    const { s } = seed();
    expect(s.applyCommand(merge('nope', [B])).reason).toBe('unknown target group "nope"');
    expect(s.applyCommand(merge(A, ['x', 'y'])).reason).toBe('none of the source groups is known');
  });
});

describe('split', () => {
  it('merge then split restores every group exactly as if they had never been merged', () => {
    const merged = seed();
    const control = seed();
    merged.s.applyCommand(merge(A, [B, C]));
    // Occurrences while merged, including a new best sample for B and a later one for A.
    const during = [
      {
        fingerprint: 'fp-b',
        ts: T0 + 90 * SEC,
        message: 'db connection reset',
        url: '/pay',
        requestId: 'r-9',
      },
      { fingerprint: 'fp-a', ts: T0 + 100 * SEC, message: 'db timeout', pod: 'api-2' },
      { fingerprint: 'fp-c', ts: T0 + 7 * MIN, workload: 'worker', pod: 'worker-2', message: 'NPE' },
    ];
    for (const o of during) {
      merged.s.applyOccurrence(merged.f.make(o));
      control.s.applyOccurrence(control.f.make(o));
    }
    expect(merged.s.group(A)?.count).toBe(9);
    const r = merged.s.applyCommand(split(A, T0 + 8 * MIN));
    expect(r.changes.map((c) => (c.type === 'upsert' ? c.group.id : c.type))).toEqual([A, B, C].sort());
    for (const id of [A, B, C]) {
      expect(merged.s.group(id)).toEqual(control.s.group(id));
    }
    expect([A, B, C].map((id) => merged.s.group(id)?.count)).toEqual([4, 3, 2]);
    expect(merged.s.group(A)).toMatchObject({ mergedInto: null, mergedChildren: [], count1h: 4, count5m: 0 });
    // And the same holds as time goes on.
    merged.s.advanceWatermark(T0 + 30 * MIN);
    control.s.advanceWatermark(T0 + 30 * MIN);
    for (const id of [A, B, C]) expect(merged.s.group(id)).toEqual(control.s.group(id));
  });

  it('splitting a child detaches only that child', () => {
    const { s } = seed();
    s.applyCommand(merge(A, [B, C]));
    const r = s.applyCommand(split(C));
    expect(only(r, A)).toMatchObject({ count: 5, mergedChildren: [B] });
    expect(only(r, C)).toMatchObject({ count: 1, mergedInto: null });
    expect(r.changes.some((c) => c.type === 'upsert' && c.group.id === B)).toBe(false);
  });

  it('splitting a group that has no merged children changes nothing', () => {
    const { s } = seed();
    expect(s.applyCommand(split(A))).toEqual({ outcome: 'applied', changes: [], stateKeys: ['commands'] });
  });
});
