/**
 * Fleet (issue H, item 6) in Chromium against the real `hetu start` fed a recording of two
 * clusters (the demo, and the same observations stamped `demo-b`): both clusters side by side with
 * the scores the API gives, worst first, sortable by name (in the URL), each opening its Overview.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'hetu-e2e-fleet-'));
let hetu: Hetu;
let browser: OpenBrowser;
type Overview = {
  overview: {
    cluster: string;
    openIncidents: number;
    criticalIncidents: number;
    score: { overall: number } | null;
  };
};
const want = new Map<string, Overview['overview']>();

beforeAll(async () => {
  const lines = gunzipSync(readFileSync(join(ROOT, 'demo/demo.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter(Boolean);
  const two = lines.flatMap((l) => [l, JSON.stringify({ ...JSON.parse(l), cluster: 'demo-b' })]);
  const file = join(dir, 'two-clusters.jsonl');
  writeFileSync(file, two.join('\n') + '\n');
  hetu = await startHetu({ args: ['--recording', file, '--speed', '100000'] });
  // The recording is fed at once; wait until both clusters are scored and the feed is done.
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { clusters } = await hetu.gql<{ clusters: string[] }>('{ clusters }');
    if (clusters.length === 2 && hetu.output().includes('recording fed')) break;
    if (Date.now() > deadline) throw new Error(`hetu did not score two clusters:\n${hetu.output()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  // Caught up: every stage's consumer group and every projection at the end of its input (the
  // API's /metrics; answers alone may stay the same for seconds while stages still work: the API
  // answers during a backlog), and the answers the same twice in a row.
  const lagging = async () =>
    (await (await fetch(`${hetu.url}/metrics`)).text())
      .split('\n')
      .filter((l) => /^hetu_(consumer|projection)_lag_records\{/.test(l) && !l.endsWith(' 0'));
  let last = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error(`hetu did not catch up:\n${(await lagging()).join('\n')}`);
    const now = JSON.stringify(
      await Promise.all(
        ['demo', 'demo-b'].map((c) =>
          hetu.gql<Overview>(
            'query($c: String) { overview(cluster: $c) { cluster openIncidents criticalIncidents score { overall } } }',
            { c },
          ),
        ),
      ),
    );
    if (now === last && (await lagging()).length === 0) break;
    last = now;
    await new Promise((r) => setTimeout(r, 3000));
  }
  for (const o of JSON.parse(last) as Overview[]) want.set(o.overview.cluster, o.overview);
  browser = await openBrowser();
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Fleet', () => {
  it('shows every cluster with the API’s scores, worst first; sorts by name; opens a cluster’s Overview', async () => {
    expect([...want.keys()].sort()).toEqual(['demo', 'demo-b']);
    for (const o of want.values()) expect(o.score?.overall).toEqual(expect.any(Number));
    const page = await browser.newPage({ theme: 'dark' });
    await page.goto(`${hetu.url}/fleet`);
    const rows = page.locator('table.fleet-table tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        cluster: tr.getAttribute('data-cluster'),
        overall: tr.querySelector('td .score-number')?.textContent,
        incidents: tr.querySelectorAll('td')[5]?.textContent,
      })),
    );
    const worstFirst = [...want.values()].sort(
      (a, b) => a.score!.overall - b.score!.overall || a.cluster.localeCompare(b.cluster),
    );
    expect(shown).toEqual(
      worstFirst.map((o) => ({
        cluster: o.cluster,
        overall: String(Math.round(o.score!.overall)),
        incidents: `${o.openIncidents}${o.criticalIncidents > 0 ? ` (${o.criticalIncidents} critical)` : ''}`,
      })),
    );

    await page.getByLabel('Sort by').selectOption('name');
    await page.waitForURL(/sort=name/);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-cluster')))).toEqual([
      'demo',
      'demo-b',
    ]);

    // Every control is reachable by keyboard and named.
    const focused = await tabCycle(page);
    for (const name of ['Fleet', 'Sort by', 'demo', 'demo-b'])
      expect(
        focused.map((f) => f.name).some((n) => n.includes(name)),
        name,
      ).toBe(true);

    await page.getByRole('link', { name: 'demo-b', exact: true }).click();
    await page.waitForURL(/\/\?cluster=demo-b$/);
    await page
      .getByText(String(Math.round(want.get('demo-b')!.score!.overall)))
      .first()
      .waitFor();
  }, 300_000);
});
