/**
 * The Workloads page in Chromium against `hetu start` with the demo played through: every kind
 * (workloads by kind, pods, nodes, namespaces) as the API has it, the namespace filter and search in
 * the URL, the side panel with pods and container states, the four detail tabs (deep-linked and
 * moved by the arrow keys), the keyboard reaching every control, and a phone-sized dark page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

interface W {
  kind: string;
  namespace: string;
  name: string;
  podCount: number;
  readyReplicas: number | null;
  desiredReplicas: number | null;
  pods: {
    name: string;
    node: string | null;
    restarts: number | null;
    containers: { name: string; state: string }[];
  }[];
}

const LIST = `query ($filter: WorkloadFilter) {
  workloads(filter: $filter, first: 500) {
    totalCount
    nodes { kind namespace name podCount readyReplicas desiredReplicas pods { name node restarts containers { name state } } }
  }
}`;

let hetu: Hetu;
let browser: OpenBrowser;
let page: Page;

async function workloads(filter: Record<string, unknown> = {}): Promise<W[]> {
  return (await hetu.gql<{ workloads: { nodes: W[] } }>(LIST, { filter })).workloads.nodes;
}

/** The row headers (first cells) of the list's table once it has loaded. */
async function rowNames(p: Page = page): Promise<string[]> {
  const list = p.locator('.wl-list');
  await list.locator('table, .state-empty').first().waitFor();
  return list.locator('table > tbody > tr > th').allTextContents();
}

const param = (p: Page, k: string) => new URL(p.url()).searchParams.get(k);

// Generous: the first start of a run may play the demo into a new template on a busy machine.
beforeAll(async () => {
  hetu = await startHetu();
  browser = await openBrowser();
  page = await browser.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

describe('Workloads page', () => {
  it('lists every workload, then each kind, as the API has them', async () => {
    const all = await workloads();
    expect(all.length).toBeGreaterThan(5);
    await page.goto(`${hetu.url}/workloads`);
    expect(await rowNames()).toEqual(all.map((w) => w.name));
    expect(await page.locator('.wl-list').textContent()).toContain(`${all.length} workloads`);

    for (const [kind, label] of [
      ['Deployment', 'Deployments'],
      ['DaemonSet', 'DaemonSets'],
      ['StatefulSet', 'StatefulSets'],
      ['CronJob', 'CronJobs'],
    ] as const) {
      await page
        .getByRole('navigation', { name: 'Kinds' })
        .getByRole('button', { name: label, exact: true })
        .click();
      await expect.poll(() => param(page, 'kind')).toBe(kind);
      const ofKind = all.filter((w) => w.kind === kind);
      expect(ofKind.length).toBeGreaterThan(0);
      await expect.poll(() => rowNames()).toEqual(ofKind.map((w) => w.name));
      expect(
        await page
          .getByRole('navigation', { name: 'Kinds' })
          .getByRole('button', { name: label, exact: true })
          .getAttribute('aria-pressed'),
      ).toBe('true');
    }
    // Per-kind columns: replicas for a Deployment, the schedule for a CronJob.
    expect(await page.locator('.wl-list thead').textContent()).toContain('Schedule');
    await page.goto(`${hetu.url}/workloads?kind=Deployment`);
    await rowNames();
    const headers = await page.locator('.wl-list thead th').allTextContents();
    expect(headers).toEqual(['Name', 'Namespace', 'Ready', 'Pods', 'Restarts', 'Nodes', 'Images']);
    const d = all.find((w) => w.kind === 'Deployment')!;
    const row = page.locator('.wl-list tbody tr', {
      has: page.getByRole('button', { name: `Open Deployment ${d.namespace}/${d.name}` }),
    });
    expect(await row.locator('td').nth(1).textContent()).toBe(`${d.readyReplicas ?? 0}/${d.desiredReplicas}`);
    const restarts = d.pods.reduce((n, p) => n + (p.restarts ?? 0), 0);
    expect(await row.locator('td').nth(3).textContent()).toBe(String(restarts));
  });

  it('lists pods with ready, status, restarts and node; services; nodes; and namespaces', async () => {
    const all = await workloads();
    const pods = all.flatMap((w) => w.pods.map((p) => ({ w, p })));
    await page.goto(`${hetu.url}/workloads?kind=pods`);
    expect(await rowNames()).toEqual(pods.map(({ p }) => p.name));
    const { w, p } = pods.find(({ p }) => p.node)!;
    const row = page.locator('.wl-list tbody tr', {
      has: page.getByRole('button', { name: p.name, exact: true }),
    });
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe(w.namespace);
    expect(cells[1]).toBe(`${w.kind}/${w.name}`);
    expect(cells[4]).toBe(String(p.restarts ?? 0));
    expect(cells[5]).toBe(p.node);

    const services = await hetu.gql<{
      services: { nodes: { namespace: string; name: string; type: string; clusterIP: string | null }[] };
    }>(`{ services(first: 500) { nodes { namespace name type clusterIP } } }`);
    expect(services.services.nodes.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/workloads?kind=services`);
    expect(await rowNames()).toEqual(services.services.nodes.map((x) => x.name));
    const svc = services.services.nodes[0]!;
    const svcCells = await page
      .locator('.wl-list tbody tr', { has: page.locator('th', { hasText: new RegExp(`^${svc.name}$`) }) })
      .first()
      .locator('td')
      .allTextContents();
    expect(svcCells.slice(0, 3)).toEqual([svc.namespace, svc.type, svc.clusterIP ?? '—']);
    await page.getByLabel('Namespace', { exact: true }).selectOption('shop');
    await expect
      .poll(() => rowNames())
      .toEqual(services.services.nodes.filter((x) => x.namespace === 'shop').map((x) => x.name));

    const nodes = await hetu.gql<{ nodes: { name: string; ready: boolean }[] }>(`{ nodes { name ready } }`);
    await page.goto(`${hetu.url}/workloads?kind=nodes`);
    expect(await rowNames()).toEqual(nodes.nodes.map((n) => n.name));
    await page.getByRole('button', { name: `Show node ${nodes.nodes[0]!.name}` }).click();
    await expect.poll(() => param(page, 'node')).toBe(nodes.nodes[0]!.name);
    await page.getByRole('region', { name: `Node ${nodes.nodes[0]!.name}` }).waitFor();

    await page.goto(`${hetu.url}/workloads?kind=namespaces`);
    const namespaces = [...new Set(all.map((w) => w.namespace))].sort();
    const shown = await rowNames();
    for (const ns of namespaces) expect(shown).toContain(ns);
    await page.getByRole('button', { name: 'Show the workloads of shop' }).click();
    await expect.poll(() => param(page, 'ns')).toBe('shop');
    expect(param(page, 'kind')).toBeNull();
    await expect.poll(() => rowNames()).toEqual(all.filter((w) => w.namespace === 'shop').map((w) => w.name));
  });

  it('filters by namespace and search, in the URL and back from it', async () => {
    await page.goto(`${hetu.url}/workloads`);
    await rowNames();
    await page.getByLabel('Namespace', { exact: true }).selectOption('payments');
    await expect.poll(() => param(page, 'ns')).toBe('payments');
    await expect
      .poll(() => rowNames())
      .toEqual((await workloads({ namespace: 'payments' })).map((w) => w.name));
    await page.getByLabel('Search', { exact: true }).fill('db');
    await expect.poll(() => param(page, 'q')).toBe('db');
    const hits = (await workloads({ namespace: 'payments', search: 'db' })).map((w) => w.name);
    expect(hits.length).toBeGreaterThan(0);
    await expect.poll(() => rowNames()).toEqual(hits);

    const fresh = await browser.newPage();
    await fresh.goto(page.url());
    expect(await rowNames(fresh)).toEqual(hits);
    expect(await fresh.getByLabel('Namespace', { exact: true }).inputValue()).toBe('payments');
    expect(await fresh.getByLabel('Search', { exact: true }).inputValue()).toBe('db');
    await fresh.close();

    await page.getByLabel('Search', { exact: true }).fill('no-such-workload');
    await page.locator('.wl-list .state-empty').waitFor();
  });

  it('opens a side panel with pods, container states and the four tabs', async () => {
    const w = (await workloads({ kind: ['Deployment'] })).find((x) => x.pods.length > 0)!;
    const detail = await hetu.gql<{
      workload: {
        events: { reason: string }[];
        score: { overall: number | null } | null;
      };
    }>(
      `query ($ns: String!, $k: String!, $n: String!) { workload(namespace: $ns, kind: $k, name: $n) { events(first: 50) { reason } score { overall } } }`,
      {
        ns: w.namespace,
        k: w.kind,
        n: w.name,
      },
    );
    await page.goto(`${hetu.url}/workloads?kind=Deployment`);
    await page.getByRole('button', { name: `Open Deployment ${w.namespace}/${w.name}` }).click();
    await expect.poll(() => param(page, 'sel')).toBe(`${w.namespace}/Deployment/${w.name}`);
    const panel = page.getByRole('complementary', { name: `Deployment ${w.namespace}/${w.name}` });
    await panel.locator('.wl-pod').first().waitFor();
    expect(await panel.locator('.wl-pod strong').allTextContents()).toEqual(w.pods.map((p) => p.name));
    const container = w.pods[0]!.containers[0]!;
    const cRow = panel
      .getByRole('table', { name: `Containers of ${w.pods[0]!.name}` })
      .locator('tbody tr')
      .first();
    expect(await cRow.locator('th').textContent()).toContain(container.name);
    expect(await cRow.locator('td').first().textContent()).toContain(container.state);

    const tablist = panel.getByRole('tablist');
    expect(await tablist.getByRole('tab').allTextContents()).toEqual([
      'Summary',
      'YAML',
      'Events',
      'Score impact',
    ]);
    expect(await tablist.getByRole('tab', { name: 'Summary' }).getAttribute('aria-selected')).toBe('true');

    await tablist.getByRole('tab', { name: 'YAML' }).click();
    await expect.poll(() => param(page, 'tab')).toBe('yaml');
    const yaml = await panel.locator('pre.wl-yaml').textContent();
    expect(yaml).toContain('kind: Deployment');
    expect(yaml).toContain(`name: ${w.name}`);
    expect(yaml).toContain(`namespace: ${w.namespace}`);

    // The arrow key moves to the next tab (and focus with it).
    await tablist.getByRole('tab', { name: 'YAML' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => param(page, 'tab')).toBe('events');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Events');
    const tabpanel = panel.getByRole('tabpanel');
    if (detail.workload.events.length)
      await expect.poll(() => tabpanel.locator('tbody tr').count()).toBe(detail.workload.events.length);
    else await tabpanel.locator('.state-empty', { hasText: 'No Kubernetes events' }).waitFor();

    await page.keyboard.press('ArrowRight');
    await expect.poll(() => param(page, 'tab')).toBe('impact');
    const overall = detail.workload.score?.overall;
    if (overall !== null && overall !== undefined)
      expect(
        await tabpanel.locator('.score', { hasText: 'Overall' }).locator('.score-number').textContent(),
      ).toBe(String(overall));

    // A deep link opens the same panel on the same tab.
    const fresh = await browser.newPage();
    await fresh.goto(page.url());
    const again = fresh.getByRole('complementary', { name: `Deployment ${w.namespace}/${w.name}` });
    await again.getByRole('tab', { name: 'Score impact', selected: true }).waitFor();
    await fresh.close();

    await panel.getByRole('button', { name: `Close the panel of ${w.name}` }).click();
    await expect.poll(() => param(page, 'sel')).toBeNull();
    expect(await page.getByRole('complementary').count()).toBe(0);
  });

  it('opens the pod from the pods list in its workload panel', async () => {
    const all = await workloads();
    const { w, p } = all.flatMap((w) => w.pods.map((p) => ({ w, p })))[0]!;
    await page.goto(`${hetu.url}/workloads?kind=pods`);
    await page.getByRole('button', { name: p.name, exact: true }).click();
    await expect.poll(() => param(page, 'pod')).toBe(p.name);
    const panel = page.getByRole('complementary', { name: `${w.kind} ${w.namespace}/${w.name}` });
    expect(await panel.locator('.wl-pod[aria-current=true] strong').textContent({ timeout: 15_000 })).toBe(
      p.name,
    );
  });

  it('lets the keyboard reach every control, each with a name', async () => {
    const all = await workloads();
    const w = all[0]!;
    await page.goto(`${hetu.url}/workloads?sel=${encodeURIComponent(`${w.namespace}/${w.kind}/${w.name}`)}`);
    await page.getByRole('tablist').waitFor();
    await rowNames();
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const label of [
      'All workloads',
      'Deployments',
      'Pods',
      'Nodes',
      'Namespaces',
      'Namespace',
      'Search',
      'Summary',
      `Close the panel of ${w.name}`,
    ])
      expect(names.some((n) => n.startsWith(label))).toBe(true);
    for (const x of all) expect(names).toContain(`Open ${x.kind} ${x.namespace}/${x.name}`);
    // One tab stop for the tab list (the selected tab), as the tabs pattern wants.
    expect(names.filter((n) => ['YAML', 'Events', 'Score impact'].includes(n))).toEqual([]);
    expect(stops.filter((s) => s.tag !== 'body' && s.name === '')).toEqual([]);
  });

  it('fits a phone in the dark theme, panel included', async () => {
    const w = (await workloads())[0]!;
    const phone = await browser.newPage({ theme: 'dark', viewport: { width: 390, height: 844 } });
    await phone.goto(`${hetu.url}/workloads?sel=${encodeURIComponent(`${w.namespace}/${w.kind}/${w.name}`)}`);
    await phone.getByRole('tablist').waitFor();
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(
      await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await phone.close();
  });
});
