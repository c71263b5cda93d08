// `hetu analyze` throughput and peak memory on a generated recording of one large cluster (issue C,
// "Bench": 1 000 000 observations of a 2 000-pod cluster, target ≥ 50 000 observations/s).
// Size: HETU_BENCH_OBS (default 1 000 000) and HETU_BENCH_PODS (default 2 000).
// Run alone: `node bench/analyze.bench.ts`, or `npm run bench -- analyze`.
//
// The recording is generated first, in a child process (so its memory does not count in this
// process's peak), into a temporary gzip file; then `analyze()` runs on it here, with the time of
// each stage taken from its progress callback and the resident set size sampled every 100 ms.
// Figures only: nothing about time is asserted.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../cli/src/commands/analyze.ts';
import { envInt, generateScale, loads } from './util.ts';

const TARGET_OBS_PER_S = 50_000;
const MIB = 1024 * 1024;

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const observations = envInt('HETU_BENCH_OBS', 1_000_000, 1);
  const pods = envInt('HETU_BENCH_PODS', 2000, 10);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-analyze-'));
  const file = join(dir, 'scale.jsonl.gz');
  const figures: Record<string, number> = {};
  try {
    print(`load average before: ${loads()}`);
    let t = performance.now();
    const rec = await generateScale(file, { pods, observations });
    const generateS = (performance.now() - t) / 1000;
    const minutes = (rec.lastTs - rec.firstTs) / 60_000;
    print(
      `recording: ${fmt(rec.observations)} observations of a ${fmt(pods)}-pod cluster ` +
        `(${fmt(rec.watch)} watch, ${fmt(rec.metric)} metric, ${fmt(rec.log)} log) over ` +
        `${minutes.toFixed(1)} min of event time, ${fmt(rec.bytes / MIB, 1)} MiB gzip; generated in ${generateS.toFixed(1)} s`,
    );

    // Peak memory: sampled every 100 ms while analyze runs, and the process's own high-water mark.
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    const marks: { name: string; at: number }[] = [];
    const dataDir = join(dir, 'data');
    t = performance.now();
    let summary: Awaited<ReturnType<typeof analyze>>['summary'];
    let result: Record<string, unknown>;
    try {
      ({ summary, result } = await analyze(file, {
        dataDir,
        progress: { stage: (name) => marks.push({ name, at: performance.now() }) },
      }));
    } finally {
      clearInterval(sampler);
    }
    const end = performance.now();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const wallS = (end - t) / 1000;
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const rate = summary.observations / wallS;
    const logBytes = dirBytes(dataDir);

    print(`analyze: ${fmt(summary.observations)} observations, ${summary.deadLetters} dead letters`);
    print(
      `wall: ${wallS.toFixed(1)} s → ${fmt(rate)} observations/s (${(rate / TARGET_OBS_PER_S).toFixed(3)} × the 50 000/s target)`,
    );
    print(
      `peak RSS: ${fmt(peakRss / MIB)} MiB sampled every 100 ms (${fmt(rssAtStart / MIB)} MiB before analyze), ` +
        `maxRSS ${fmt(maxRss / MIB)} MiB; embedded log on disk ${fmt(logBytes / MIB)} MiB`,
    );
    const counts = ['scores', 'errorGroups', 'anomalies', 'incidents', 'recommendations'].map(
      (k) => `${(result[k] as unknown[] | undefined)?.length ?? 0} ${k}`,
    );
    print(`result: ${counts.join(', ')}`);
    print('');
    print('| stage | s | share |');
    print('|---|---:|---:|');
    const phases: { name: string; s: number }[] = [];
    const first = marks[0]?.at ?? end;
    phases.push({ name: 'ingest (read, encode, append)', s: (first - t) / 1000 });
    for (const [i, m] of marks.entries()) {
      const next = marks[i + 1]?.at ?? end;
      phases.push({
        name: i === marks.length - 1 ? `${m.name} (+ collect, close)` : m.name,
        s: (next - m.at) / 1000,
      });
    }
    for (const p of phases)
      print(`| ${p.name} | ${p.s.toFixed(1)} | ${((p.s / wallS) * 100).toFixed(1)} % |`);
    print('');
    print(`load average after: ${loads()}`);

    figures.observations = summary.observations;
    figures.pods = pods;
    figures.generateS = Number(generateS.toFixed(2));
    figures.wallS = Number(wallS.toFixed(2));
    figures.obsPerS = Math.round(rate);
    figures.ratioToTarget = Number((rate / TARGET_OBS_PER_S).toFixed(4));
    figures.peakRssMiB = Math.round(peakRss / MIB);
    figures.maxRssMiB = Math.round(maxRss / MIB);
    for (const p of phases) figures[`stageS:${p.name.split(' (')[0]}`] = Number(p.s.toFixed(2));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const figures = await bench((line) => console.log(line));
  console.log(`\n<!-- figures: ${JSON.stringify(figures)} -->`);
}
