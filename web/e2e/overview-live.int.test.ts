/**
 * The Overview is live: `hetu start --speed` plays the demo recording paced (its two hours in well
 * under a minute), and incidents that open while the page is watching appear without a reload,
 * through the `incidentChanged` and `scoreChanged` subscriptions.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBrowser, startHetu, type Hetu, type OpenBrowser } from './harness.ts';

let hetu: Hetu;
let browser: OpenBrowser;

beforeAll(async () => {
  // 2 h of event time at 150× ≈ 48 s of feeding.
  hetu = await startHetu({ speed: 150 });
  browser = await openBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

it('shows incidents that open while the page is open, without a reload', async () => {
  const page = await browser.newPage();
  await page.goto(hetu.url);
  await page.waitForSelector('main h1');
  // A reload would drop this marker.
  await page.evaluate(() => ((window as unknown as { hetuMarker: number }).hetuMarker = 1));
  const count = () => page.locator('[data-testid=overview-incidents] > li').count();
  const before = await count();
  const { incidents } = await hetu.gql<{ incidents: { totalCount: number } }>(
    '{ incidents(filter: { status: [open, investigating] }) { totalCount } }',
  );
  // The demo's incidents open later in its two hours: none (or few) are open yet.
  expect(before).toBeLessThan(6);
  expect(incidents.totalCount).toBeLessThan(6);
  // The titles on screen the moment the list grew (at this pace some resolve again within seconds).
  const grown = await page.waitForFunction(
    (n) => {
      const links = [...document.querySelectorAll('[data-testid=overview-incidents] > li a')];
      return links.length > n ? links.map((a) => a.textContent ?? '') : false;
    },
    before,
    { timeout: 170_000, polling: 250 },
  );
  const shown = (await grown.jsonValue()) as string[];
  expect(shown.length).toBeGreaterThan(before);
  expect(await page.evaluate(() => (window as unknown as { hetuMarker?: number }).hetuMarker)).toBe(1);
  // They are the API's incidents (whatever their status by now).
  const all = await hetu.gql<{ incidents: { nodes: { title: string }[] } }>(
    '{ incidents(first: 200) { nodes { title } } }',
  );
  const titles = new Set(all.incidents.nodes.map((n) => n.title));
  for (const t of shown) expect(titles.has(t), t).toBe(true);
  // The cluster score appeared (or moved) the same way.
  expect(await page.getByTestId('cluster-score').isVisible()).toBe(true);
}, 240_000);
