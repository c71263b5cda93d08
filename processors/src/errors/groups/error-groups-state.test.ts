import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createErrorGroupsState } from './error-groups-state.ts';
import type { ErrorGroupsState } from './error-groups-state.ts';
import { errorGroupId, sampleScore, severityRank } from './rules.ts';
import {
  CMD_TOPIC,
  DAY,
  HOUR,
  MIN,
  OCC_TOPIC,
  OccurrenceFactory,
  SEC,
  T0,
  command,
} from './test-fixtures.ts';
import type { ErrorGroup, ErrorGroupsChange, IgnoreCommand, ResolveCommand, StepResult } from './types.ts';

const API = errorGroupId('demo', 'shop', 'api', 'fp-timeout');

function upserted(r: StepResult): ErrorGroup[] {
  return r.changes.flatMap((c) => (c.type === 'upsert' ? [c.group] : []));
}

function only(r: StepResult, id: string): ErrorGroup {
  const g = upserted(r).find((x) => x.id === id);
  if (g === undefined)
    throw new Error(`no upsert of ${id} in ${JSON.stringify(r.changes.map((c) => c.type))}`);
  return g;
}

function counters(g: ErrorGroup | undefined) {
  if (g === undefined) throw new Error('no group');
  const { count1m, count5m, count1h, count24h, sparkline, spike, countersAt } = g;
  return { countersAt, count1m, count5m, count1h, count24h, sparkline, spike };
}

function zeros(...tail: number[]): number[] {
  return [...new Array<number>(12 - tail.length).fill(0), ...tail];
}

describe('group id', () => {
  it('is the first 16 hex digits of sha-256 over [cluster, namespace, workload, fingerprint]', () => {
    const expected = createHash('sha256')
      .update(JSON.stringify(['demo', 'shop', 'api', 'fp-timeout']))
      .digest('hex')
      .slice(0, 16);
    expect(API).toBe(expected);
    expect(API).toBe('2e44117e61b3f9d3'); // pinned: ids are keys of a compacted topic
    expect(errorGroupId('demo', 'billing', 'api', 'fp-timeout')).toBe('1e2a049ebebf49d2');
  });
});

describe('severityRank and sampleScore', () => {
  it('ranks fatal/panic 5, error 4, warn 3, info 2, debug/trace 1', () => {
    expect(
      (['fatal', 'panic', 'error', 'warn', 'info', 'debug', 'trace'] as const).map((l) => severityRank(l)),
    ).toEqual([5, 5, 4, 3, 2, 1, 1]);
  });

  it('scores stack +100, message length up to +100, url +30, request id +10', () => {
    expect(sampleScore({ message: 'x'.repeat(40) })).toBe(40);
    expect(sampleScore({ message: 'x'.repeat(250) })).toBe(100);
    expect(sampleScore({ message: 'boom', stack: 'at a()', url: '/x', requestId: 'r' })).toBe(144);
    expect(sampleScore({ message: 'boom', stack: '', url: '', requestId: '' })).toBe(4);
  });
});

describe('applyOccurrence: a new group', () => {
  it('given an empty state, when one occurrence arrives, then the group and its fault are upserted with exact values', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    const r = s.applyOccurrence(f.make({ ts: T0 + 30 * SEC, url: '/checkout', requestId: 'req-1' }));
    const source = { topic: OCC_TOPIC, partition: 0, offset: '0' };
    expect(r).toEqual({
      outcome: 'applied',
      stateKeys: [`group:${API}`, 'meta'],
      changes: [
        {
          type: 'upsert',
          group: {
            id: API,
            fingerprint: 'fp-timeout',
            faultKey: 'fp-timeout',
            cluster: 'demo',
            namespace: 'shop',
            workload: 'api',
            title: 'upstream timed out after 250ms',
            exceptionType: null,
            reason: 'timeout',
            level: 'error',
            severityRank: 4,
            firstSeen: T0 + 30 * SEC,
            lastSeen: T0 + 30 * SEC,
            count: 1,
            ownCount: 1,
            status: 'open',
            regressed: false,
            regressedAt: null,
            resolvedAt: null,
            statusChangedAt: null,
            lastPod: 'api-7d9f-x2',
            lastContainer: 'api',
            lastUrl: '/checkout',
            bestSample: {
              groupId: API,
              ts: T0 + 30 * SEC,
              pod: 'api-7d9f-x2',
              container: 'api',
              level: 'error',
              exceptionType: null,
              message: 'upstream timed out after 250ms',
              stack: null,
              url: '/checkout',
              requestId: 'req-1',
              traceId: null,
              truncated: false,
              source,
            },
            bestSampleScore: 70, // 30 characters + url 30 + request id 10
            occurrences: [
              {
                groupId: API,
                ts: T0 + 30 * SEC,
                pod: 'api-7d9f-x2',
                container: 'api',
                level: 'error',
                message: 'upstream timed out after 250ms',
                hasStack: false,
                url: '/checkout',
                requestId: 'req-1',
                traceId: null,
                source,
              },
            ],
            countersAt: T0 + MIN,
            count1m: 1,
            count5m: 1,
            count1h: 1,
            count24h: 1,
            sparkline: zeros(1),
            spike: false,
            mergedInto: null,
            mergedChildren: [],
          },
        },
        {
          type: 'fault-upsert',
          fault: {
            faultKey: 'fp-timeout',
            title: 'upstream timed out after 250ms',
            exceptionType: null,
            reason: 'timeout',
            worstLevel: 'error',
            severityRank: 4,
            totalCount: 1,
            firstSeen: T0 + 30 * SEC,
            lastSeen: T0 + 30 * SEC,
            workloads: [
              {
                groupId: API,
                cluster: 'demo',
                namespace: 'shop',
                workload: 'api',
                count: 1,
                firstSeen: T0 + 30 * SEC,
                lastSeen: T0 + 30 * SEC,
                level: 'error',
              },
            ],
          },
        },
      ],
    });
    expect(s.watermark).toBe(T0 + 30 * SEC);
  });

  it('cuts a long title to 200 characters without splitting a surrogate pair, and keeps the worst level', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ title: 'a'.repeat(199) + '😀tail', level: 'warn' }));
    s.applyOccurrence(f.make({ ts: T0 + 1, level: 'fatal' }));
    const g = s.applyOccurrence(f.make({ ts: T0 + 2, level: 'error' }));
    expect(only(g, API).title).toBe('a'.repeat(199));
    expect(only(g, API).level).toBe('fatal');
    expect(only(g, API).severityRank).toBe(5);
  });

  it('keeps firstSeen/lastSeen by event time: a late occurrence moves firstSeen, not lastSeen or lastPod', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 + 10 * SEC, pod: 'api-new' }));
    const r = s.applyOccurrence(f.make({ ts: T0 + 2 * SEC, pod: 'api-old' }));
    const g = only(r, API);
    expect([g.firstSeen, g.lastSeen, g.lastPod, g.count]).toEqual([
      T0 + 2 * SEC,
      T0 + 10 * SEC,
      'api-new',
      2,
    ]);
    expect(g.occurrences.map((o) => o.pod)).toEqual(['api-old', 'api-new']);
    expect(s.watermark).toBe(T0 + 10 * SEC);
  });
});

describe('rate counters and spike at window edges', () => {
  it('given the watermark on a whole minute, an occurrence exactly 5 min before it is out of count5m and 1 ms later is in', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 - 5 * MIN }));
    s.applyOccurrence(f.make({ ts: T0 - 5 * MIN + 1 }));
    s.applyOccurrence(f.make({ ts: T0 - MIN })); // exactly 1 min before: out of count1m
    const r = s.applyOccurrence(f.make({ ts: T0 }));
    expect(counters(only(r, API))).toEqual({
      countersAt: T0,
      count1m: 1,
      count5m: 3,
      count1h: 4,
      count24h: 4,
      sparkline: zeros(1, 3),
      spike: true, // 3 ≥ 3 and 36 > 8
    });
  });

  it('given the watermark between minutes, counters are evaluated at the next whole minute', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 - 4 * MIN - 30 * SEC })); // exactly 5 min before the watermark
    s.applyOccurrence(f.make({ ts: T0 - 4 * MIN })); // exactly 5 min before E
    s.applyOccurrence(f.make({ ts: T0 - 4 * MIN + 1 }));
    const r = s.applyOccurrence(f.make({ ts: T0 + 30 * SEC }));
    expect(counters(only(r, API))).toEqual({
      countersAt: T0 + MIN,
      count1m: 1,
      count5m: 2,
      count1h: 4,
      count24h: 4,
      sparkline: zeros(2, 2),
      spike: false, // only 2 in 5 min
    });
  });

  it('an occurrence exactly 1 h and exactly 24 h before the evaluation instant is out of count1h and count24h', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 - DAY }));
    s.applyOccurrence(f.make({ ts: T0 - DAY + 1 }));
    s.applyOccurrence(f.make({ ts: T0 - HOUR }));
    s.applyOccurrence(f.make({ ts: T0 - HOUR + 1 }));
    const r = s.advanceWatermark(T0);
    expect(counters(only(r, API))).toEqual({
      countersAt: T0,
      count1m: 0,
      count5m: 0,
      count1h: 1, // T0 − 1 h + 1 ms
      count24h: 3, // T0 − 24 h + 1 ms, T0 − 1 h, T0 − 1 h + 1 ms
      sparkline: zeros(1, ...new Array<number>(11).fill(0)),
      spike: false,
    });
    expect(s.group(API)?.count).toBe(4);
  });

  it('spike: 3 in 5 min against 15 earlier in the hour is no spike (36 > 36 fails); against 14 it is', () => {
    for (const [earlier, spike] of [
      [15, false],
      [14, true],
    ] as const) {
      const s = createErrorGroupsState();
      const f = new OccurrenceFactory();
      for (let i = 0; i < earlier; i++) s.applyOccurrence(f.make({ ts: T0 - 30 * MIN + i * SEC }));
      for (let i = 0; i < 2; i++) s.applyOccurrence(f.make({ ts: T0 - MIN + i * SEC }));
      const r = s.applyOccurrence(f.make({ ts: T0 }));
      const g = only(r, API);
      expect([g.count5m, g.count1h, g.spike]).toEqual([3, earlier + 3, spike]);
    }
  });

  it('as the watermark advances, counters decay and a group is upserted only when a published value changes', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    for (let i = 0; i < 3; i++) s.applyOccurrence(f.make({ ts: T0 - 10 * SEC + i }));
    expect(counters(s.group(API))).toEqual({
      countersAt: T0,
      count1m: 3,
      count5m: 3,
      count1h: 3,
      count24h: 3,
      sparkline: zeros(3),
      spike: true,
    });
    // Same minute: nothing to publish.
    expect(s.advanceWatermark(T0).changes).toEqual([]);
    // One minute on: out of count1m.
    expect(counters(only(s.advanceWatermark(T0 + 1), API))).toEqual({
      countersAt: T0 + MIN,
      count1m: 0,
      count5m: 3,
      count1h: 3,
      count24h: 3,
      sparkline: zeros(3),
      spike: true,
    });
    // 2 and 3 min later only countersAt would change: no upsert.
    expect(s.advanceWatermark(T0 + 2 * MIN).changes).toEqual([]);
    expect(s.advanceWatermark(T0 + 3 * MIN).changes).toEqual([]);
    // 5 min after the occurrences' minute: they leave count5m and move one sparkline slot back.
    expect(counters(only(s.advanceWatermark(T0 + 5 * MIN), API))).toEqual({
      countersAt: T0 + 5 * MIN,
      count1m: 0,
      count5m: 0,
      count1h: 3,
      count24h: 3,
      sparkline: zeros(3, 0),
      spike: false,
    });
    // A jump of 24 h: everything is out.
    expect(counters(only(s.advanceWatermark(T0 + DAY), API))).toEqual({
      countersAt: T0 + DAY,
      count1m: 0,
      count5m: 0,
      count1h: 0,
      count24h: 0,
      sparkline: zeros(),
      spike: false,
    });
    expect(s.stats().activeGroups).toBe(0);
    expect(s.advanceWatermark(T0 + 2 * DAY).changes).toEqual([]);
    expect(s.group(API)?.count).toBe(3);
  });

  it('a watermark that does not move forward changes nothing', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 }));
    expect(s.advanceWatermark(T0 - HOUR)).toEqual({ outcome: 'applied', changes: [], stateKeys: [] });
    expect(s.watermark).toBe(T0);
  });
});

describe('status: resolve, regression, ignore, reopen', () => {
  function resolved(): { s: ErrorGroupsState; f: OccurrenceFactory } {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 }));
    const r = s.applyCommand(command<ResolveCommand>({ type: 'resolve', group: API, ts: T0 + MIN }));
    expect(r.outcome).toBe('applied');
    expect(only(r, API)).toMatchObject({
      status: 'resolved',
      resolvedAt: T0 + MIN,
      statusChangedAt: T0 + MIN,
    });
    return { s, f };
  }

  it('given a resolved group, when it occurs after the resolve time, then it reopens and is marked regressed', () => {
    const { s, f } = resolved();
    const r = s.applyOccurrence(f.make({ ts: T0 + 2 * MIN }));
    expect(only(r, API)).toMatchObject({
      status: 'open',
      regressed: true,
      regressedAt: T0 + 2 * MIN,
      resolvedAt: null,
      statusChangedAt: T0 + 2 * MIN,
      count: 2,
    });
  });

  it('given a resolved group, when an occurrence from before the resolve time arrives late, then it counts but stays resolved', () => {
    const { s, f } = resolved();
    const r = s.applyOccurrence(f.make({ ts: T0 + MIN }));
    expect(only(r, API)).toMatchObject({ status: 'resolved', regressed: false, count: 2 });
  });

  it('given an occurrence already counted after the resolve time, resolving marks the group regressed at once', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 + 5 * MIN }));
    const r = s.applyCommand(command<ResolveCommand>({ type: 'resolve', group: API, ts: T0 + MIN }));
    expect(only(r, API)).toMatchObject({
      status: 'open',
      regressed: true,
      regressedAt: T0 + 5 * MIN,
      resolvedAt: null,
    });
  });

  it('given an ignored group, when it occurs again, then it stays ignored and still counts', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0 }));
    s.applyCommand(command({ type: 'ignore', group: API, ts: T0 + MIN }));
    const r = s.applyOccurrence(f.make({ ts: T0 + 2 * MIN }));
    expect(only(r, API)).toMatchObject({ status: 'ignored', regressed: false, count: 2, count5m: 2 });
  });

  it('reopen clears the regressed flag; a status command that changes nothing publishes nothing', () => {
    const { s, f } = resolved();
    s.applyOccurrence(f.make({ ts: T0 + 2 * MIN }));
    const r = s.applyCommand(command({ type: 'reopen', group: API, ts: T0 + 3 * MIN }));
    expect(only(r, API)).toMatchObject({
      status: 'open',
      regressed: false,
      regressedAt: null,
      statusChangedAt: T0 + 3 * MIN,
    });
    expect(s.applyCommand(command({ type: 'reopen', group: API, ts: T0 + 4 * MIN }))).toEqual({
      outcome: 'applied',
      changes: [],
      stateKeys: ['commands'],
    });
  });

  it('a command id seen before is a duplicate; an unknown group is rejected', () => {
    const { s } = resolved();
    const c = command<IgnoreCommand>({ type: 'ignore', group: API, ts: T0 + 2 * MIN });
    expect(s.applyCommand(c).outcome).toBe('applied');
    expect(s.applyCommand({ ...c, type: 'reopen' as const })).toEqual({
      outcome: 'duplicate',
      changes: [],
      stateKeys: [],
    });
    expect(s.group(API)?.status).toBe('ignored');
    expect(s.applyCommand(command({ type: 'resolve', group: 'nope', ts: T0 }))).toEqual({
      outcome: 'rejected',
      reason: 'unknown group "nope"',
      changes: [],
      stateKeys: ['commands'],
    });
  });

  it('a command at a topic position already applied changes nothing', () => {
    const { s } = resolved();
    const source = { topic: CMD_TOPIC, partition: 0, offset: '7' };
    expect(s.applyCommand(command({ type: 'ignore', group: API, ts: T0 + 2 * MIN, source })).outcome).toBe(
      'applied',
    );
    const again = s.applyCommand(command({ type: 'reopen', group: API, ts: T0 + 3 * MIN, source }));
    expect(again.outcome).toBe('duplicate');
    expect(s.group(API)?.status).toBe('ignored');
  });
});

describe('best sample', () => {
  it('is replaced only by a strictly better occurrence', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    const best = (r: StepResult) => {
      const g = only(r, API);
      return [g.bestSampleScore, g.bestSample?.ts];
    };
    expect(best(s.applyOccurrence(f.make({ ts: T0, message: 'x'.repeat(60) })))).toEqual([60, T0]);
    // Equal score: kept.
    expect(best(s.applyOccurrence(f.make({ ts: T0 + 1, message: 'y'.repeat(30), url: '/a' })))).toEqual([
      60,
      T0,
    ]);
    // Lower score: kept.
    expect(best(s.applyOccurrence(f.make({ ts: T0 + 2, message: 'z' })))).toEqual([60, T0]);
    // One point better: replaced.
    expect(best(s.applyOccurrence(f.make({ ts: T0 + 3, message: 'w'.repeat(31), url: '/a' })))).toEqual([
      61,
      T0 + 3,
    ]);
    // A stack beats everything without one.
    const r = s.applyOccurrence(
      f.make({ ts: T0 + 4, message: 'NPE', stack: 'java.lang.NullPointerException\n\tat a.B.c(B.java:1)' }),
    );
    expect(best(r)).toEqual([103, T0 + 4]);
    expect(only(r, API).bestSample?.stack).toBe('java.lang.NullPointerException\n\tat a.B.c(B.java:1)');
  });

  it('keeps the full score of a cut sample and marks it truncated', () => {
    const s = createErrorGroupsState({ sampleMessageMaxChars: 10, sampleStackMaxChars: 5 });
    const f = new OccurrenceFactory();
    const g = only(s.applyOccurrence(f.make({ message: 'm'.repeat(50), stack: 's'.repeat(9) })), API);
    expect(g.bestSampleScore).toBe(150);
    expect(g.bestSample).toMatchObject({ message: 'm'.repeat(10), stack: 's'.repeat(5), truncated: true });
  });
});

describe('occurrence ring', () => {
  it('keeps the latest 50 of 60 occurrences while the count stays exact', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    let r: StepResult | undefined;
    for (let i = 0; i < 60; i++) r = s.applyOccurrence(f.make({ ts: T0 + i * SEC, pod: `api-${i}` }));
    const g = only(r as StepResult, API);
    expect(g.count).toBe(60);
    expect(g.occurrences.length).toBe(50);
    expect(g.occurrences[0]?.pod).toBe('api-10');
    expect(g.occurrences[49]?.pod).toBe('api-59');
    // A late occurrence older than the whole ring counts but does not enter it.
    const late = only(s.applyOccurrence(f.make({ ts: T0 + 5 * SEC, pod: 'late' })), API);
    expect([late.count, late.occurrences[0]?.pod]).toEqual([61, 'api-10']);
    // A late one inside the ring's span enters it in time order, pushing out the oldest.
    const mid = only(s.applyOccurrence(f.make({ ts: T0 + 20 * SEC + 500, pod: 'mid' })), API);
    expect(mid.occurrences.map((o) => o.pod).slice(0, 11)).toEqual([
      'api-11',
      'api-12',
      'api-13',
      'api-14',
      'api-15',
      'api-16',
      'api-17',
      'api-18',
      'api-19',
      'api-20',
      'mid',
    ]);
    expect(s.stats().maxOccurrencesPerGroup).toBe(50);
  });

  it('cuts ring messages to the configured length', () => {
    const s = createErrorGroupsState({ occurrenceMessageMaxChars: 8 });
    const f = new OccurrenceFactory();
    const g = only(s.applyOccurrence(f.make({ message: 'connection refused' })), API);
    expect(g.occurrences[0]?.message).toBe('connecti');
  });
});

describe('fault roll-up', () => {
  it('given the same fingerprint in two workloads, the fault lists both with totals and the worst level', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ ts: T0, workload: 'api', level: 'error' }));
    s.applyOccurrence(f.make({ ts: T0 + SEC, workload: 'worker', pod: 'worker-1', level: 'fatal' }));
    const r = s.applyOccurrence(f.make({ ts: T0 + 2 * SEC, workload: 'api' }));
    const worker = errorGroupId('demo', 'shop', 'worker', 'fp-timeout');
    const fault = r.changes.find((c) => c.type === 'fault-upsert');
    expect(fault).toEqual({
      type: 'fault-upsert',
      fault: {
        faultKey: 'fp-timeout',
        title: 'upstream timed out after 250ms',
        exceptionType: null,
        reason: 'timeout',
        worstLevel: 'fatal',
        severityRank: 5,
        totalCount: 3,
        firstSeen: T0,
        lastSeen: T0 + 2 * SEC,
        workloads: [
          {
            groupId: API,
            cluster: 'demo',
            namespace: 'shop',
            workload: 'api',
            count: 2,
            firstSeen: T0,
            lastSeen: T0 + 2 * SEC,
            level: 'error',
          },
          {
            groupId: worker,
            cluster: 'demo',
            namespace: 'shop',
            workload: 'worker',
            count: 1,
            firstSeen: T0 + SEC,
            lastSeen: T0 + SEC,
            level: 'fatal',
          },
        ],
      },
    });
    expect(s.faults().map((x) => x.faultKey)).toEqual(['fp-timeout']);
    expect(s.groups().map((g) => [g.workload, g.count])).toEqual([
      ['api', 2],
      ['worker', 1],
    ]);
  });
});

describe('idempotence', () => {
  it('re-applying an occurrence at or below the last applied offset of its partition changes nothing', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    const a = f.make({ ts: T0 });
    const b = f.make({ ts: T0 + SEC });
    s.applyOccurrence(a);
    s.applyOccurrence(b);
    const before = JSON.stringify(s.exportRecords());
    expect(s.applyOccurrence(a)).toEqual({ outcome: 'duplicate', changes: [], stateKeys: [] });
    expect(s.applyOccurrence(b)).toEqual({ outcome: 'duplicate', changes: [], stateKeys: [] });
    expect(JSON.stringify(s.exportRecords())).toBe(before);
    // The same offset on another partition is another record.
    const other = s.applyOccurrence({ ...a, source: { ...a.source, partition: 1 } });
    expect(other.outcome).toBe('applied');
    expect(s.group(API)?.count).toBe(3);
    expect(s.exportRecord('meta').value).toEqual({
      kind: 'meta',
      v: 1,
      watermark: T0 + SEC,
      positions: [
        { topic: OCC_TOPIC, partition: 0, offset: '1' },
        { topic: OCC_TOPIC, partition: 1, offset: '0' },
      ],
    });
  });

  it('compares offsets as exact int64 values, not as strings or doubles', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    s.applyOccurrence(f.make({ source: { offset: '9007199254740993' } }));
    expect(s.applyOccurrence(f.make({ source: { offset: '9007199254740992' } })).outcome).toBe('duplicate');
    expect(s.applyOccurrence(f.make({ source: { offset: '10000000000000000' } })).outcome).toBe('applied');
  });
});

describe('bad input', () => {
  it('rejects a malformed occurrence with a reason and remembers its position', () => {
    const s = createErrorGroupsState();
    const f = new OccurrenceFactory();
    const bad = { ...f.make(), level: 'loud' } as unknown as Parameters<
      ErrorGroupsState['applyOccurrence']
    >[0];
    expect(s.applyOccurrence(bad)).toEqual({
      outcome: 'rejected',
      reason: 'level "loud" is not one of the known levels',
      changes: [],
      stateKeys: ['meta'],
    });
    expect(s.applyOccurrence(bad).outcome).toBe('duplicate');
    const nan = f.make({ ts: Number.NaN });
    expect(s.applyOccurrence(nan).reason).toBe('ts is not a finite number');
    const noPos = { ...f.make(), source: { topic: OCC_TOPIC, partition: 0, offset: '-1' } };
    expect(s.applyOccurrence(noPos).reason).toBe('source position is missing or malformed');
    expect(s.size).toBe(0);
  });
});

describe('determinism', () => {
  it('the same inputs twice give byte-identical changes and state', () => {
    const run = (): { changes: ErrorGroupsChange[]; state: string } => {
      const s = createErrorGroupsState({ maxGroups: 5 });
      const f = new OccurrenceFactory();
      const changes: ErrorGroupsChange[] = [];
      for (let i = 0; i < 400; i++) {
        const fp = `fp-${(i * 7) % 9}`;
        const r = s.applyOccurrence(
          f.make({
            ts: T0 + i * 17 * SEC,
            fingerprint: fp,
            workload: i % 3 === 0 ? 'worker' : 'api',
            message: `failure ${fp} ${'x'.repeat(i % 120)}`,
            url: i % 4 === 0 ? `/orders/${i}` : undefined,
          }),
        );
        changes.push(...r.changes);
        if (i === 200)
          changes.push(
            ...s.applyCommand(command({ commandId: 'c-200', type: 'resolve', group: API, ts: T0 })).changes,
          );
      }
      changes.push(...s.advanceWatermark(T0 + 3 * DAY).changes);
      return { changes, state: JSON.stringify(s.exportRecords()) };
    };
    const a = run();
    const b = run();
    expect(a.changes.length).toBeGreaterThan(400);
    expect(JSON.stringify(a.changes)).toBe(JSON.stringify(b.changes));
    expect(a.state).toBe(b.state);
  });
});
