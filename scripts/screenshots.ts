/**
 * `npm run screenshots`: every page of the dashboard, light and dark, at 1280×800, into
 * docs/screenshots/<page>-<theme>.png — against the real `hetu start` playing the demo
 * (web/e2e/harness.ts). Detail pages show the first incident, error group and drill-down path the
 * API answers. Optional arguments: page names to take only those (e.g. `npm run screenshots -- overview`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, openBrowser, startHetu, type Hetu } from '../web/e2e/harness.ts';

const OUT = join(ROOT, 'docs', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };

/** Page name → path, from what the demo holds. */
async function routes(hetu: Hetu): Promise<[string, string][]> {
  const d = await hetu.gql<{
    incidents: { nodes: { id: string }[] };
    errorGroups: { nodes: { id: string }[] };
    score: {
      rules: {
        dimension: string;
        rule: string;
        resources: { kind: string; namespace: string | null; name: string }[];
      }[];
    } | null;
  }>(`{
    incidents(filter: { status: [open, investigating] }, first: 1) { nodes { id } }
    errorGroups(filter: { status: [open] }, sort: count, first: 1) { nodes { id } }
    score(scope: "cluster") { rules(dimension: reliability) { dimension rule resources(first: 1) { kind namespace name } } }
  }`);
  const out: [string, string][] = [
    ['overview', '/'],
    ['drill', '/drill?scope=cluster'],
  ];
  const rule = d.score?.rules.find((r) => r.resources.length > 0);
  if (rule) {
    const r = rule.resources[0]!;
    const base = `/drill?scope=cluster&dimension=${rule.dimension}&rule=${encodeURIComponent(rule.rule)}`;
    const res = `${base}&resource=${encodeURIComponent(`${r.kind}/${r.namespace ?? ''}/${r.name}`)}`;
    out.push(
      ['drill-rule', base],
      ['drill-resource', res],
      ['drill-evidence', `${res}&evidence=${encodeURIComponent(rule.rule)}`],
    );
  }
  out.push(['errors', '/errors']);
  const g = d.errorGroups.nodes[0];
  if (g) out.push(['error-detail', `/errors/${encodeURIComponent(g.id)}`]);
  out.push(['workloads', '/workloads'], ['incidents', '/incidents']);
  const i = d.incidents.nodes[0];
  if (i) out.push(['incident-detail', `/incidents/${encodeURIComponent(i.id)}`]);
  out.push(['anomalies', '/anomalies'], ['recommendations', '/recommendations'], ['settings', '/settings']);
  return out;
}

/** The page's document, typed without DOM (this script is type-checked for Node). */
type Doc = { document: { querySelector(selector: string): unknown } };
/** A query still loading, or a lazy page still arriving (the router's Suspense fallback). */
const LOADING = '.state-loading, main > p[role=status]';

const only = new Set(process.argv.slice(2));
mkdirSync(OUT, { recursive: true });
const hetu = await startHetu();
const browser = await openBrowser();
try {
  for (const [name, path] of await routes(hetu)) {
    if (only.size > 0 && !only.has(name)) continue;
    for (const theme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ theme, viewport: VIEWPORT });
      await page.goto(`${hetu.url}${path}`, { waitUntil: 'networkidle' });
      await page.waitForSelector('main h1', { timeout: 30_000 }).catch(() => undefined);
      await page
        .waitForFunction((sel) => !(globalThis as unknown as Doc).document.querySelector(sel), LOADING, {
          timeout: 30_000,
        })
        .catch(() => undefined);
      await page.waitForTimeout(400); // charts draw after layout
      const file = join(OUT, `${name}-${theme}.png`);
      await page.screenshot({ path: file });
      process.stdout.write(`${file}\n`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  await hetu.stop();
}
