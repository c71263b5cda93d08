/**
 * The Recommendations page in Chromium against `hetu start` with the demo played through (no route
 * stubs): the summary (open, monthly savings, by type) and every recommendation as the API has
 * them, current vs suggested, the YAML patch copied to the clipboard, accept and dismiss
 * round-tripping through commands, filters in the URL, the keyboard reaching every control, a
 * phone-sized dark page, and the error state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

interface Rec {
  id: string;
  type: string;
  title: string;
  status: string;
  severity: string;
  patch: string | null;
  command: string | null;
  evidence: { values: { name: string; value: number | null }[] };
}

const LIST = `query ($filter: RecommendationFilter) {
  recommendations(filter: $filter, first: 200) {
    totalCount
    nodes { id type title status severity patch command evidence { values { name value } } }
  }
}`;

const SUMMARY = `{
  recommendationSummary { total open monthlySavings byType { key count open monthlySavings } byStatus { key count } }
}`;

interface Summary {
  total: number;
  open: number;
  monthlySavings: number;
  byType: { key: string; count: number; open: number; monthlySavings: number }[];
  byStatus: { key: string; count: number }[];
}

let hetu: Hetu;
let browser: OpenBrowser;
let page: Page;

async function recs(filter: Record<string, unknown> = {}): Promise<Rec[]> {
  return (await hetu.gql<{ recommendations: { nodes: Rec[] } }>(LIST, { filter })).recommendations.nodes;
}

async function summary(): Promise<Summary> {
  return (await hetu.gql<{ recommendationSummary: Summary }>(SUMMARY)).recommendationSummary;
}

/** The recommendation ids on screen, in order, once the list (or its empty state) has loaded. */
async function listed(p: Page = page): Promise<string[]> {
  await p.locator('[data-recommendation-id], .state-empty').first().waitFor();
  return p
    .locator('[data-recommendation-id]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-recommendation-id')!));
}

const card = (id: string, p: Page = page) => p.locator(`[data-recommendation-id="${id}"]`);

beforeAll(async () => {
  hetu = await startHetu();
  browser = await openBrowser();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

describe('Recommendations page', () => {
  it('shows the summary and the open recommendations as the API has them', async () => {
    const s = await summary();
    const open = await recs({ status: ['open'] });
    expect(open.length).toBeGreaterThan(3);
    await page.goto(`${hetu.url}/recommendations`);
    expect(await listed()).toEqual(open.map((r) => r.id));
    expect(await page.getByTestId('rec-open').textContent()).toBe(String(s.open));
    const money = s.monthlySavings.toLocaleString('en', {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    expect(await page.locator('.rec-stat-value').nth(1).textContent()).toBe(money);
    const rows = page.locator('.rec-bytype tbody tr');
    expect(await rows.count()).toBe(s.byType.length);
    for (const [i, t] of s.byType.entries()) {
      const cells = await rows.nth(i).locator('th, td').allTextContents();
      expect(cells.slice(0, 3)).toEqual([t.key, String(t.open), String(t.count)]);
    }
    const tabs = page.getByRole('navigation', { name: 'Recommendation status' });
    expect(await tabs.getByRole('link', { name: /^All/ }).textContent()).toBe(`All ${s.total}`);
  });

  it('shows current vs suggested and the YAML patch, and copies the patch', async () => {
    const all = await recs({ type: ['rightsizing'] });
    const r = all.find(
      (x) => x.patch && x.evidence.values.some((v) => v.name === 'cpuSuggestedRequestMilli'),
    )!;
    expect(r).toBeDefined();
    const v = new Map(r.evidence.values.map((x) => [x.name, x.value!]));
    await page.goto(`${hetu.url}/recommendations?status=all&type=rightsizing`);
    await listed();
    const c = card(r.id);
    expect(await c.getByRole('heading').textContent()).toBe(r.title);
    const cpu = await c
      .locator('.rec-compare tr', { hasText: 'CPU request' })
      .locator('th, td')
      .allTextContents();
    const current = v.get('cpuRequest')!;
    expect(cpu).toEqual([
      'CPU request',
      current < 1 ? `${Math.round(current * 1000)}m` : `${+current.toFixed(3)} cores`,
      `${v.get('cpuSuggestedRequestMilli')}m`,
    ]);
    expect(await c.locator('.rec-yaml').textContent()).toBe(r.patch);
    expect(await c.textContent()).toContain(r.command!);

    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hetu.url });
    await c.getByRole('button', { name: `Copy the YAML patch of ${r.title}` }).click();
    await c.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(r.patch);

    // An HPA recommendation compares replicas.
    const hpa = (await recs({ type: ['hpa-at-max'] }))[0]!;
    await page.goto(`${hetu.url}/recommendations?type=hpa-at-max`);
    expect(await listed()).toEqual([hpa.id]);
    const hv = new Map(hpa.evidence.values.map((x) => [x.name, x.value!]));
    expect(
      await card(hpa.id)
        .locator('.rec-compare tr', { hasText: 'Max replicas' })
        .locator('th, td')
        .allTextContents(),
    ).toEqual(['Max replicas', String(hv.get('max')), String(hv.get('suggestedMax'))]);
  });

  it('accepts and dismisses through commands: mutation → command → processors → projection → page', async () => {
    const open = await recs({ status: ['open'] });
    const [a, b] = [open[0]!, open[1]!];
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    await card(a.id).getByRole('button', { name: 'Accept' }).click();
    // Accepted, it leaves the Open list once the projection has it.
    await expect.poll(() => listed(), { timeout: 30_000 }).not.toContain(a.id);
    expect((await recs({ status: ['accepted'] })).map((r) => r.id)).toEqual([a.id]);
    await card(b.id).getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => listed(), { timeout: 30_000 }).not.toContain(b.id);
    expect((await recs({ status: ['dismissed'] })).map((r) => r.id)).toEqual([b.id]);
    const cmds = await hetu.gql<{ pipeline: { recentCommands: { type: string; payload: string }[] } }>(
      `{ pipeline { recentCommands(first: 5) { type payload } } }`,
    );
    const payloads = cmds.pipeline.recentCommands
      .filter((c) => c.type === 'recommendation.set-status')
      .map((c) => JSON.parse(c.payload) as { recommendationId: string; status: string });
    expect(payloads).toContainEqual({ recommendationId: a.id, status: 'accepted' });
    expect(payloads).toContainEqual({ recommendationId: b.id, status: 'dismissed' });

    // The Accepted tab shows it with its status, and it can be marked applied.
    await page
      .getByRole('navigation', { name: 'Recommendation status' })
      .getByRole('link', { name: /^Accepted/ })
      .click();
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('accepted');
    await expect.poll(() => listed()).toEqual([a.id]);
    expect(await card(a.id).getByTestId('recommendation-status').textContent()).toBe('accepted');
    await card(a.id).getByRole('button', { name: 'Mark applied' }).click();
    await expect.poll(() => listed(), { timeout: 30_000 }).toEqual([]);
    expect((await recs({ status: ['applied'] })).map((r) => r.id)).toEqual([a.id]);
    await page.goto(`${hetu.url}/recommendations?status=applied`);
    expect(await listed()).toEqual([a.id]);
  });

  it('filters by type, severity and search through the URL', async () => {
    const hpaMin = await recs({ type: ['hpa-min-high'], status: ['open'] });
    expect(hpaMin.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    await page.getByLabel('Type', { exact: true }).selectOption('hpa-min-high');
    await expect.poll(() => new URL(page.url()).searchParams.get('type')).toBe('hpa-min-high');
    await expect.poll(() => listed()).toEqual(hpaMin.map((r) => r.id));

    const high = await recs({ severity: ['high'], status: ['open'] });
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    await page.getByRole('checkbox', { name: 'high' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('severity')).toBe('high');
    await expect.poll(() => listed()).toEqual(high.map((r) => r.id));

    const cart = await recs({ search: 'cart', status: ['open'] });
    expect(cart.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    await page.getByLabel('Search', { exact: true }).fill('cart');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('cart');
    await expect.poll(() => listed()).toEqual(cart.map((r) => r.id));

    await page.goto(`${hetu.url}/recommendations?q=no-such-thing`);
    expect(await listed()).toEqual([]);
    expect(await page.locator('.state-empty').textContent()).toContain(
      'No open recommendations match these filters',
    );
  });

  it('lets the keyboard reach every control, each with a name', async () => {
    const open = await recs({ status: ['open'] });
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const n of ['Type', 'high', 'medium', 'low', 'Search']) expect(names).toContain(n);
    expect(names.filter((n) => n === 'Accept').length).toBe(open.length);
    expect(names.filter((n) => n === 'Dismiss').length).toBe(open.length);
    for (const r of open.filter((x) => x.patch)) expect(names).toContain(`Copy the YAML patch of ${r.title}`);
    // Every control reached has a name and can be seen (the document body, where focus wraps, is not a control).
    expect(stops.filter((s) => s.tag !== 'body' && !(s.name.length > 0 && s.visible))).toEqual([]);
  });

  it('fits a phone in the dark theme', async () => {
    const phone = await browser.newPage({ theme: 'dark', viewport: { width: 390, height: 844 } });
    await phone.goto(`${hetu.url}/recommendations?status=all`);
    await listed(phone);
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('shows the error state when the API is gone', async () => {
    await page.goto(`${hetu.url}/recommendations`);
    await listed();
    await hetu.stop();
    await page
      .getByRole('navigation', { name: 'Recommendation status' })
      .getByRole('link', { name: /^All/ })
      .click();
    await page.getByRole('alert').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('alert').textContent()).toContain('Could not load this.');
  });
});
