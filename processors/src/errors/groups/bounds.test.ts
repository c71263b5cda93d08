import { describe, expect, it } from 'vitest';
import { createErrorGroupsState } from './error-groups-state.ts';
import { errorGroupId } from './rules.ts';
import { DAY, HOUR, MIN, OccurrenceFactory, SEC, T0, command } from './test-fixtures.ts';
import type { ErrorGroupsChange, MergeCommand, SplitCommand } from './types.ts';

const id = (fp: string, workload = 'api') => errorGroupId('demo', 'shop', workload, fp);
const WEEK = 7 * DAY;

/** Group changes come sorted by group id: build the expected list in that order. */
function byGroupId(entries: [string, string][]): string[] {
  return entries.sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1]);
}

function summary(changes: readonly ErrorGroupsChange[]): string[] {
  return changes.map((c) => {
    switch (c.type) {
      case 'upsert':
        return `upsert ${c.group.fingerprint}`;
      case 'delete':
        return `delete ${c.id} ${c.reason}`;
      case 'fault-upsert':
        return `fault-upsert ${c.fault.faultKey}`;
      case 'fault-delete':
        return `fault-delete ${c.faultKey}`;
    }
  });
}

describe('cap: least recently seen first', () => {
  it('given a full state, when a new group arrives, then the group with the oldest lastSeen is deleted', () => {
    const s = createErrorGroupsState({ maxGroups: 3 });
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ fingerprint: 'fp-1', ts: T0 }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-2', ts: T0 + SEC }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-3', ts: T0 + 2 * SEC }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-1', ts: T0 + 3 * SEC })); // fp-1 is recent again
    const r = s.applyOccurrence(f.make({ fingerprint: 'fp-4', ts: T0 + 4 * SEC }));
    const groupChanges = byGroupId([
      [id('fp-2'), `delete ${id('fp-2')} cap`],
      [id('fp-4'), 'upsert fp-4'],
    ]);
    expect(summary(r.changes)).toEqual([...groupChanges, 'fault-delete fp-2', 'fault-upsert fp-4']);
    expect(r.stateKeys).toEqual([`group:${id('fp-2')}`, `group:${id('fp-4')}`, 'meta'].sort());
    expect(
      s
        .groups()
        .map((g) => g.fingerprint)
        .sort(),
    ).toEqual(['fp-1', 'fp-3', 'fp-4']);
  });

  it('breaks a tie on lastSeen by the smaller id', () => {
    const s = createErrorGroupsState({ maxGroups: 2 });
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ fingerprint: 'fp-x', ts: T0 }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-y', ts: T0 }));
    const r = s.applyOccurrence(f.make({ fingerprint: 'fp-z', ts: T0 + SEC }));
    const smaller = [id('fp-x'), id('fp-y')].sort()[0];
    expect(r.changes.filter((c) => c.type === 'delete')).toEqual([
      { type: 'delete', id: smaller, cluster: 'demo', reason: 'cap' },
    ]);
  });

  it('a late occurrence of a new group older than every kept group is dropped by the cap without any change', () => {
    const s = createErrorGroupsState({ maxGroups: 2 });
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ fingerprint: 'fp-1', ts: T0 + 10 * SEC }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-2', ts: T0 + 20 * SEC }));
    const r = s.applyOccurrence(f.make({ fingerprint: 'fp-old', ts: T0 }));
    expect(r).toEqual({ outcome: 'applied', changes: [], stateKeys: [`group:${id('fp-old')}`, 'meta'] });
    expect(s.size).toBe(2);
  });

  it('evicts a merged family as a whole, ordered by the family’s latest lastSeen', () => {
    const s = createErrorGroupsState({ maxGroups: 3 });
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ fingerprint: 'fp-a', ts: T0 }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-c', ts: T0 + SEC }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-b', ts: T0 + 2 * SEC }));
    s.applyCommand(
      command<MergeCommand>({ type: 'merge', target: id('fp-a'), sources: [id('fp-b')], ts: T0 }),
    );
    // Family {a, b} was last seen at T0 + 2 s, so c (T0 + 1 s) is the least recently seen.
    let r = s.applyOccurrence(f.make({ fingerprint: 'fp-d', ts: T0 + 3 * SEC }));
    expect(r.changes.filter((c) => c.type === 'delete')).toEqual([
      { type: 'delete', id: id('fp-c'), cluster: 'demo', reason: 'cap' },
    ]);
    r = s.applyOccurrence(f.make({ fingerprint: 'fp-e', ts: T0 + 4 * SEC }));
    expect(
      r.changes
        .filter((c) => c.type === 'delete')
        .map((c) => (c.type === 'delete' ? c.id : ''))
        .sort(),
    ).toEqual([id('fp-a'), id('fp-b')].sort());
    expect(
      s
        .groups()
        .map((g) => g.fingerprint)
        .sort(),
    ).toEqual(['fp-d', 'fp-e']);
  });
});

describe('TTL: 7 days after lastSeen, by the watermark', () => {
  it('keeps a group until watermark − lastSeen reaches 7 days, then deletes it with its fault', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 }));
    s.applyOccurrence(f.make({ ts: T0 + HOUR, fingerprint: 'fp-later' }));
    const keep = s.advanceWatermark(T0 + WEEK - 1);
    expect(keep.changes.filter((c) => c.type === 'delete')).toEqual([]);
    const gone = s.advanceWatermark(T0 + WEEK);
    expect(summary(gone.changes)).toEqual([`delete ${id('fp-timeout')} ttl`, 'fault-delete fp-timeout']);
    expect(gone.stateKeys).toEqual([`group:${id('fp-timeout')}`, 'meta']);
    expect(s.groups().map((g) => g.fingerprint)).toEqual(['fp-later']);
  });

  it('drops an occurrence that is already 7 days older than the watermark', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 + WEEK, fingerprint: 'fp-now' }));
    expect(s.applyOccurrence(f.make({ ts: T0 }))).toEqual({
      outcome: 'expired',
      reason: 'older than the group TTL at the watermark',
      changes: [],
      stateKeys: ['meta'],
    });
    expect(s.applyOccurrence(f.make({ ts: T0 + 1 })).outcome).toBe('applied');
  });

  it('a merged child lives as long as its family; split off, a stale child expires at once', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ fingerprint: 'fp-old', ts: T0 }));
    s.applyOccurrence(f.make({ fingerprint: 'fp-new', ts: T0 + DAY }));
    s.applyCommand(
      command<MergeCommand>({ type: 'merge', target: id('fp-new'), sources: [id('fp-old')], ts: T0 }),
    );
    expect(s.advanceWatermark(T0 + WEEK + HOUR).changes.filter((c) => c.type === 'delete')).toEqual([]);
    const r = s.applyCommand(command<SplitCommand>({ type: 'split', group: id('fp-old'), ts: T0 + WEEK }));
    expect(summary(r.changes)).toEqual([
      ...byGroupId([
        [id('fp-old'), `delete ${id('fp-old')} ttl`],
        [id('fp-new'), 'upsert fp-new'],
      ]),
      'fault-delete fp-old',
    ]);
  });
});

describe('bounded memory', () => {
  it('100 000 occurrences across 5 000 fingerprints keep at most 2 000 groups, 50 occurrences and 1 440 buckets each, with exact counts', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    let deletes = 0;
    let maxGroups = 0;
    let maxHeap = 0;
    // Even i: 10 hot fingerprints (fp-0 … fp-9); odd i: 4 990 cold ones in turn (fp-10 … fp-4999).
    const fpOf = (i: number) => (i % 2 === 0 ? `fp-${(i / 2) % 10}` : `fp-${10 + (((i - 1) / 2) % 4990)}`);
    for (let i = 0; i < 100_000; i++) {
      const r = s.applyOccurrence(
        f.make({ ts: T0 + i * SEC, fingerprint: fpOf(i), message: `failure ${i}`, url: `/orders/${i}` }),
      );
      for (const c of r.changes) if (c.type === 'delete') deletes++;
      if (i % 1000 === 999) {
        const st = s.stats();
        maxGroups = Math.max(maxGroups, st.groups);
        maxHeap = Math.max(maxHeap, st.heapEntries);
      }
    }
    const st = s.stats();
    expect(maxGroups).toBe(2000);
    expect(maxHeap).toBeLessThanOrEqual(2 * 2000 + 1024);
    expect({ ...st, heapEntries: 0, activeGroups: 0, bucketsStored: 0, occurrencesStored: 0 }).toEqual({
      groups: 2000,
      mergedGroups: 0,
      faults: 2000,
      activeGroups: 0,
      heapEntries: 0,
      occurrencesStored: 0,
      maxOccurrencesPerGroup: 50,
      bucketsStored: 0,
      maxBucketsPerGroup: 1440,
      positions: 1,
      commandIds: 0,
    });
    // Every cold group was evicted before its fingerprint came round again.
    expect(deletes).toBe(50_000 - 1990);
    const groups = s.groups();
    expect(
      groups
        .filter((g) => g.count === 5000)
        .map((g) => g.fingerprint)
        .sort(),
    ).toEqual(Array.from({ length: 10 }, (_, h) => `fp-${h}`).sort());
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(10 * 5000 + 1990);

    // The counters of a hot group equal a brute-force count over its occurrence times.
    const times = Array.from({ length: 5000 }, (_, j) => T0 + 20 * j * SEC); // fp-0: i = 20 j
    const wm = T0 + 99_999 * SEC;
    const e = Math.ceil(wm / MIN) * MIN;
    const inWindow = (from: number, to: number) => times.filter((t) => t > from && t <= to).length;
    const hot = s.group(id('fp-0'));
    expect(
      hot && [hot.count1m, hot.count5m, hot.count1h, hot.count24h, hot.sparkline, hot.countersAt],
    ).toEqual([
      inWindow(e - MIN, e),
      inWindow(e - 5 * MIN, e),
      inWindow(e - HOUR, e),
      inWindow(e - DAY, e),
      Array.from({ length: 12 }, (_, slot) => inWindow(e - (12 - slot) * 5 * MIN, e - (11 - slot) * 5 * MIN)),
      e,
    ]);
    expect(hot?.occurrences.map((o) => o.ts)).toEqual(times.slice(-50));
  });
});
