/**
 * A server with API tokens (HETU_API_READ_TOKEN): the dashboard says it needs one, Settings keeps
 * the token in this browser, and every page (queries and the live WebSocket) then works with it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBrowser, startHetu, type Hetu, type OpenBrowser } from './harness.ts';

const READ = 'e2e-read-token-0123456789';
const ADMIN = 'e2e-admin-token-0123456789';
let hetu: Hetu;
let browser: OpenBrowser;

beforeAll(async () => {
  hetu = await startHetu({ env: { HETU_API_READ_TOKEN: READ, HETU_API_ADMIN_TOKEN: ADMIN } });
  browser = await openBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await hetu?.stop();
});

it('asks for a token, takes it in Settings, then shows the data', async () => {
  const page = await browser.newPage();
  await page.goto(hetu.url);
  const alert = page.getByRole('alert').first();
  await alert.waitFor();
  expect(await alert.innerText()).toMatch(/HETU_API_(UNAUTHENTICATED|BAD_TOKEN)/);
  await alert.getByRole('link', { name: 'Set an API token in Settings.' }).click();
  await page.waitForURL(/\/settings#token$/);
  await page.getByLabel('Token', { exact: true }).fill(READ);
  await page.getByRole('button', { name: 'Save token' }).click();
  expect(await page.getByTestId('token-status').innerText()).toContain('Token saved');
  // Settings' own queries now pass.
  await page.getByTestId('version').waitFor();
  await page.getByRole('link', { name: 'Overview' }).click();
  const score = page.getByTestId('cluster-score').locator('.score-number');
  await score.waitFor();
  const res = await fetch(`${hetu.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hetu-request': '1', authorization: `Bearer ${READ}` },
    body: JSON.stringify({ query: '{ overview { score { overall } } }' }),
  });
  const body = (await res.json()) as { data: { overview: { score: { overall: number } } } };
  expect(await score.innerText()).toBe(String(body.data.overview.score.overall));
  // A wrong token is refused in one sentence, with the way to fix it.
  await page.evaluate(() => localStorage.setItem('hetu.token', 'not-a-token'));
  await page.reload();
  const refused = page.getByRole('alert').first();
  await refused.waitFor();
  expect(await refused.innerText()).toContain('HETU_API_BAD_TOKEN');
});
