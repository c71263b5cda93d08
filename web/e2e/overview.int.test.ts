/**
 * Overview, Drill-down and Settings in Chromium against the real `hetu start` playing the demo
 * recording (web/e2e/harness.ts): no route stubs, every figure on screen is compared with what the
 * GraphQL API answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

let hetu: Hetu;
let browser: OpenBrowser;

interface OverviewAnswer {
  overview: {
    cluster: string;
    openIncidents: number;
    score: { overall: number; reliability: number; security: number; cost: number; architecture: number };
    namespaces: { namespace: string; overall: number }[];
  };
  incidents: { nodes: { id: string; title: string }[] };
  errorGroups: { nodes: { id: string; title: string }[] };
}
let api: OverviewAnswer;

beforeAll(async () => {
  hetu = await startHetu();
  browser = await openBrowser();
  api = await hetu.gql<OverviewAnswer>(`{
    overview { cluster openIncidents score { overall reliability security cost architecture } namespaces { namespace overall } }
    incidents(filter: { status: [open, investigating] }, first: 6) { nodes { id title } }
    errorGroups(filter: { status: [open] }, sort: count, first: 6) { nodes { id title } }
  }`);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

/** Opens a path and waits until no query is loading. */
async function open(page: Page, path: string): Promise<void> {
  await page.goto(`${hetu.url}${path}`);
  await page.waitForSelector('main h1');
  await page.waitForFunction(() => document.querySelectorAll('.state-loading').length === 0);
}

/** Controls a keyboard user must reach: visible links, buttons, inputs, selects, textareas. */
async function controls(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      [
        ...document.querySelectorAll<HTMLElement>(
          'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled])',
        ),
      ].filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      }).length,
  );
}

describe('Overview', () => {
  it('shows the cluster score, its dimensions, namespaces, incidents and error groups of the demo', async () => {
    const page = await browser.newPage();
    await open(page, '/');
    const o = api.overview;
    expect(await page.locator('h1').innerText()).toBe(`Cluster ${o.cluster}`);
    const score = page.getByTestId('cluster-score');
    expect(await score.locator('.score-number').innerText()).toBe(String(o.score.overall));
    for (const [dim, label] of [
      ['reliability', 'Reliability'],
      ['security', 'Security'],
      ['cost', 'Cost'],
      ['architecture', 'Architecture'],
    ] as const)
      expect(
        await page.getByRole('link', { name: `${label} ${o.score[dim]}: drill down`, exact: true }).count(),
      ).toBe(1);
    // Level colour: the class follows the documented thresholds.
    const level =
      o.score.overall <= 25
        ? 'critical'
        : o.score.overall <= 50
          ? 'high'
          : o.score.overall <= 74
            ? 'degraded'
            : 'ok';
    expect(await score.locator('.score').getAttribute('class')).toContain(`level-${level}`);
    // Namespaces, worst first.
    const rows = page.locator('.ov-ns tbody tr');
    expect(await rows.count()).toBe(o.namespaces.length);
    const worst = [...o.namespaces].sort((a, b) => a.overall - b.overall)[0]!;
    expect(await rows.first().locator('th').innerText()).toBe(worst.namespace);
    // Open incidents and error groups, by title.
    expect(api.incidents.nodes.length).toBeGreaterThan(0);
    const incidents = page.getByTestId('overview-incidents');
    for (const i of api.incidents.nodes)
      expect(await incidents.getByText(i.title, { exact: true }).count()).toBe(1);
    for (const g of api.errorGroups.nodes)
      expect(await page.locator('.ov-errors').getByText(g.title, { exact: true }).count()).toBe(1);
    expect(await page.locator('.ov-count').first().innerText()).toContain(String(o.openIncidents));
    // The trend and the causes of the latest change.
    expect(await page.locator('.ov-trend .chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('.ov-changes > li').count()).toBeGreaterThan(0);
    // Pipeline status.
    expect(await page.getByTestId('pipeline-status').innerText()).toMatch(/Lag\s+0 records\s+caught up/);
    // A namespace's dimension score leads to that dimension's rules in that namespace.
    await page
      .getByRole('link', { name: new RegExp(`^${worst.namespace} Security \\d+: drill down$`) })
      .click();
    await page.waitForURL(new RegExp(`scope=namespace%3A${worst.namespace}&dimension=security`));
    // (the lazy page may still be loading when the URL has changed: wait for its heading)
    await page.locator('h1', { hasText: `Security rules in the namespace ${worst.namespace}` }).waitFor();
  });

  it('renders in light and dark', async () => {
    const colours: Record<string, string> = {};
    for (const theme of ['light', 'dark'] as const) {
      const page = await browser.newPage({ theme });
      await open(page, '/');
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
      colours[theme] = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(await page.getByTestId('cluster-score').isVisible()).toBe(true);
      // The toggle switches the theme without a reload.
      await page.getByRole('button', { name: /Switch to (light|dark) theme/ }).click();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(
        theme === 'light' ? 'dark' : 'light',
      );
    }
    expect(colours.light).not.toBe(colours.dark);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await open(page, '/');
    expect(await page.getByTestId('cluster-score').isVisible()).toBe(true);
    const [scrollWidth, width] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      innerWidth,
    ]);
    expect(scrollWidth).toBeLessThanOrEqual(width);
  });
});

describe('Drill-down', () => {
  it('goes from the cluster score to the evidence of a resource, all by links', async () => {
    const page = await browser.newPage();
    await open(page, '/');
    await page.getByTestId('cluster-score').click();
    await page.waitForURL(/\/drill\?scope=cluster$/);
    expect(await page.getByTestId('drill-overall').locator('.score-number').innerText()).toBe(
      String(api.overview.score.overall),
    );
    // Level 2: the dimension with the most points deducted that has rules.
    await page.getByRole('link', { name: /^Reliability \d+, \d+ rules: drill down$/ }).click();
    await page.waitForURL(/dimension=reliability/);
    const rules = page.getByTestId('drill-rules');
    await rules.waitFor();
    // Level 3: the first rule (most points).
    const ruleLink = rules.locator('tbody tr th a').first();
    const ruleTitle = await ruleLink.innerText();
    await ruleLink.click();
    await page.waitForURL(/rule=/);
    const resources = page.getByTestId('drill-resources');
    await resources.waitFor();
    expect(await page.locator('#dr-rule-h').innerText()).toContain(ruleTitle);
    // Level 4: the first resource's impact across rules, with remediation.
    await resources.locator('tbody tr th a').first().click();
    await page.waitForURL(/resource=/);
    const impact = page.getByTestId('drill-impact');
    await impact.waitFor();
    expect(await impact.innerText()).toContain('What to do:');
    const url = new URL(page.url());
    const [kind, namespace, name] = url.searchParams.get('resource')!.split('/');
    const rule = url.searchParams.get('rule')!;
    // Level 5: the evidence, compared with the API.
    await impact
      .getByRole('link', { name: /^Evidence \(\d+ observations?\)$/ })
      .first()
      .click();
    await page.waitForURL(/evidence=/);
    const evidence = page.getByTestId('drill-evidence');
    await evidence.waitFor();
    const answer = await hetu.gql<{
      impact: { rule: string; evidence: { ts: string; excerpt: string }[] }[];
    }>(
      `query ($kind: String!, $namespace: String, $name: String!) {
        impact(kind: $kind, namespace: $namespace, name: $name) { rule evidence { ts excerpt } }
      }`,
      { kind, namespace: namespace || null, name },
    );
    const ev = answer.impact.find(
      (i) => i.rule === new URL(page.url()).searchParams.get('evidence'),
    )!.evidence;
    expect(ev.length).toBeGreaterThan(0);
    expect(rule).toBeTruthy();
    const first = evidence.locator('li').first();
    const newest = [...ev].sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts))[0]!;
    expect(await first.locator('time').getAttribute('datetime')).toBe(newest.ts);
    expect(await first.locator('.dr-excerpt').innerText()).toBe(newest.excerpt);
    // The breadcrumb leads back up, and the deep link reloads to the same place.
    await page.reload();
    await evidence.waitFor();
    expect(await evidence.locator('.dr-excerpt').first().innerText()).toBe(newest.excerpt);
    await page.getByRole('navigation', { name: 'Drill-down levels' }).getByRole('link').first().click();
    await page.waitForURL(/\/drill\?scope=cluster$/);
  });

  it('filters a rule’s resources by namespace through the URL', async () => {
    const page = await browser.newPage();
    await open(page, '/drill?scope=cluster&dimension=security&rule=root-containers');
    const resources = page.getByTestId('drill-resources');
    await resources.waitFor();
    const all = await resources.locator('tbody tr').count();
    const options = await page.locator('#dr-ns option').allInnerTexts();
    expect(options[0]).toBe('All namespaces');
    const ns = options[1]!;
    await page.selectOption('#dr-ns', ns);
    await page.waitForURL(new RegExp(`ns=${ns}`));
    await page.waitForFunction(
      (n) =>
        [...document.querySelectorAll('[data-testid=drill-resources] tbody th a')].every((a) =>
          a.textContent!.startsWith(`${n}/`),
        ),
      ns,
    );
    expect(await resources.locator('tbody tr').count()).toBeLessThanOrEqual(all);
  });

  it('says so when a scope has no score', async () => {
    const page = await browser.newPage();
    await open(page, '/drill?scope=namespace:nowhere');
    expect(await page.locator('.state-empty').innerText()).toContain('No score for the namespace nowhere');
  });
});

describe('Settings', () => {
  it('shows the version, the LLM setup, the pipeline health, and keeps a token', async () => {
    const page = await browser.newPage();
    await open(page, '/settings');
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    expect(await page.getByTestId('version').innerText()).toBe(version);
    expect(await page.getByTestId('llm-setup').innerText()).toContain('not configured');
    expect(await page.getByTestId('pipeline-health').innerText()).toContain('caught up');
    const groups = await hetu.gql<{ pipeline: { groups: { name: string }[] } }>(
      '{ pipeline { groups { name } } }',
    );
    expect(await page.locator('section[aria-labelledby=pipeline] tbody tr').count()).toBe(
      groups.pipeline.groups.length,
    );
    await page.getByLabel('Token', { exact: true }).fill('read-token-for-the-test');
    await page.getByRole('button', { name: 'Save token' }).click();
    expect(await page.getByTestId('token-status').innerText()).toContain('Token saved');
    expect(await page.evaluate(() => localStorage.getItem('hetu.token'))).toBe('read-token-for-the-test');
    await page.getByRole('button', { name: 'Clear token' }).click();
    expect(await page.evaluate(() => localStorage.getItem('hetu.token'))).toBeNull();
  });
});

describe('keyboard', () => {
  it('reaches every control of a resource’s impact and evidence (levels 4 and 5), each with a name', async () => {
    const d = await hetu.gql<{
      score: {
        rules: { rule: string; resources: { kind: string; namespace: string | null; name: string }[] }[];
      };
    }>(
      '{ score(scope: "cluster") { rules(dimension: reliability) { rule resources(first: 1) { kind namespace name } } } }',
    );
    const rule = d.score.rules.find((r) => r.resources.length > 0)!;
    const r = rule.resources[0]!;
    const level4 = `/drill?scope=cluster&dimension=reliability&rule=${rule.rule}&resource=${encodeURIComponent(`${r.kind}/${r.namespace ?? ''}/${r.name}`)}`;
    for (const path of [level4, `${level4}&evidence=${rule.rule}`]) {
      const page = await browser.newPage();
      await open(page, path);
      const n = await controls(page);
      const named = (await tabCycle(page)).filter((s) => s.tag !== 'body');
      expect(named.length, path).toBeGreaterThanOrEqual(n);
      for (const s of named) expect(s.name, `${s.tag} without an accessible name on ${path}`).not.toBe('');
      // A phone width shows it without sideways scrolling too.
      await page.setViewportSize({ width: 375, height: 740 });
      const [scrollWidth, width] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        innerWidth,
      ]);
      expect(scrollWidth, path).toBeLessThanOrEqual(width);
    }
  });

  for (const path of [
    '/',
    '/drill?scope=cluster',
    '/drill?scope=cluster&dimension=security&rule=root-containers',
    '/settings',
  ])
    it(`reaches every control of ${path}, each with a name`, async () => {
      const page = await browser.newPage();
      await open(page, path);
      const n = await controls(page);
      const stops = await tabCycle(page);
      const named = stops.filter((s) => s.tag !== 'body');
      // Every control is a tab stop (the skip link and the main region add one each at most).
      expect(named.length).toBeGreaterThanOrEqual(n);
      for (const s of named) expect(s.name, `${s.tag} without an accessible name`).not.toBe('');
      expect(named.some((s) => s.name === 'Skip to content')).toBe(true);
    });
});
