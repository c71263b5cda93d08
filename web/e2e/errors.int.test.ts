/**
 * The Errors and Error detail pages in Chromium against `hetu start` with the demo played through:
 * real data on every widget (compared with the API's own answers), filters, sorts and page sizes in
 * the URL, expandable rows, a status change round-tripping through a command, live updates from the
 * errorGroupChanged subscription, merge and split, the keyboard reaching every control, a phone-
 * sized dark page, and the error state when the API goes away.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startFakeLlmServer, type FakeLlmScript, type FakeLlmServer } from '@hetu/producers/llm';
import { openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

interface Group {
  id: string;
  title: string;
  reason: string;
  level: string;
  status: string;
  spike: boolean;
  workload: string;
  namespace: string;
  fingerprint: string;
  count: number;
  ownCount: number;
  count5m: number;
  count1h: number;
  sparkline: number[];
  mergedInto: string | null;
}

const GROUPS = `query ($filter: ErrorGroupFilter, $sort: ErrorGroupSort, $first: Int) {
  errorGroups(filter: $filter, sort: $sort, first: $first) {
    totalCount
    nodes { id title reason level status spike workload namespace fingerprint count ownCount count5m count1h sparkline mergedInto }
  }
}`;
const ALL = { status: ['open', 'resolved', 'ignored'] };

let hetu: Hetu;
let browser: OpenBrowser;
let page: Page;

async function groups(
  filter: Record<string, unknown> = ALL,
  sort = 'lastSeen',
  first = 500,
): Promise<Group[]> {
  const d = await hetu.gql<{ errorGroups: { nodes: Group[] } }>(GROUPS, { filter, sort, first });
  return d.errorGroups.nodes;
}

async function group(id: string): Promise<Group & { mergedChildren: string[] }> {
  const d = await hetu.gql<{ errorGroup: Group & { mergedChildren: string[] } }>(
    `query ($id: ID!) { errorGroup(id: $id) { id status mergedInto mergedChildren count } }`,
    { id },
  );
  return d.errorGroup;
}

/** The ids of the rows on screen, in order, once the list has loaded. */
async function rowIds(p: Page = page): Promise<string[]> {
  await p.locator('[data-testid=error-row], .state-empty').first().waitFor();
  return p
    .locator('[data-testid=error-row]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-group-id')!));
}

/** Waits until the URL has the parameter with the value, and the list shows the ids. */
async function expectRows(ids: string[]): Promise<void> {
  await expect.poll(() => rowIds(), { timeout: 15_000 }).toEqual(ids);
}

/** The lowest WCAG contrast ratio of the text of the elements matching `selector` on their backgrounds. */
async function minContrast(p: Page, selector: string): Promise<number> {
  return p.evaluate(`(() => {
    const lum = (c) => {
      const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const bgOf = (el) => {
      for (; el; el = el.parentElement) {
        const c = getComputedStyle(el).backgroundColor;
        if (c && c !== 'transparent' && !/, 0\\)$/.test(c)) return c;
      }
      return 'rgb(255, 255, 255)';
    };
    const ratios = [...document.querySelectorAll(${JSON.stringify(selector)})].map((el) => {
      const a = lum(getComputedStyle(el).color);
      const b = lum(bgOf(el));
      return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
    return ratios.length ? Math.min(...ratios) : 0;
  })()`);
}

const TEXT =
  '.err-spike, .chip, .err-title, .err-exception, .muted, .err-bar-label, .err-rates, .err-row-count';

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

describe('Errors page', () => {
  it('shows the summary cards, the distributions and every group as the API has them', async () => {
    const all = await groups();
    expect(all.length).toBeGreaterThan(5);
    const s = await hetu.gql<{
      errorSummary: {
        groups: number;
        open: number;
        occurrences: number;
        byReason: { key: string; occurrences: number }[];
      };
    }>(`{ errorSummary { groups open occurrences byReason { key occurrences } } }`);
    await page.goto(`${hetu.url}/errors?status=all&size=100`);
    expect(await rowIds()).toEqual(all.map((g) => g.id));

    const cards = page.getByRole('region', { name: 'Error summary' });
    const card = (label: string) =>
      cards
        .locator('.err-card', { has: page.locator('.err-card-label', { hasText: label }) })
        .locator('.err-card-value');
    expect(await card('Groups').textContent()).toBe(String(s.errorSummary.groups));
    expect(await card('Occurrences').textContent()).toBe(String(s.errorSummary.occurrences));
    expect(await card('Open').textContent()).toBe(String(s.errorSummary.open));
    const top = [...s.errorSummary.byReason].sort((a, b) => b.occurrences - a.occurrences)[0]!;
    expect(await card('Most common reason').textContent()).toBe(top.key);

    const reasons = page.getByRole('region', { name: 'By reason' }).getByRole('button');
    expect(await reasons.count()).toBe(s.errorSummary.byReason.length);
    await page.getByRole('region', { name: 'Top workloads' }).getByRole('button').first().waitFor();

    // One row in full: severity, title, chips, rates, sparkline, count, status actions.
    const spiking = all.find((g) => g.spike)!;
    expect(spiking).toBeDefined();
    const row = page.locator(`[data-group-id="${spiking.id}"]`);
    expect(await row.locator('.chip').first().textContent()).toContain(spiking.level);
    expect(await row.locator('.err-title').textContent()).toBe(spiking.title);
    expect(await row.locator('.err-spike').textContent()).toBe('SPIKE');
    expect(await row.locator('.err-rates').textContent()).toBe(
      `${spiking.count5m}/5m · ${spiking.count1h}/1h`,
    );
    expect(await row.locator('.sparkline').getAttribute('aria-label')).toContain(
      spiking.sparkline.join(', '),
    );
    expect(await row.locator('.sparkline rect').count()).toBe(12);
    expect(await row.locator('.err-row-count').textContent()).toBe(String(spiking.count));
    for (const name of [
      `Filter by workload ${spiking.namespace}/${spiking.workload}`,
      `Filter by namespace ${spiking.namespace}`,
      `Filter by reason ${spiking.reason}`,
    ])
      await row.getByRole('button', { name, exact: true }).waitFor();
    await row.getByRole('button', { name: `Resolve: ${spiking.title}` }).waitFor();
    await row.getByRole('button', { name: `Ignore: ${spiking.title}` }).waitFor();
    expect(await row.locator('time').count()).toBe(2);

    // Rows that are not spiking carry no badge.
    const calm = all.find((g) => !g.spike)!;
    expect(await page.locator(`[data-group-id="${calm.id}"] .err-spike`).count()).toBe(0);
  });

  it('filters by reason, namespace, workload and search, all in the URL and back from it', async () => {
    await page.goto(`${hetu.url}/errors?status=all&size=100`);
    await rowIds();
    const reason = (await groups()).find((g) => g.reason.startsWith('exception'))!.reason;
    await page.getByLabel('Reason', { exact: true }).selectOption(reason);
    await expect.poll(() => new URL(page.url()).searchParams.get('reason')).toBe(reason);
    await expectRows((await groups({ ...ALL, reason: [reason] })).map((g) => g.id));

    // The link alone gives the same list (deep link).
    const link = page.url();
    const fresh = await browser.newPage();
    await fresh.goto(link);
    expect(await rowIds(fresh)).toEqual((await groups({ ...ALL, reason: [reason] })).map((g) => g.id));
    expect(await fresh.getByLabel('Reason', { exact: true }).inputValue()).toBe(reason);
    await fresh.close();

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Status', { exact: true }).selectOption('all');
    await page.getByLabel('Namespace', { exact: true }).selectOption('shop');
    await expect.poll(() => new URL(page.url()).searchParams.get('namespace')).toBe('shop');
    await expectRows((await groups({ ...ALL, namespace: 'shop' })).map((g) => g.id));
    await page.getByLabel('Workload', { exact: true }).selectOption('search');
    await expect.poll(() => new URL(page.url()).searchParams.get('workload')).toBe('search');
    const searchGroups = await groups({ ...ALL, namespace: 'shop', workload: 'search' });
    expect(searchGroups.length).toBeGreaterThan(1);
    await expectRows(searchGroups.map((g) => g.id));

    // Search: a word of one title.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Status', { exact: true }).selectOption('all');
    await page.getByLabel('Search', { exact: true }).fill('WORKER TIMEOUT');
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('WORKER TIMEOUT');
    const hits = await groups({ ...ALL, search: 'WORKER TIMEOUT' });
    expect(hits.length).toBeGreaterThan(0);
    await expectRows(hits.map((g) => g.id));

    // A chip filters too.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Status', { exact: true }).selectOption('all');
    await page
      .getByRole('button', { name: /^Filter by reason / })
      .first()
      .click();
    await expect.poll(() => new URL(page.url()).searchParams.get('reason')).not.toBeNull();
  });

  it('sorts by count, rate and severity and pages by the chosen size', async () => {
    for (const sort of ['count', 'rate5m', 'severity', 'lastSeen']) {
      await page.goto(`${hetu.url}/errors?status=all&size=100&sort=${sort}`);
      expect(await rowIds()).toEqual((await groups(ALL, sort)).map((g) => g.id));
      expect(await page.getByLabel('Sort by', { exact: true }).inputValue()).toBe(sort);
    }
    const byCount = (await groups(ALL, 'count')).map((g) => g.id);
    await page.goto(`${hetu.url}/errors?status=all&sort=count`);
    await rowIds();
    await page.getByLabel('Per page', { exact: true }).selectOption('10');
    await expect.poll(() => new URL(page.url()).searchParams.get('size')).toBe('10');
    await expectRows(byCount.slice(0, 10));
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('cursors')).not.toBeNull();
    await expectRows(byCount.slice(10, 20));
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(byCount.length <= 20);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expectRows(byCount.slice(0, 10));
  });

  it('expands a row to its details', async () => {
    const g = (await groups())[0]!;
    await page.goto(`${hetu.url}/errors?status=all`);
    await rowIds();
    const more = page.getByRole('button', { name: `Show details of ${g.title}` });
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    await more.click();
    const less = page.getByRole('button', { name: `Hide details of ${g.title}` });
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    const details = page.locator(`#${(await less.getAttribute('aria-controls'))!.replace(/:/g, '\\:')}`);
    expect(await details.textContent()).toContain(g.fingerprint);
    await less.click();
    expect(await details.count()).toBe(0);
  });

  it('resolves a group through a command and shows it back from the projection; reopens it', async () => {
    const g = (await groups({ status: ['open'] }, 'count'))[0]!;
    await page.goto(`${hetu.url}/errors?status=all&q=${g.fingerprint}`);
    expect(await rowIds()).toEqual([g.id]);
    const row = page.locator(`[data-group-id="${g.id}"]`);
    await row.getByRole('button', { name: `Resolve: ${g.title}` }).click();
    // The page re-reads the group once the command went through the processors into the projection.
    await row.getByRole('button', { name: `Reopen: ${g.title}` }).waitFor({ timeout: 20_000 });
    expect(await row.locator('.chip', { hasText: /^resolved$/ }).count()).toBe(1);
    expect((await group(g.id)).status).toBe('resolved');
    const cmds = await hetu.gql<{ pipeline: { recentCommands: { type: string; targetIds: string[] }[] } }>(
      `{ pipeline { recentCommands(first: 5) { type targetIds } } }`,
    );
    expect(cmds.pipeline.recentCommands[0]).toEqual({ type: 'error-group.resolve', targetIds: [g.id] });

    // Under the default filter (open) it is gone; under resolved it is there.
    await page.goto(`${hetu.url}/errors?q=${g.fingerprint}`);
    await page.locator('.state-empty', { hasText: 'No error groups match' }).waitFor();
    await page.goto(`${hetu.url}/errors?status=resolved&q=${g.fingerprint}`);
    expect(await rowIds()).toEqual([g.id]);

    await page
      .locator(`[data-group-id="${g.id}"]`)
      .getByRole('button', { name: `Reopen: ${g.title}` })
      .click();
    await page.locator('.state-empty', { hasText: 'No error groups match' }).waitFor({ timeout: 20_000 });
    expect((await group(g.id)).status).toBe('open');
  });

  it('follows changes made elsewhere live (errorGroupChanged), without a reload', async () => {
    const g = (await groups({ status: ['open'] }, 'count'))[1]!;
    // The page subscribes over graphql-ws once it shows the list: wait for its subscribe message.
    const subscribed = page
      .waitForEvent('websocket')
      .then((ws) => ws.waitForEvent('framesent', (f) => String(f.payload).includes('"subscribe"')));
    await page.goto(`${hetu.url}/errors?status=all&q=${g.fingerprint}`);
    expect(await rowIds()).toEqual([g.id]);
    const row = page.locator(`[data-group-id="${g.id}"]`);
    await row.getByRole('button', { name: `Ignore: ${g.title}` }).waitFor();
    await subscribed;
    const r = await hetu.gql<{ setErrorGroupStatus: { position: unknown } }>(
      `mutation ($id: ID!) { setErrorGroupStatus(id: $id, status: ignored) { position { topic partition offset } } }`,
      { id: g.id },
    );
    expect(r.setErrorGroupStatus.position).toBeTruthy();
    await row.locator('.chip', { hasText: /^ignored$/ }).waitFor({ timeout: 20_000 });
    await row.getByRole('button', { name: `Reopen: ${g.title}` }).click();
    await row.getByRole('button', { name: `Ignore: ${g.title}` }).waitFor({ timeout: 20_000 });
    expect((await group(g.id)).status).toBe('open');
  });

  it('lets the keyboard reach every control, each with a name', async () => {
    await page.goto(`${hetu.url}/errors?status=all&size=10`);
    await rowIds();
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const label of ['Status', 'Namespace', 'Workload', 'Reason', 'Search', 'Sort by', 'Per page'])
      expect(names.some((n) => n.startsWith(label))).toBe(true);
    const ten = (await groups(ALL, 'lastSeen', 10)).map((g) => g.title);
    for (const t of ten) {
      expect(names).toContain(t.replace(/\s+/g, ' ').trim());
      expect(names.some((n) => n === `Show details of ${t}`)).toBe(true);
    }
    expect(names).toContain('Next page');
    expect(stops.filter((s) => s.tag !== 'body' && s.name === '')).toEqual([]);
    expect(stops.every((s) => s.tag === 'body' || s.visible)).toBe(true);
  });

  it('fits a phone in the dark theme, with readable contrast in both themes', async () => {
    const phone = await browser.newPage({ theme: 'dark', viewport: { width: 390, height: 844 } });
    await phone.goto(`${hetu.url}/errors?status=all`);
    await rowIds(phone);
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // WCAG AA: text at least 4.5:1 on its background, in the dark theme and in the light one.
    expect(await minContrast(phone, TEXT)).toBeGreaterThanOrEqual(4.5);
    await page.goto(`${hetu.url}/errors?status=all`);
    await rowIds();
    expect(await minContrast(page, TEXT)).toBeGreaterThanOrEqual(4.5);
    await phone.close();
  });
});

describe('Error detail page', () => {
  it('shows the stats, the stack trace, the occurrences with their filters and the truncation notice', async () => {
    const big = (await groups(ALL, 'count'))[0]!;
    expect(big.ownCount).toBeGreaterThan(50);
    const d = await hetu.gql<{
      errorGroup: {
        bestSample: { stack: string | null; message: string };
        occurrences: { pod: string; ts: string }[];
      };
    }>(
      `query ($id: ID!) { errorGroup(id: $id) { bestSample { stack message } occurrences(first: 50) { pod ts } } }`,
      {
        id: big.id,
      },
    );
    await page.goto(`${hetu.url}/errors/${big.id}`);
    await page.getByRole('heading', { level: 1, name: big.title }).waitFor();
    const stats = page.getByRole('region', { name: 'Statistics' });
    expect(await stats.textContent()).toContain(String(big.count));
    expect(await stats.locator('.err-rates').textContent()).toBe(`${big.count5m}/5m · ${big.count1h}/1h`);
    const sample = await page.locator('pre.err-pre').textContent();
    expect(sample).toContain(d.errorGroup.bestSample.stack ?? d.errorGroup.bestSample.message);
    expect(await page.getByRole('note').filter({ hasText: 'Showing the latest 50' }).textContent()).toContain(
      `of ${big.ownCount} occurrences`,
    );
    const rows = page.locator('.err-occ-table tbody tr');
    expect(await rows.count()).toBe(d.errorGroup.occurrences.length);

    // Pod filter: in the URL, the rows only of that pod.
    const pod = d.errorGroup.occurrences[0]!.pod;
    const ofPod = d.errorGroup.occurrences.filter((o) => o.pod === pod).length;
    await page.getByLabel('Pod', { exact: true }).selectOption(pod);
    await expect.poll(() => new URL(page.url()).searchParams.get('pod')).toBe(pod);
    await expect.poll(() => rows.count()).toBe(ofPod);
    for (const text of await rows.locator('td:nth-child(2)').allTextContents()) expect(text).toContain(pod);

    // Time range: from the newest occurrence's minute on.
    const newest = d.errorGroup.occurrences[0]!.ts.slice(0, 16);
    await page.goto(`${hetu.url}/errors/${big.id}?from=${newest}`);
    const since = d.errorGroup.occurrences.filter((o) => o.ts.slice(0, 16) >= newest).length;
    await expect.poll(() => rows.count()).toBe(since);
    expect(await page.getByLabel('From (UTC)', { exact: true }).inputValue()).toBe(newest);

    // Search that matches nothing: the empty state.
    await page.goto(`${hetu.url}/errors/${big.id}?oq=no-such-text-anywhere`);
    await page.locator('.state-empty', { hasText: 'No occurrence matches' }).waitFor();
  });

  it('shows the AI card, the context panel and the groups sharing the faultKey', async () => {
    const g = (await groups(ALL, 'count'))[0]!;
    const faults = await hetu.gql<{
      faults: { nodes: { faultKey: string; groupCount: number; groups: Group[] }[] };
    }>(`{ faults(first: 100) { nodes { faultKey groupCount groups { id namespace workload } } } }`);
    await page.goto(`${hetu.url}/errors/${g.id}`);
    const ai = page.getByRole('region', { name: 'AI analysis' });
    expect(await ai.textContent()).toMatch(/No (AI )?analysis/);
    const context = page.getByRole('complementary', { name: 'Context' });
    await context.getByRole('heading', { name: 'Incidents' }).waitFor();
    await context.getByRole('heading', { name: 'Recommendations' }).waitFor();
    await context.locator('.state-loading').first().waitFor({ state: 'detached' });
    const shared = faults.faults.nodes.find((f) => f.groupCount > 1);
    if (shared) {
      const [a, b] = shared.groups;
      await page.goto(`${hetu.url}/errors/${a!.id}`);
      await page
        .getByRole('complementary', { name: 'Context' })
        .getByRole('link', { name: `${b!.namespace}/${b!.workload}` })
        .waitFor();
    } else {
      expect(await context.textContent()).toContain('No other group shares this faultKey');
    }
  });

  it('merges a group into another through a command and splits it off again', async () => {
    const ofSearch = await groups({ status: ['open'], namespace: 'shop', workload: 'search' }, 'count');
    expect(ofSearch.length).toBeGreaterThan(1);
    const [target, source] = ofSearch as [Group, Group];
    await page.goto(`${hetu.url}/errors/${target.id}`);
    const merge = page.getByRole('region', { name: 'Merge and split' });
    await merge.getByRole('checkbox', { name: new RegExp(escape(source.title.slice(0, 30))) }).check();
    await merge.getByRole('button', { name: /Merge 1 into this group/ }).click();
    const splitButton = merge.getByRole('button', { name: `Split ${source.title} off` });
    await splitButton.waitFor({ timeout: 20_000 });
    expect((await group(source.id)).mergedInto).toBe(target.id);
    expect((await group(target.id)).mergedChildren).toEqual([source.id]);

    // The merged group's page says where it went.
    await page.goto(`${hetu.url}/errors/${source.id}`);
    await page
      .getByRole('region', { name: 'Merge and split' })
      .getByRole('link', { name: target.title })
      .waitFor();
    await page.goto(`${hetu.url}/errors/${target.id}`);
    await splitButton.click();
    await merge
      .getByRole('checkbox', { name: new RegExp(escape(source.title.slice(0, 30))) })
      .waitFor({ timeout: 20_000 });
    expect((await group(source.id)).mergedInto).toBeNull();
  });

  it('says when a group does not exist, and reaches every control by keyboard', async () => {
    await page.goto(`${hetu.url}/errors/does-not-exist`);
    await page.getByRole('heading', { name: 'Error group not found' }).waitFor();
    const g = (await groups(ALL, 'count'))[0]!;
    await page.goto(`${hetu.url}/errors/${g.id}`);
    await page.getByRole('region', { name: 'Merge and split' }).getByRole('checkbox').first().waitFor();
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const label of [
      'From (UTC)',
      'To (UTC)',
      'Pod',
      'Container',
      'Search',
      `Resolve: ${g.title}`,
      '← Errors',
    ])
      expect(names.some((n) => n.startsWith(label))).toBe(true);
    expect(names.some((n) => n === 'Stack trace' || n === 'Sample message')).toBe(true);
    expect(stops.filter((s) => s.tag !== 'body' && s.name === '')).toEqual([]);
  });

  it('shows the error state with a retry when the API is gone', async () => {
    await page.goto(`${hetu.url}/errors?status=all`);
    await rowIds();
    await hetu.stop();
    await page.getByLabel('Sort by', { exact: true }).selectOption('count');
    await page
      .getByRole('alert')
      .filter({ hasText: 'Could not load this' })
      .first()
      .waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Retry' }).first().waitFor();
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------

interface LlmBody {
  messages: { role: string; content: string }[];
}

/** A local OpenAI-compatible model: every error-group prompt gets one fixed, valid analysis. */
const model: FakeLlmScript = (r) => {
  const system = (r.body as LlmBody).messages[0]!.content;
  if (system.includes('group of application errors'))
    return {
      content: JSON.stringify({
        rootCause: 'The search index does not answer within 5 s.',
        impact: 'Searches fail for every user.',
        fix: 'Scale the search index or raise its timeout.',
        severity: 'high',
        confidence: 0.6,
      }),
    };
  return { content: JSON.stringify({ summary: 'n/a', evidenceIds: [] }) };
};

describe('Error detail with an LLM', () => {
  let live: Hetu;
  let llm: FakeLlmServer;

  beforeAll(async () => {
    llm = await startFakeLlmServer({ script: model });
    live = await startHetu({
      speed: 200,
      args: ['--llm-base-url', llm.baseUrl, '--llm-model', 'fake-model', '--llm-daily-tokens', '100000000'],
    });
  }, 600_000);

  afterAll(async () => {
    await live?.stop();
    await llm?.close();
  });

  it('shows the AI analysis card: root cause, impact, fix, severity, confidence bar and evidence links', async () => {
    // The LLM worker analyses a group when it starts to spike; wait for the first recorded analysis.
    const analysed = async () =>
      (
        await live.gql<{
          errorGroups: { nodes: { id: string; llmAnalysis: { errorGroup: unknown } | null }[] };
        }>(
          `{ errorGroups(filter: { status: [open, resolved, ignored] }, first: 100) { nodes { id llmAnalysis { errorGroup { rootCause } } } } }`,
        )
      ).errorGroups.nodes.find((g) => g.llmAnalysis?.errorGroup)?.id;
    await expect.poll(analysed, { timeout: 150_000, interval: 1000 }).toBeTruthy();
    const id = (await analysed())!;
    const p = await browser.newPage();
    await p.goto(`${live.url}/errors/${id}`);
    const ai = p.getByRole('region', { name: 'AI analysis' });
    await ai.getByText('The search index does not answer within 5 s.').waitFor();
    expect(await ai.textContent()).toContain('Searches fail for every user.');
    expect(await ai.textContent()).toContain('Scale the search index or raise its timeout.');
    expect(await ai.locator('.chip').textContent()).toBe('high');
    const bar = ai.getByRole('progressbar', { name: 'Confidence 60%' });
    expect(await bar.getAttribute('value')).toBe('60');
    expect(await ai.getByRole('link', { name: 'the best sample' }).getAttribute('href')).toBe('#err-sample');
    expect(await ai.getByRole('link', { name: 'the latest occurrences' }).getAttribute('href')).toBe(
      '#err-occurrences',
    );
    expect(await ai.textContent()).toContain('fake-model');
    expect(llm.requests.length).toBeGreaterThan(0);
    await p.close();
  });
});
