// `hetu analyze` throughput and peak memory on a generated recording of one large cluster (issue C,
// "Bench": 1 000 000 observations of a 2 000-pod cluster, target ≥ 50 000 observations/s).
// Size: HETU_BENCH_OBS (default 1 000 000) and HETU_BENCH_PODS (default 2 000).
// Run alone: `node bench/analyze.bench.ts`, or `npm run bench -- analyze`.
//
// The recording is generated first, in a child process, into a temporary gzip file; then
// `analyze()` runs on it in a child process of its own per configuration (so each peak memory is
// its own): on one thread, then on two (HETU_BENCH_ANALYZE_THREADS, default "1,2"; the ratio of the
// two is measured in one run). Each child takes the time of every stage from the progress
// callbacks and samples its resident set size every 100 ms (the worker thread's memory is the
// process's too). Figures only: nothing about time is asserted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** What one analyze run measured (printed by the child as one JSON line). */
interface Run {
  threads: 1 | 2;
  observations: number;
  deadLetters: number;
  wallS: number;
  /** CPU time of the child process (user + system, every thread) during analyze. */
  cpuS: number;
  /** Seconds from the start: the end of the ingest, and each stage's start and end. */
  ingestS: number;
  stages: { name: string; from: number; to: number }[];
  rssBeforeMiB: number;
  peakRssMiB: number;
  maxRssMiB: number;
  logMiB: number;
  counts: Record<string, number>;
}

/** The child: one analyze of `file` on `threads` threads, its figures on stdout. */
async function child(file: string, threads: 1 | 2, dataDir: string): Promise<Run> {
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const began = new Map<string, number>();
  const stages: Run['stages'] = [];
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  const rel = () => (performance.now() - t) / 1000;
  let ingestS: number | undefined;
  let out: Awaited<ReturnType<typeof analyze>>;
  try {
    out = await analyze(file, {
      dataDir,
      threads,
      // The bench's directory (to measure the log's size) is deleted after it, as `hetu analyze`
      // deletes its temporary one: no fsync and no changelogs, as there.
      durability: 'off',
      changelogs: false,
      progress: {
        stage: (name) => {
          ingestS ??= rel();
          began.set(name, rel());
        },
        stageDone: (name) => stages.push({ name, from: began.get(name)!, to: rel() }),
      },
    });
  } finally {
    clearInterval(sampler);
  }
  const wallS = rel();
  const cpu = process.cpuUsage(cpu0);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const counts: Record<string, number> = {};
  for (const k of ['scores', 'errorGroups', 'anomalies', 'incidents', 'recommendations'])
    counts[k] = (out.result[k] as unknown[] | undefined)?.length ?? 0;
  return {
    threads,
    observations: out.summary.observations,
    deadLetters: out.summary.deadLetters,
    wallS,
    cpuS: (cpu.user + cpu.system) / 1e6,
    ingestS: ingestS ?? wallS,
    stages: stages.sort((a, b) => a.from - b.from),
    rssBeforeMiB: rssBefore / MIB,
    peakRssMiB: peakRss / MIB,
    maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MIB,
    logMiB: dirBytes(dataDir) / MIB,
    counts,
  };
}

function runChild(file: string, threads: 1 | 2, dataDir: string): Promise<Run> {
  const self = fileURLToPath(import.meta.url);
  const p = spawn(process.execPath, [self, '--run', file, String(threads), dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`The analyze child (${threads} threads) exited with status ${code}.`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Run);
    });
  });
}

export async function bench(print: (line: string) => void): Promise<Record<string, number>> {
  const observations = envInt('HETU_BENCH_OBS', 1_000_000, 1);
  const pods = envInt('HETU_BENCH_PODS', 2000, 10);
  const configs = (process.env.HETU_BENCH_ANALYZE_THREADS ?? '1,2')
    .split(',')
    .map((t) => (t.trim() === '1' ? 1 : 2) as 1 | 2);
  const dir = mkdtempSync(join(tmpdir(), 'hetu-bench-analyze-'));
  const file = join(dir, 'scale.jsonl.gz');
  const figures: Record<string, number> = {};
  try {
    print(`load average before: ${loads()}`);
    const t = performance.now();
    const rec = await generateScale(file, { pods, observations });
    const generateS = (performance.now() - t) / 1000;
    const minutes = (rec.lastTs - rec.firstTs) / 60_000;
    print(
      `recording: ${fmt(rec.observations)} observations of a ${fmt(pods)}-pod cluster ` +
        `(${fmt(rec.watch)} watch, ${fmt(rec.metric)} metric, ${fmt(rec.log)} log) over ` +
        `${minutes.toFixed(1)} min of event time, ${fmt(rec.bytes / MIB, 1)} MiB gzip; generated in ${generateS.toFixed(1)} s`,
    );
    figures.observations = rec.observations;
    figures.pods = pods;
    figures.generateS = Number(generateS.toFixed(2));
    const walls = new Map<number, number>();
    for (const [i, threads] of configs.entries()) {
      const dataDir = join(dir, `data-${i}`);
      const r = await runChild(file, threads, dataDir);
      rmSync(dataDir, { recursive: true, force: true });
      walls.set(threads, r.wallS);
      const rate = r.observations / r.wallS;
      print('');
      print(
        `analyze on ${threads} thread${threads === 1 ? '' : 's'} (load average after: ${loads()}): ${fmt(r.observations)} observations, ${r.deadLetters} dead letters`,
      );
      print(
        `wall: ${r.wallS.toFixed(1)} s → ${fmt(rate)} observations/s (${(rate / TARGET_OBS_PER_S).toFixed(3)} × the 50 000/s target)`,
      );
      // CPU time is the like-for-like figure on a shared machine (wall time also measures the load).
      print(
        `CPU (user + system, all threads): ${r.cpuS.toFixed(1)} s → ${fmt(r.observations / r.cpuS)} observations per CPU-second`,
      );
      print(
        `peak RSS: ${fmt(r.peakRssMiB)} MiB sampled every 100 ms (${fmt(r.rssBeforeMiB)} MiB before analyze), ` +
          `maxRSS ${fmt(r.maxRssMiB)} MiB; embedded log on disk ${fmt(r.logMiB)} MiB`,
      );
      print(
        `result: ${Object.entries(r.counts)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}`,
      );
      print('');
      print('| stage | from s | to s | s |');
      print('|---|---:|---:|---:|');
      print(`| ingest (read, encode, append) | 0.0 | ${r.ingestS.toFixed(1)} | ${r.ingestS.toFixed(1)} |`);
      for (const s of r.stages)
        print(`| ${s.name} | ${s.from.toFixed(1)} | ${s.to.toFixed(1)} | ${(s.to - s.from).toFixed(1)} |`);
      const last = r.stages.reduce((m, s) => Math.max(m, s.to), r.ingestS);
      print(
        `| (final read of the facts, close) | ${last.toFixed(1)} | ${r.wallS.toFixed(1)} | ${(r.wallS - last).toFixed(1)} |`,
      );
      const key = `threads${threads}`;
      figures[`${key}:wallS`] = Number(r.wallS.toFixed(2));
      figures[`${key}:cpuS`] = Number(r.cpuS.toFixed(2));
      figures[`${key}:obsPerS`] = Math.round(rate);
      figures[`${key}:ratioToTarget`] = Number((rate / TARGET_OBS_PER_S).toFixed(4));
      figures[`${key}:peakRssMiB`] = Math.round(r.peakRssMiB);
      figures[`${key}:maxRssMiB`] = Math.round(r.maxRssMiB);
      figures[`${key}:ingestS`] = Number(r.ingestS.toFixed(2));
      for (const s of r.stages) figures[`${key}:stageS:${s.name}`] = Number((s.to - s.from).toFixed(2));
    }
    print('');
    if (walls.has(1) && walls.has(2))
      print(`two threads ÷ one thread, wall time: ${(walls.get(2)! / walls.get(1)!).toFixed(2)}`);
    print(`load average after: ${loads()}`);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  if (process.argv[2] === '--run') {
    const [file, threads, dataDir] = process.argv.slice(3) as [string, string, string];
    const r = await child(file, threads === '1' ? 1 : 2, dataDir);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    const figures = await bench((line) => console.log(line));
    console.log(`\n<!-- figures: ${JSON.stringify(figures)} -->`);
  }
}
