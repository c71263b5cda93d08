/**
 * The Anomalies page in Chromium against `hetu start` with the demo played through (no route
 * stubs): every episode as the API has it, the selected episode's facts and its series chart (the
 * samples the API reads through the log, the expected band, the anomalous points), filters and the
 * selection in the URL, the keyboard reaching every control, a phone-sized dark page, and the
 * error state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

interface Episode {
  id: string;
  metric: string;
  seriesKey: string;
  status: string;
  peakSeverity: string;
  peakScore: number;
  peakZ: number;
  anomalousSamples: number;
  namespace: string | null;
}

const LIST = `query ($filter: AnomalyFilter) {
  anomalies(filter: $filter, first: 200) {
    totalCount
    nodes { id metric seriesKey status peakSeverity peakScore peakZ anomalousSamples namespace }
  }
}`;

let hetu: Hetu;
let browser: OpenBrowser;
let page: Page;

async function episodes(filter: Record<string, unknown> = {}): Promise<Episode[]> {
  return (await hetu.gql<{ anomalies: { nodes: Episode[] } }>(LIST, { filter })).anomalies.nodes;
}

async function sampleCount(id: string): Promise<number> {
  const d = await hetu.gql<{ anomaly: { series: { samples: unknown[] } } }>(
    `query ($id: ID!) { anomaly(id: $id) { series(beforeSeconds: 1800, afterSeconds: 600, limit: 500) { samples { ts } } } }`,
    { id },
  );
  return d.anomaly.series.samples.length;
}

/** The episode ids listed, in order, once the list (or its empty state) has loaded. */
async function listed(p: Page = page): Promise<string[]> {
  await p.locator('[data-anomaly-id], .state-empty').first().waitFor();
  return p
    .locator('[data-anomaly-id]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-anomaly-id')!));
}

/** The chart's accessible description, once it is drawn. */
async function chartLabel(p: Page = page): Promise<string> {
  const chart = p.locator('.an-detail .chart');
  await chart.locator('canvas').waitFor();
  return (await chart.getAttribute('aria-label')) ?? '';
}

beforeAll(async () => {
  hetu = await startHetu();
  browser = await openBrowser();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

describe('Anomalies page', () => {
  it('lists every episode as the API has it and charts the first with its band and anomalous points', async () => {
    const all = await episodes();
    expect(all.length).toBeGreaterThan(5);
    await page.goto(`${hetu.url}/anomalies`);
    expect(await listed()).toEqual(all.map((e) => e.id));
    expect(await page.locator('.an-list-wrap > p').textContent()).toBe(
      `${all.length} episodes, newest opened first`,
    );

    const first = all[0]!;
    const detail = page.locator(`[data-anomaly-detail="${first.id}"]`);
    await detail.waitFor();
    expect(await detail.getByRole('heading').textContent()).toBe(first.metric);
    expect(await detail.locator('.an-key').textContent()).toBe(first.seriesKey);
    const facts = await detail.locator('.an-facts').textContent();
    expect(facts).toContain(`Status${first.status}`);
    expect(facts).toContain(`Severity${first.peakSeverity}`);
    expect(facts).toContain(`Peak score${first.peakScore.toFixed(3)} (z ${first.peakZ.toFixed(1)})`);
    expect(facts).toContain(`Anomalous samples${first.anomalousSamples}`);

    const label = await chartLabel();
    expect(label).toContain(`${await sampleCount(first.id)} samples`);
    const points = Number(/(\d+) anomalous points/.exec(label)![1]);
    expect(points).toBeGreaterThan(0);
    // uPlot's legend names the series, the band and the points.
    const legend = await detail.locator('.u-legend').textContent();
    for (const s of ['expected', 'band low', 'band high', 'anomalous']) expect(legend).toContain(s);
  });

  it('selects an episode by click, keeps it in the URL, and a link opens it directly', async () => {
    const all = await episodes();
    // The episode with the most anomalous samples: its chart marks several points.
    const pick = [...all].sort((a, b) => b.anomalousSamples - a.anomalousSamples)[0]!;
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await page.locator(`[data-anomaly-id="${pick.id}"]`).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('id')).toBe(pick.id);
    await page.locator(`[data-anomaly-detail="${pick.id}"]`).waitFor();
    expect(await page.locator(`[data-anomaly-id="${pick.id}"]`).getAttribute('aria-current')).toBe('true');
    const label = await chartLabel();
    expect(label).toContain(`${await sampleCount(pick.id)} samples`);
    const points = Number(/(\d+) anomalous points/.exec(label)![1]);
    expect(points).toBeGreaterThan(1);
    expect(points).toBeLessThanOrEqual(pick.anomalousSamples + 1);

    const fresh = await browser.newPage({ theme: 'dark' });
    await fresh.goto(`${hetu.url}/anomalies?id=${pick.id}`);
    await fresh.locator(`[data-anomaly-detail="${pick.id}"]`).waitFor();
    expect(await chartLabel(fresh)).toBe(label);
    await fresh.close();
  });

  it('filters by status, severity, namespace and search through the URL', async () => {
    const open = await episodes({ status: ['open'] });
    const closed = await episodes({ status: ['closed'] });
    expect(open.length).toBeGreaterThan(0);
    expect(closed.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await page
      .getByRole('navigation', { name: 'Anomaly status' })
      .getByRole('link', { name: 'Open' })
      .click();
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('open');
    await expect.poll(() => listed()).toEqual(open.map((e) => e.id));
    for (const e of open) expect(e.status).toBe('open');

    await page.goto(`${hetu.url}/anomalies?status=closed`);
    expect(await listed()).toEqual(closed.map((e) => e.id));

    const medium = await episodes({ severity: ['medium'] });
    expect(medium.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await page.getByRole('checkbox', { name: 'medium' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('severity')).toBe('medium');
    await expect.poll(() => listed()).toEqual(medium.map((e) => e.id));

    const payments = await episodes({ namespace: 'payments' });
    expect(payments.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await page.getByLabel('Namespace', { exact: true }).fill('payments');
    await page.getByLabel('Namespace', { exact: true }).press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('namespace')).toBe('payments');
    await expect.poll(() => listed()).toEqual(payments.map((e) => e.id));

    const latency = await episodes({ search: 'latency' });
    expect(latency.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await page.getByLabel('Search series', { exact: true }).fill('latency');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('latency');
    await expect.poll(() => listed()).toEqual(latency.map((e) => e.id));

    await page.goto(`${hetu.url}/anomalies?q=no-such-series`);
    expect(await listed()).toEqual([]);
    expect(await page.locator('.state-empty').textContent()).toContain(
      'No anomaly episodes match these filters',
    );
  });

  it('lets the keyboard reach every control, each with a name', async () => {
    const all = await episodes();
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const n of [
      'All',
      'Open',
      'Closed',
      'critical',
      'high',
      'medium',
      'Search series',
      'Search',
      'Namespace',
    ])
      expect(names).toContain(n);
    expect(stops.filter((s) => s.tag === 'a' && s.name.includes('opened')).length).toBe(all.length);
    // Every control reached has a name and can be seen (the document body, where focus wraps, is not a control).
    expect(stops.filter((s) => s.tag !== 'body' && !(s.name.length > 0 && s.visible))).toEqual([]);

    // Keyboard only: focus the second episode and press Enter.
    await page.locator(`[data-anomaly-id="${all[1]!.id}"]`).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('id')).toBe(all[1]!.id);
  });

  it('fits a phone in the dark theme', async () => {
    const phone = await browser.newPage({ theme: 'dark', viewport: { width: 390, height: 844 } });
    await phone.goto(`${hetu.url}/anomalies`);
    await listed(phone);
    await chartLabel(phone);
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const chartWidth = await phone
      .locator('.an-detail canvas')
      .evaluate((c) => c.getBoundingClientRect().width);
    expect(chartWidth).toBeLessThanOrEqual(390);
    expect(chartWidth).toBeGreaterThan(200);
  });

  it('shows the error state when the API is gone', async () => {
    await page.goto(`${hetu.url}/anomalies`);
    await listed();
    await hetu.stop();
    await page
      .getByRole('navigation', { name: 'Anomaly status' })
      .getByRole('link', { name: 'Closed' })
      .click();
    await page.getByRole('alert').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('alert').textContent()).toContain('Could not load this.');
  });
});
