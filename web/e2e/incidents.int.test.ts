/**
 * The Incidents and Incident detail pages in Chromium against `hetu start` (no route stubs):
 *
 * - with the demo played through: the list by status as the API has it, filters in the URL, the
 *   detail's RCA (root cause, confidence and derivation, causal chain linked to the evidence,
 *   remediation, blast radius) and signal timeline, a status change round-tripping through a
 *   command, the keyboard reaching every control, a phone-sized dark page, the error state;
 * - with the demo paced (`--speed`) and a local OpenAI-compatible server that records requests:
 *   a new incident appearing on an open page without a reload (incidentChanged → TanStack cache),
 *   the LLM's recorded analysis with its citations, regenerate with live progress, and a question
 *   answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  startFakeLlmServer,
  type FakeLlmRequest,
  type FakeLlmScript,
  type FakeLlmServer,
} from '@hetu/producers/llm';
import { openBrowser, startHetu, tabCycle, type Hetu, type OpenBrowser } from './harness.ts';

interface Row {
  id: string;
  title: string;
  status: string;
  severity: string;
}

const LIST = `query ($filter: IncidentFilter) {
  incidents(filter: $filter, first: 200) { totalCount nodes { id title status severity } }
}`;

const DETAIL = `query ($id: ID!) {
  incident(id: $id) {
    id title status severity
    signals { key kind }
    rca {
      category summary confidence
      rootCause { kind namespace name }
      derivation { factor weight }
      chain { step evidence }
      evidence { id excerpt position { topic partition offset } }
      remediation { step }
      blastRadius { workloads { name } pods { name } namespaces }
    }
  }
}`;

interface Detail {
  id: string;
  title: string;
  status: string;
  severity: string;
  signals: { key: string; kind: string }[];
  rca: {
    category: string;
    summary: string;
    confidence: number;
    rootCause: { kind: string; namespace: string; name: string };
    derivation: { factor: string; weight: number }[];
    chain: { step: string; evidence: string[] }[];
    evidence: {
      id: string;
      excerpt: string;
      position: { topic: string; partition: number; offset: string } | null;
    }[];
    remediation: { step: string }[];
    blastRadius: { workloads: { name: string }[]; pods: { name: string }[]; namespaces: string[] };
  } | null;
}

/**
 * Text below WCAG AA contrast (4.5:1) on the page's main content: every element with its own text,
 * its colour against the first opaque background behind it. Returns "text (ratio)" of each.
 */
const LOW_CONTRAST = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length === 3 || c[3] > 0.9)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('main *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('.visually-hidden, .u-legend, option')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const a = lum(rgb(getComputedStyle(el).color));
    const b = lum(bgOf(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.push(el.textContent.trim().slice(0, 40) + ' (' + ratio.toFixed(2) + ')');
  }
  return [...new Set(out)];
})()`;

/** The incident ids on screen, in order, once the list (or its empty state) has loaded. */
async function rowIds(page: Page): Promise<string[]> {
  await page.locator('[data-incident-id], .state-empty').first().waitFor();
  return page
    .locator('[data-incident-id]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-incident-id')!));
}

describe('Incidents with the demo played through', () => {
  let hetu: Hetu;
  let browser: OpenBrowser;
  let page: Page;

  const list = async (filter: Record<string, unknown> = {}) =>
    (await hetu.gql<{ incidents: { totalCount: number; nodes: Row[] } }>(LIST, { filter })).incidents;
  const detail = async (id: string) => (await hetu.gql<{ incident: Detail }>(DETAIL, { id })).incident;

  beforeAll(async () => {
    hetu = await startHetu();
    browser = await openBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await hetu?.stop();
  });

  it('lists incidents by status as the API has them, with the counts per status', async () => {
    const active = await list({ status: ['open', 'investigating'] });
    const all = await list();
    const resolved = await list({ status: ['resolved'] });
    expect(active.nodes.length).toBeGreaterThan(3);
    expect(resolved.nodes.length).toBeGreaterThan(0);

    await page.goto(`${hetu.url}/incidents`);
    expect(await rowIds(page)).toEqual(active.nodes.map((i) => i.id));
    const tabs = page.getByRole('navigation', { name: 'Incident status' });
    expect(await tabs.getByRole('link', { name: /^Active/ }).textContent()).toBe(
      `Active ${active.totalCount}`,
    );
    expect(await tabs.getByRole('link', { name: /^All/ }).textContent()).toBe(`All ${all.totalCount}`);
    expect(await tabs.getByRole('link', { name: /^Active/ }).getAttribute('aria-current')).toBe('page');

    // One row in full: severity chip, title link, status.
    const first = active.nodes[0]!;
    const row = page.locator(`[data-incident-id="${first.id}"]`);
    expect(await row.locator('.chip').first().textContent()).toBe(first.severity);
    expect(await row.getByRole('link').textContent()).toBe(first.title);

    // The status tab is in the URL, and the URL alone gives the same list (deep link).
    await tabs.getByRole('link', { name: /^Resolved/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('resolved');
    await expect.poll(() => rowIds(page)).toEqual(resolved.nodes.map((i) => i.id));
    const fresh = await browser.newPage();
    await fresh.goto(`${hetu.url}/incidents?status=all`);
    expect(await rowIds(fresh)).toEqual(all.nodes.map((i) => i.id));
    await fresh.close();
  });

  it('filters by severity and search through the URL', async () => {
    const critical = await list({ status: ['open', 'investigating'], severity: ['critical'] });
    expect(critical.nodes.length).toBeGreaterThan(0);
    await page.goto(`${hetu.url}/incidents`);
    await rowIds(page);
    await page.getByRole('checkbox', { name: 'critical' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('severity')).toBe('critical');
    await expect.poll(() => rowIds(page)).toEqual(critical.nodes.map((i) => i.id));

    await page.goto(`${hetu.url}/incidents?status=all`);
    await rowIds(page);
    await page.getByLabel('Search', { exact: true }).fill('checkout');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('checkout');
    const hits = await list({ search: 'checkout' });
    expect(hits.nodes.length).toBeGreaterThan(0);
    await expect.poll(() => rowIds(page)).toEqual(hits.nodes.map((i) => i.id));

    // Nothing matches: the empty state says so.
    await page.goto(`${hetu.url}/incidents?status=dismissed`);
    expect(await rowIds(page)).toEqual([]);
    expect(await page.locator('.state-empty').textContent()).toContain('No dismissed incidents');
  });

  it('shows the deterministic RCA: root cause, confidence and its derivation, chain linked to evidence, remediation, blast radius', async () => {
    const { nodes } = await list();
    const withRca = await Promise.all(nodes.map((n) => detail(n.id)));
    const inc = withRca.find((d) => d.rca && d.rca.chain.some((s) => s.evidence.length > 0))!;
    expect(inc).toBeDefined();
    const rca = inc.rca!;
    await page.goto(`${hetu.url}/incidents/${inc.id}`);
    await page.getByRole('heading', { name: inc.title }).waitFor();
    const root = page.getByRole('region', { name: 'Root cause' });
    expect(await root.locator('.inc-rc-summary').textContent()).toBe(rca.summary);
    expect(await root.textContent()).toContain(
      `${rca.rootCause.kind} ${rca.rootCause.namespace}/${rca.rootCause.name}`,
    );
    expect(await root.textContent()).toContain(rca.category);
    const pct = Math.round(rca.confidence * 100);
    expect(await root.getByRole('meter', { name: 'Confidence' }).getAttribute('value')).toBe(String(pct));
    expect(await root.textContent()).toContain(`${pct} %`);
    const factors = root.locator('.inc-derivation tbody tr');
    expect(await factors.count()).toBe(rca.derivation.length + 1);
    expect(await factors.first().textContent()).toBe(
      `${rca.derivation[0]!.factor}+${rca.derivation[0]!.weight}`,
    );

    const chain = page.getByRole('region', { name: 'Causal chain' }).locator('ol > li');
    expect(await chain.count()).toBe(rca.chain.length);
    const step = rca.chain.find((s) => s.evidence.length > 0)!;
    const cited = step.evidence[0]!;
    const ev = rca.evidence.find((e) => e.id === cited)!;
    await page
      .getByRole('region', { name: 'Causal chain' })
      .getByRole('link', { name: cited })
      .first()
      .click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#evidence-${cited}`);
    const evRow = page.locator(`[id="evidence-${cited}"]`);
    expect(await evRow.locator('.inc-excerpt').textContent()).toBe(ev.excerpt);
    expect(await evRow.locator('td').last().textContent()).toBe(
      `${ev.position!.topic}/${ev.position!.partition}@${ev.position!.offset}`,
    );
    expect(await page.locator('.inc-evidence tbody tr').count()).toBe(rca.evidence.length);

    expect(await page.getByRole('region', { name: 'Remediation' }).locator('ol > li').count()).toBe(
      rca.remediation.length,
    );
    const blast = await page.getByRole('region', { name: 'Blast radius' }).textContent();
    expect(blast).toContain(`Pods (${rca.blastRadius.pods.length})`);
    expect(blast).toContain(`Workloads (${rca.blastRadius.workloads.length})`);
    for (const p of rca.blastRadius.pods) expect(blast).toContain(p.name);
  });

  it('shows the signal timeline in its own tab, kept in the URL', async () => {
    const { nodes } = await list();
    const inc = await detail(nodes[0]!.id);
    await page.goto(`${hetu.url}/incidents/${inc.id}`);
    await page.getByRole('tab', { name: /^Signal timeline/ }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('tab')).toBe('timeline');
    await expect
      .poll(() => page.getByRole('tab', { name: /^Signal timeline/ }).getAttribute('aria-selected'))
      .toBe('true');
    expect(await page.locator('.inc-signal').count()).toBe(inc.signals.length);
    const kinds = await page.locator('.inc-signal-head strong').allTextContents();
    expect(kinds.sort()).toEqual(inc.signals.map((s) => s.kind).sort());

    // Deep link to the tab; without an LLM the analysis tab says how to get one.
    await page.goto(`${hetu.url}/incidents/${inc.id}?tab=llm`);
    await page.getByRole('region', { name: 'LLM analysis' }).waitFor();
    expect(await page.getByRole('region', { name: 'LLM analysis' }).textContent()).toContain(
      'No LLM analysis of this incident yet',
    );
  });

  it('changes the status through a command: mutation → command → processors → projection → page', async () => {
    const { nodes } = await list({ status: ['open'] });
    const target = nodes[nodes.length - 1]!;
    await page.goto(`${hetu.url}/incidents/${target.id}`);
    const status = page.getByTestId('incident-status');
    expect(await status.textContent()).toBe('open');
    await page.getByRole('button', { name: 'Start investigating' }).click();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toBe('investigating');
    expect(await page.getByRole('status').filter({ hasText: 'Status saved.' }).count()).toBe(1);
    // The projection holds it, and the command is in the log.
    expect((await detail(target.id)).status).toBe('investigating');
    const cmds = await hetu.gql<{ pipeline: { recentCommands: { type: string; targetIds: string[] }[] } }>(
      `{ pipeline { recentCommands(first: 5) { type targetIds } } }`,
    );
    expect(
      cmds.pipeline.recentCommands.some(
        (c) => c.type === 'incident.set-status' && c.targetIds.includes(target.id),
      ),
    ).toBe(true);
    // The list's Investigating tab shows it.
    await page.goto(`${hetu.url}/incidents?status=investigating`);
    expect(await rowIds(page)).toEqual([target.id]);

    // And back: resolve it from the detail page.
    await page.goto(`${hetu.url}/incidents/${target.id}`);
    await page.getByRole('button', { name: 'Resolve' }).click();
    await expect
      .poll(() => page.getByTestId('incident-status').textContent(), { timeout: 30_000 })
      .toBe('resolved');
    expect((await detail(target.id)).status).toBe('resolved');
  });

  it('lets the keyboard reach every control, each with a name', async () => {
    await page.goto(`${hetu.url}/incidents`);
    await rowIds(page);
    const stops = await tabCycle(page);
    const names = stops.map((s) => s.name);
    for (const n of ['Skip to content', 'Incidents', 'critical', 'low', 'Search'])
      expect(names.some((x) => x === n)).toBe(true);
    expect(names.some((x) => x.startsWith('Resolved'))).toBe(true);
    const { nodes } = await list({ status: ['open', 'investigating'] });
    for (const i of nodes) expect(names).toContain(i.title);
    // Every control reached has a name and can be seen (the document body, where focus wraps, is not a control).
    expect(stops.filter((s) => s.tag !== 'body' && !(s.name.length > 0 && s.visible))).toEqual([]);

    const { nodes: open } = await list({ status: ['open'] });
    await page.goto(`${hetu.url}/incidents/${open[0]!.id}?tab=llm`);
    await page.getByRole('region', { name: 'Ask about this incident' }).waitFor();
    const detailStops = (await tabCycle(page)).map((s) => s.name);
    for (const n of [
      'Start investigating',
      'Resolve',
      'Dismiss',
      'Root cause',
      'LLM analysis',
      'Regenerate analysis',
    ])
      expect(detailStops).toContain(n);
    expect(detailStops.some((n) => n.startsWith('Signal timeline'))).toBe(true);
    expect(detailStops).toContain('Your question (at most 2 000 characters)');

    // Keyboard only: focus the tab and press Enter.
    await page.getByRole('tab', { name: 'Root cause' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('tab')).toBe('rca');
    await page.getByRole('region', { name: 'Causal chain' }).waitFor();
  });

  it('fits a phone in the dark theme', async () => {
    const phone = await browser.newPage({ theme: 'dark', viewport: { width: 390, height: 844 } });
    const { nodes } = await list();
    await phone.goto(`${hetu.url}/incidents/${nodes[0]!.id}`);
    await phone.getByRole('region', { name: 'Root cause' }).waitFor();
    expect(await phone.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const bg = await phone.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(13, 17, 23)');
    await phone.goto(`${hetu.url}/incidents?status=all`);
    await rowIds(phone);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('keeps WCAG AA contrast for text on every page, light and dark', async () => {
    const { nodes } = await list();
    for (const theme of ['light', 'dark'] as const) {
      const p = await browser.newPage({ theme });
      for (const path of [
        '/incidents?status=all',
        `/incidents/${nodes[0]!.id}`,
        `/incidents/${nodes[0]!.id}?tab=timeline`,
        `/incidents/${nodes[0]!.id}?tab=llm`,
        '/anomalies',
        '/recommendations?status=all',
      ]) {
        await p.goto(`${hetu.url}${path}`);
        await p.locator('h1').first().waitFor();
        await p.locator('[role=status].state-loading').first().waitFor({ state: 'detached' });
        const low = await p.evaluate(LOW_CONTRAST);
        expect({ theme, path, low }).toEqual({ theme, path, low: [] });
      }
      await p.close();
    }
  });

  it('shows the error state when the API is gone', async () => {
    await page.goto(`${hetu.url}/incidents`);
    await rowIds(page);
    await hetu.stop();
    await page.getByRole('link', { name: /^Dismissed/ }).click();
    await page.getByRole('alert').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('alert').textContent()).toContain('Could not load this.');
    await page.getByRole('alert').getByRole('button', { name: 'Retry' }).waitFor();
  });
});

// ---------------------------------------------------------------------------------------------

interface Body {
  messages: { role: string; content: string }[];
}
const systemOf = (r: FakeLlmRequest) => (r.body as Body).messages[0]!.content;
const userOf = (r: FakeLlmRequest) => (r.body as Body).messages[1]!.content;
const SUMMARY = 'The fake model agrees with the deterministic analysis.';
const ANSWER = 'Because the container kept growing until the kernel killed it.';

/** A model that answers every prompt with a valid answer citing the prompt's first evidence ids. */
const model: FakeLlmScript = (r) => {
  const system = systemOf(r);
  const ids = [...userOf(r).matchAll(/"id":"(ev-[0-9a-f]+)"/g)].map((m) => m[1]!);
  if (system.includes('group of application errors'))
    return {
      content: JSON.stringify({
        rootCause: 'An upstream dependency fails.',
        impact: 'Requests fail.',
        fix: 'Restore the dependency.',
        severity: 'high',
        confidence: 0.6,
      }),
    };
  if (system.includes("operator's question"))
    return { content: JSON.stringify({ answer: ANSWER, evidenceIds: ids.slice(0, 1) }) };
  return {
    content: JSON.stringify({
      summary: `${SUMMARY} (call ${r.index})`,
      rootCause: { description: 'As the deterministic analysis says.', confidence: 0.7 },
      contributingFactors: ['A limit set below the working set.'],
      remediation: [{ step: 'Raise the memory limit.', risk: 'low', automatable: true, effort: 'low' }],
      preventiveMeasures: ['Alert on memory near the limit.'],
      evidenceIds: ids.slice(0, 2),
    }),
  };
};

describe('Incidents live, with an LLM', () => {
  let hetu: Hetu;
  let browser: OpenBrowser;
  let llm: FakeLlmServer;

  beforeAll(async () => {
    llm = await startFakeLlmServer({ script: model });
    hetu = await startHetu({
      speed: 30,
      args: ['--llm-base-url', llm.baseUrl, '--llm-model', 'fake-model', '--llm-daily-tokens', '100000000'],
    });
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await hetu?.stop();
    await llm?.close();
  });

  it('shows a new incident without a reload, then its recorded LLM analysis, regenerate progress and an answer', async () => {
    const page = await browser.newPage();
    await page.goto(`${hetu.url}/incidents?status=all`);
    const before = await rowIds(page);
    await page.evaluate(() => ((window as unknown as { hetuMarker: string }).hetuMarker = 'same document'));

    // The paced demo opens incidents while the page is watching: a row appears, no navigation.
    await expect
      .poll(async () => (await rowIds(page)).filter((id) => !before.includes(id)).length, {
        timeout: 150_000,
      })
      .toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { hetuMarker?: string }).hetuMarker)).toBe(
      'same document',
    );
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    const id = (await rowIds(page)).find((x) => !before.includes(x))!;

    // The LLM worker asks the fake model about it; the analysis tab shows the recorded answer.
    // (A fresh load: web/dist may have been rebuilt since this page loaded its chunks.)
    expect(await page.locator(`[data-incident-id="${id}"]`).getByRole('link').getAttribute('href')).toBe(
      `/incidents/${id}`,
    );
    await page.goto(`${hetu.url}/incidents/${id}`);
    await page.getByRole('tab', { name: 'LLM analysis' }).click();
    const card = page.getByRole('region', { name: 'LLM analysis' });
    await expect.poll(() => card.textContent(), { timeout: 120_000 }).toContain(SUMMARY);
    expect(await card.textContent()).toContain('model fake-model');
    expect(await card.locator('.chip', { hasText: 'recorded' }).count()).toBe(1);
    expect(await card.textContent()).toContain('every citation checked');
    const recorded = await hetu.gql<{
      incident: {
        llmAnalysis: { incident: { summary: string; evidenceIds: string[] } };
        rca: { evidence: { id: string }[] };
      };
    }>(
      `query ($id: ID!) { incident(id: $id) { llmAnalysis { incident { summary evidenceIds } } rca { evidence { id } } } }`,
      {
        id,
      },
    );
    const analysis = recorded.incident.llmAnalysis.incident;
    // The page shows the projection's latest answer (polled: more answers may arrive as the incident grows).
    await expect
      .poll(async () => {
        const d = await hetu.gql<{ incident: { llmAnalysis: { incident: { summary: string } } } }>(
          `query ($id: ID!) { incident(id: $id) { llmAnalysis { incident { summary } } } }`,
          { id },
        );
        return (
          (await card.locator('.inc-llm-summary').textContent()) === d.incident.llmAnalysis.incident.summary
        );
      })
      .toBe(true);
    // The model saw the prompt the page's citations come from.
    expect(llm.chatRequests().some((r) => userOf(r).includes(analysis.evidenceIds[0]!))).toBe(true);
    const citations = card.locator('.inc-citations');
    for (const ev of analysis.evidenceIds) expect(await citations.textContent()).toContain(ev);
    const rcaIds = new Set(recorded.incident.rca.evidence.map((e) => e.id));
    const linked = analysis.evidenceIds.find((e) => rcaIds.has(e));
    if (linked) {
      await citations.getByRole('link', { name: linked }).click();
      await expect.poll(() => new URL(page.url()).searchParams.get('tab')).toBe('rca');
      await page.locator(`[id="evidence-${linked}"]`).waitFor();
      await page.getByRole('tab', { name: 'LLM analysis' }).click();
    }

    // Regenerate: the progress shows the request and the recorded analysis as they happen.
    const calls = llm.chatRequests().length;
    await page.getByRole('button', { name: 'Regenerate analysis' }).click();
    const progress = page.locator('.inc-progress-list');
    await expect
      .poll(() => progress.textContent(), { timeout: 120_000 })
      .toContain('Request queued for the LLM');
    await expect
      .poll(() => progress.textContent(), { timeout: 120_000 })
      .toContain('LLM analysis (regenerate): recorded');
    expect(llm.chatRequests().length).toBeGreaterThan(calls);

    // Ask: the question goes to the model, the answer shows under it.
    const question = 'Why did the pod run out of memory?';
    await page.getByLabel('Your question (at most 2 000 characters)').fill(question);
    await page.getByRole('button', { name: 'Ask', exact: true }).click();
    const asked = page.getByRole('region', { name: 'Ask about this incident' });
    await expect.poll(() => asked.textContent(), { timeout: 120_000 }).toContain(ANSWER);
    expect(await asked.locator('.inc-question').first().textContent()).toContain(question);
    expect(
      llm
        .chatRequests()
        .some((r) => systemOf(r).includes("operator's question") && userOf(r).includes(question)),
    ).toBe(true);
  });
});
