// The dashboard's budgets (issue F): the initial JavaScript (gzip) and the first meaningful paint
// of the Overview over loopback. Figures only: nothing is asserted; docs/benchmarks.md records them.
//
// Initial JS: the Vite manifest's entry chunk (index.html) and every chunk it imports statically,
// each gzipped (zlib level 9, what a server that compresses would send at best; level 6 too).
// Lazy pages (dynamic imports) are not initial.
//
// First meaningful paint: the real `hetu start` (web/e2e/harness.ts, the demo played), Chromium
// headless, a new browser context per run (empty cache): the time from navigation start until
// the cluster score's number is in the document (a MutationObserver records performance.now()),
// and Chromium's first-contentful-paint. Warm: the same page reloaded (assets from cache).
// Runs: HETU_BENCH_WEB_RUNS (default 20).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { constants, gzipSync } from 'node:zlib';
import { ROOT, buildWebOnce, openBrowser, startHetu } from '../web/e2e/harness.ts';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const DIST = join(ROOT, 'web', 'dist');

/** The initial chunks: the entry and its static imports, transitively. */
export function initialChunks(manifest: Record<string, ManifestChunk>): { js: string[]; css: string[] } {
  const entry = Object.entries(manifest).find(([, c]) => c.isEntry);
  if (!entry) throw new Error('The Vite manifest has no entry chunk: build with `npm run build:web`.');
  const seen = new Set<string>();
  const css = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const c = manifest[key]!;
    for (const f of c.css ?? []) css.add(f);
    for (const i of c.imports ?? []) visit(i);
  };
  visit(entry[0]);
  return { js: [...seen].map((k) => manifest[k]!.file), css: [...css] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

/** The page's global with the mark (typed without DOM: this file is type-checked for Node). */
type Marked = { __hetuFmp?: number };

const MARK = `
  new MutationObserver((_, obs) => {
    if (document.querySelector('[data-testid=cluster-score] .score-number')) {
      window.__hetuFmp = performance.now();
      obs.disconnect();
    }
  }).observe(document, { subtree: true, childList: true });
`;

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const runs = Number(process.env.HETU_BENCH_WEB_RUNS ?? 20);
  buildWebOnce();
  const manifest = JSON.parse(readFileSync(join(DIST, '.vite', 'manifest.json'), 'utf8')) as Record<
    string,
    ManifestChunk
  >;
  const { js, css } = initialChunks(manifest);
  let raw = 0;
  let gz9 = 0;
  let gz6 = 0;
  for (const f of js) {
    const b = readFileSync(join(DIST, f));
    raw += b.length;
    gz9 += gzipSync(b, { level: constants.Z_BEST_COMPRESSION }).length;
    gz6 += gzipSync(b, { level: 6 }).length;
  }
  const cssGz = css.reduce((a, f) => a + gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length, 0);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  print(`initial JavaScript: ${js.length} chunk(s) (${js.join(', ')})`);
  print(
    `  raw ${kb(raw)}, gzip -9 **${kb(gz9)}**, gzip -6 ${kb(gz6)} (budget 300 KB gzip); CSS gzip ${kb(cssGz)}`,
  );

  print(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const hetu = await startHetu();
  const browser = await openBrowser();
  const cold: number[] = [];
  const warm: number[] = [];
  const fcp: number[] = [];
  try {
    for (let i = 0; i < runs + 1; i++) {
      const context = await browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addInitScript(MARK);
      const page = await context.newPage();
      await page.goto(hetu.url);
      await page.waitForFunction(() => (globalThis as Marked).__hetuFmp !== undefined);
      const t = await page.evaluate<number>('window.__hetuFmp');
      const f = await page.evaluate<number>(
        `performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN`,
      );
      await page.reload();
      await page.waitForFunction(() => (globalThis as Marked).__hetuFmp !== undefined);
      const w = await page.evaluate<number>('window.__hetuFmp');
      await context.close();
      if (i === 0) continue; // the first run warms the server (query plans, JIT)
      cold.push(t);
      warm.push(w);
      fcp.push(f);
    }
  } finally {
    await browser.close();
    await hetu.stop();
  }
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  print(`Overview, cluster score in the document, ${runs} runs over loopback (after one warm-up):`);
  print(
    `  cold (new context, empty cache): median **${ms(median(cold))}**, p90 ${ms(quantile(cold, 0.9))}, max ${ms(Math.max(...cold))} (budget 1 s)`,
  );
  print(`  warm (reload, assets cached): median ${ms(median(warm))}, p90 ${ms(quantile(warm, 0.9))}`);
  print(`  first-contentful-paint (cold): median ${ms(median(fcp))}`);
  print(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  return {
    initialJsRawBytes: raw,
    initialJsGzip9Bytes: gz9,
    initialJsGzip6Bytes: gz6,
    initialCssGzipBytes: cssGz,
    fmpColdMedianMs: median(cold),
    fmpColdP90Ms: quantile(cold, 0.9),
    fmpWarmMedianMs: median(warm),
    fcpColdMedianMs: median(fcp),
  };
}
