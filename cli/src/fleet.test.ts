/**
 * Several clusters, one hetu (issue H, item 6): a recording holding two clusters — the demo, and
 * the same observations stamped `demo-b` — goes through the whole pipeline once. Each cluster gets
 * its own analysis (every fact names its cluster), the API lists both and answers per cluster, and
 * the two analyses match the demo analysed alone.
 *
 * What may differ (docs/fleet.md): event time is kept per task (a partition number), and a
 * partition holds series of both clusters, so a timeout that depends on event time passing (an
 * anomaly episode closing after its quiet period) can fire in the two-cluster run where the demo
 * alone had no later sample in that partition. The test pins that only anomaly-driven figures move.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Projections, buildApi } from '@hetu/projections';
import { analyze } from './commands/analyze.ts';
import { openBackend } from './backend.ts';
import { parseGlobalConfig } from './config.ts';

const DEMO = 'demo/demo.jsonl.gz';
const dir = mkdtempSync(join(tmpdir(), 'hetu-fleet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Row = Record<string, unknown> & { cluster?: unknown };
type Result = Record<'scores' | 'errorGroups' | 'incidents' | 'anomalies' | 'recommendations', Row[]>;

const of = (rows: Row[], cluster: string) => rows.filter((r) => r.cluster === cluster);
/** What an entry says, without the cluster and the ids derived from it. */
function gist(r: Row, fields: string[]): string {
  return JSON.stringify(fields.map((f) => r[f]));
}
const gists = (rows: Row[], fields: string[]) => rows.map((r) => gist(r, fields)).sort();

describe('several clusters, one hetu', () => {
  it('analyses two clusters of one recording each on its own, and the API answers per cluster', async () => {
    const lines = gunzipSync(readFileSync(DEMO)).toString('utf8').split('\n').filter(Boolean);
    const two: string[] = [];
    for (const line of lines) {
      two.push(line);
      const o = JSON.parse(line) as { cluster: string };
      expect(o.cluster).toBe('demo');
      two.push(JSON.stringify({ ...o, cluster: 'demo-b' }));
    }
    const file = join(dir, 'two-clusters.jsonl');
    writeFileSync(file, two.join('\n') + '\n');

    const alone = (await analyze(DEMO, { dataDir: join(dir, 'alone') })).result as unknown as Result;
    const both = (await analyze(file, { dataDir: join(dir, 'both') })).result as unknown as Result;

    // Every entry names its cluster; the demo alone knows one.
    for (const key of Object.keys(alone) as (keyof Result)[]) {
      if (!Array.isArray(alone[key])) continue;
      expect(
        alone[key].every((r) => r.cluster === 'demo'),
        key,
      ).toBe(true);
      expect(new Set(both[key].map((r) => r.cluster)), key).toEqual(
        alone[key].length ? new Set(['demo', 'demo-b']) : new Set(),
      );
    }
    for (const cluster of ['demo', 'demo-b']) {
      // The same scopes, error groups (reason, title, count, status), incidents (category, status,
      // severity) and recommendations (id, type, target, savings) as the demo alone.
      expect(gists(of(both.scores, cluster), ['scope']), cluster).toEqual(gists(alone.scores, ['scope']));
      const eg = ['reason', 'title', 'count', 'level', 'status', 'workload', 'firstSeen', 'lastSeen'];
      expect(gists(of(both.errorGroups, cluster), eg), cluster).toEqual(gists(alone.errorGroups, eg));
      // (An incident's title names the resource its signal picked; between equally ranked
      // resources the pick follows ids, which hash the cluster's name: only the signal kind is compared.)
      const inc = (rows: Row[]) =>
        rows
          .map((r) => JSON.stringify([r.status, r.severity, r.openedAt, String(r.title).split(' ')[0]]))
          .sort();
      expect(inc(of(both.incidents, cluster)), cluster).toEqual(inc(alone.incidents));
      const rec = ['id', 'type', 'target', 'severity', 'title'];
      expect(gists(of(both.recommendations, cluster), rec), cluster).toEqual(
        gists(alone.recommendations, rec),
      );
      // Scores: every rule's points and count are the demo's, except the anomaly rule (see above).
      const rules = (rows: Row[]) =>
        rows
          .flatMap((s) =>
            (s.deductions as Row[]).map(
              (d) => `${String(s.scope)} ${String(d.rule)} ${String(d.points)} ${String(d.count)}`,
            ),
          )
          .filter((x) => !x.includes(' active-anomalies '))
          .sort();
      expect(rules(of(both.scores, cluster)), cluster).toEqual(rules(alone.scores));
    }
    expect(gists(of(both.errorGroups, 'demo'), ['id'])).toEqual(gists(alone.errorGroups, ['id']));

    // The API over the two-cluster facts: both clusters, and each answer is about the cluster asked.
    const backend = await openBackend(parseGlobalConfig({ dataDir: join(dir, 'both'), output: 'json' }, {}));
    const projections = await Projections.start({ log: backend.log, serde: backend.serde });
    const api = await buildApi({
      projections,
      log: backend.log,
      serde: backend.serde,
      defaultMetrics: false,
    });
    try {
      await projections.whenCaughtUp(120_000);
      const gql = async (query: string) => {
        const r = await api.app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ query }),
        });
        const body = r.json() as { data: Record<string, unknown>; errors?: unknown };
        expect(body.errors).toBeUndefined();
        return body.data as Record<string, Row>;
      };
      expect((await gql('{ clusters }')).clusters).toEqual(['demo', 'demo-b']);
      for (const cluster of ['demo', 'demo-b']) {
        const data = await gql(
          `{ overview(cluster: "${cluster}") { cluster score { overall } }
             errorGroups(cluster: "${cluster}", first: 100) { edges { node { cluster } } } }`,
        );
        const overview = data.overview as { cluster: string; score: { overall: number } };
        expect(overview.cluster).toBe(cluster);
        const want = of(both.scores, cluster).find((s) => s.scope === 'cluster')!;
        expect(overview.score.overall).toBe(want.overall);
        const edges = (data.errorGroups as { edges: { node: { cluster: string } }[] }).edges;
        expect(edges.length).toBe(of(both.errorGroups, cluster).length);
        expect(new Set(edges.map((e) => e.node.cluster))).toEqual(new Set([cluster]));
      }
    } finally {
      await api.close();
      await projections.close();
      await backend.close();
    }
  }, 600_000);
});
