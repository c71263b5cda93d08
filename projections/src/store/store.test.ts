import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorGroup, ScopeScore } from '@hetu/schemas';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorsStore, ERROR_GROUPS_TOPIC } from './errors.ts';
import { ScoresStore, SCORES_TOPIC } from './scores.ts';
import { WorkloadsStore } from './workloads.ts';
import type { DecodedRecord } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-projection-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-11-26T08:00:00Z');

function group(id: string, count: number, over: Partial<ErrorGroup> = {}): ErrorGroup {
  return {
    id,
    fingerprint: `fp-${id}`,
    faultKey: `fp-${id}`,
    cluster: 'c1',
    namespace: 'shop',
    workload: 'api',
    title: `boom ${id}`,
    exceptionType: null,
    reason: 'error',
    level: 'error',
    severityRank: 4,
    firstSeen: T0,
    lastSeen: T0 + count * 1000,
    count: BigInt(count),
    ownCount: BigInt(count),
    status: 'open',
    regressed: false,
    regressedAt: null,
    resolvedAt: null,
    statusChangedAt: null,
    lastPod: 'api-1',
    lastContainer: 'api',
    lastUrl: null,
    bestSample: null,
    bestSampleScore: 0,
    occurrences: [],
    countersAt: T0,
    count1m: 0n,
    count5m: 0n,
    count1h: BigInt(count),
    count24h: BigInt(count),
    sparkline: [],
    spike: false,
    mergedInto: null,
    mergedChildren: [],
    ...over,
  };
}

const rec = (partition: number, offset: number, value: ErrorGroup | null, key?: string): DecodedRecord => ({
  topic: ERROR_GROUPS_TOPIC,
  partition,
  offset: BigInt(offset),
  key: key ?? `c1/${value?.id}`,
  timestamp: T0 + offset,
  value,
});

const rows = (s: ErrorsStore) =>
  s.db.prepare('SELECT cluster, id, count, status, src_offset FROM error_groups ORDER BY id').all();

describe('projection store', () => {
  it('applies the same records twice to the same rows, skipping every record at or below its position', () => {
    const s = new ErrorsStore();
    const batch = [
      rec(0, 0, group('a', 1)),
      rec(0, 1, group('b', 2)),
      rec(1, 0, group('c', 3)),
      rec(0, 2, group('a', 4)),
    ];
    const first = s.applyBatch(batch);
    const after = rows(s);
    expect(first.map((c) => `${c.kind} ${c.id} ${c.partition}/${c.offset}`)).toEqual([
      'error-group a 0/0',
      'error-group b 0/1',
      'error-group c 1/0',
      'error-group a 0/2',
    ]);
    expect(s.applyBatch(batch)).toEqual([]);
    expect(s.skipped).toBe(4);
    expect(rows(s)).toEqual(after);
    expect(after).toEqual([
      { cluster: 'c1', id: 'a', count: 4, status: 'open', src_offset: 2 },
      { cluster: 'c1', id: 'b', count: 2, status: 'open', src_offset: 1 },
      { cluster: 'c1', id: 'c', count: 3, status: 'open', src_offset: 0 },
    ]);
    expect(s.applied().map((a) => `${a.topic}/${a.partition}@${a.offset} ${a.records}`)).toEqual([
      `${ERROR_GROUPS_TOPIC}/0@2 3`,
      `${ERROR_GROUPS_TOPIC}/1@0 1`,
    ]);
    s.close();
  });

  it('applies only the records past the stored position when a redelivered batch overlaps it', () => {
    const s = new ErrorsStore();
    s.applyBatch([rec(0, 0, group('a', 1)), rec(0, 1, group('a', 2))]);
    const changes = s.applyBatch([rec(0, 1, group('a', 99)), rec(0, 2, group('a', 3))]);
    expect(changes.map((c) => String(c.offset))).toEqual(['2']);
    expect(s.skipped).toBe(1);
    expect(rows(s)).toEqual([{ cluster: 'c1', id: 'a', count: 3, status: 'open', src_offset: 2 }]);
    s.close();
  });

  it('deletes a row on a tombstone and says so', () => {
    const s = new ErrorsStore();
    s.applyBatch([rec(0, 0, group('a', 1)), rec(0, 1, group('b', 1))]);
    const changes = s.applyBatch([rec(0, 2, null, 'c1/a')]);
    expect(changes).toEqual([
      {
        kind: 'error-group',
        cluster: 'c1',
        id: 'a',
        deleted: true,
        topic: ERROR_GROUPS_TOPIC,
        partition: 0,
        offset: 2n,
        tags: { namespace: 'shop', workload: 'api' },
      },
    ]);
    expect(rows(s).map((r) => (r as { id: string }).id)).toEqual(['b']);
    s.close();
  });

  it('keeps rows, positions and its id on disk across a reopen, so a redelivery after a restart is skipped', () => {
    const d = join(dir, 'reopen');
    const s1 = new ErrorsStore(d);
    s1.applyBatch([rec(0, 0, group('a', 1)), rec(0, 1, group('a', 5))]);
    const id = s1.storeId;
    s1.close();
    const s2 = new ErrorsStore(d);
    expect(s2.storeId).toBe(id);
    expect(s2.applyBatch([rec(0, 0, group('a', 1)), rec(0, 1, group('a', 5))])).toEqual([]);
    expect(rows(s2)).toEqual([{ cluster: 'c1', id: 'a', count: 5, status: 'open', src_offset: 1 }]);
    s2.close();
  });

  it('pages by keyset: every group once, in sort order, whatever the page size', () => {
    const s = new ErrorsStore();
    s.applyBatch([3, 9, 1, 9, 5].map((n, i) => rec(0, i, group(`g${i}`, n))));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const p = s.list({}, 'count', 2, after);
      expect(p.totalCount).toBe(5);
      seen.push(...p.items.map((r) => `${r.group.id}:${r.group.count}`));
      if (!p.hasNextPage) break;
      after = p.endCursor;
    }
    expect(seen).toEqual(['g1:9', 'g3:9', 'g4:5', 'g0:3', 'g2:1']);
    s.close();
  });
});

function score(scope: string, rule: string, points: number, count: number, resources: string[]): ScopeScore {
  const ns = scope === 'cluster' ? null : scope.replace(/^(namespace:|workload:)/, '').split('/')[0]!;
  return {
    ts: T0,
    cluster: 'c1',
    scope,
    scopeType: scope === 'cluster' ? 'cluster' : scope.startsWith('namespace:') ? 'namespace' : 'workload',
    namespace: ns,
    workloadKind: null,
    workloadName: null,
    noData: false,
    overall: 90,
    level: 'ok',
    reliability: 100 + points,
    security: 100,
    cost: 100,
    architecture: 100,
    efficiency: null,
    deductions: [
      {
        dimension: 'reliability',
        rule,
        title: rule,
        severity: 'high',
        points,
        count,
        perItem: 10,
        cap: 30,
        resources: resources.map((name) => ({
          kind: 'Pod',
          namespace: 'shop',
          name,
          status: 'crashloop',
          detail: `${name}: CrashLoopBackOff`,
          share: Math.round((points / count) * 100) / 100,
          evidence: [],
        })),
        totalResources: count,
      },
    ],
  };
}

describe('scores projection: impact (level 4)', () => {
  it('carries a resource listed at its workload up to its namespace and the cluster, with the share there', () => {
    const s = new ScoresStore();
    const at = (offset: number, sc: ScopeScore): DecodedRecord => ({
      topic: SCORES_TOPIC,
      partition: 0,
      offset: BigInt(offset),
      key: `c1/${sc.scope}`,
      timestamp: T0,
      value: sc,
    });
    // The cluster lists 10 other pods first (its first 10), so api-1 is listed only at narrower scopes.
    const others = Array.from({ length: 10 }, (_, i) => `a-${i}`);
    s.applyBatch([
      at(0, score('workload:shop/Deployment/api', 'crashloop-pods', -10, 1, ['api-1'])),
      at(1, score('namespace:shop', 'crashloop-pods', -20, 2, ['api-1', 'web-1'])),
      at(2, score('cluster', 'crashloop-pods', -30, 12, others)),
    ]);
    const [impact] = s.impactOf([{ cluster: 'c1', kind: 'Pod', namespace: 'shop', name: 'api-1' }]);
    expect(impact!.map((i) => [i.scope, i.deduction.rule, i.share, i.resource.status])).toEqual([
      ['workload:shop/Deployment/api', 'crashloop-pods', -10, 'crashloop'],
      ['namespace:shop', 'crashloop-pods', -10, 'crashloop'],
      ['cluster', 'crashloop-pods', -2.5, 'crashloop'],
    ]);
    s.close();
  });
});

describe('workloads projection: a complete list removes what it no longer shows', () => {
  const watch = (partition: number, offset: number, type: string, name: string | null): DecodedRecord => ({
    topic: 'hetu.raw.kube',
    partition,
    offset: BigInt(offset),
    key: name === null ? 'c1/Deployment' : `c1/shop/${name}`,
    timestamp: 1_000 + offset,
    value: {
      ts: 1_000 + offset,
      cluster: 'c1',
      type,
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: name === null ? null : 'shop',
      name,
      uid: name === null ? null : `uid-${name}`,
      resourceVersion: String(offset),
      detail: null,
      object:
        name === null
          ? null
          : JSON.stringify({
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name, namespace: 'shop', uid: `uid-${name}` },
              spec: { replicas: 1 },
            }),
    },
  });
  it('deletes the Deployments of the partition not SYNCED between SYNC_BEGIN and SYNC_END, and says so', () => {
    const s = new WorkloadsStore();
    s.applyBatch([
      watch(0, 1, 'SYNCED', 'api'),
      watch(0, 2, 'ADDED', 'gone'),
      watch(1, 1, 'SYNCED', 'other'),
    ]);
    const names = () =>
      s
        .list({ cluster: 'c1', kind: ['Deployment'] }, 50)
        .items.map((w) => w.workload.name)
        .sort();
    expect(names()).toEqual(['api', 'gone', 'other']);
    const changes = s.applyBatch([
      watch(0, 10, 'SYNC_BEGIN', null),
      watch(0, 11, 'SYNCED', 'api'),
      watch(0, 12, 'SYNC_END', null),
    ]);
    // `other` is in partition 1, whose list has not ended: it stays.
    expect(names()).toEqual(['api', 'other']);
    expect(changes.filter((c) => c.deleted).map((c) => c.id)).toEqual(['shop/Deployment/gone']);
  });
});
